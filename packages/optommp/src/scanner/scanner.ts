// Scanner: many OptoMMP devices × point groups, each group read at its own period.
//
// - Each group's points become block reads (planBlocks): neighbours share a read within the device's
//   block limit. A scan reads its blocks (concurrently: pipelined when the device's window allows).
// - One timer drives every schedule. Scan k of a group is due at start + k · period, so the schedule does
//   not drift. A slot that comes while the previous scan still runs starts as soon as that one ends (late);
//   further slots in the meantime are missed (counted): scans never queue up.
// - Every device has its own connection and its own state, so a dead or slow device only delays itself:
//   nothing anywhere waits for a device's replies but that device's own scans.
// - Health per device: `ok`, `reconnecting` (its connection failed: scans resume after a growing,
//   jittered backoff, never faster) or `stale` (connected, but no good scan for several periods), each
//   with the error that caused it. A device that mishandles pipelined requests falls back to one request
//   at a time.
// - Values carry the time their reply arrived; with `report: 'on-change'` a group reports only values
//   that moved by more than its deadband.

import { EventEmitter } from 'node:events';
import { type Logger, silentLogger, TimeoutError, viewOf } from '@labwire/framing';
import { type BackoffOptions, backoffDelay, ConnectionError } from '@labwire/tcp';
import { OptoMmpClient } from '../client';
import type { OptoMmpClientOptions } from '../client-options';
import { PipelineDesyncError } from '../errors';
import { watchPointName } from '../watch';
import type { FleetConfig, ScanDeviceConfig, ScanGroupConfig } from './fleet-file';
import { Histogram } from './histogram';
import { type Block, planBlocks } from './plan';

type HealthState = DeviceHealth['state'];

export interface DeviceHealth {
  state: 'ok' | 'reconnecting' | 'stale';
  /** Why the device is not `ok`: the error of its last failed scan (typed: ConnectRefusedError, …). */
  cause: Error | undefined;
  /** When the device entered this state (ms since the epoch). */
  since: number;
  /** When its last good scan completed (ms since the epoch), if ever. */
  lastGoodAt: number | undefined;
  /** Requests in flight at once on its connection now (1 after a fallback from pipelining). */
  window: number;
}

/** The values of one scan of one group. */
export interface ScanReport {
  device: string;
  group: string;
  /** 0, 1, 2, … per group: the schedule slot this scan filled. */
  sequence: number;
  /** When the last reply of the scan arrived (ms since the epoch, sub-millisecond). */
  time: number;
  /** Every value, or with `report: 'on-change'` those that changed beyond the deadband. */
  values: {
    /** The point's name (`analog 2/5`, or the name the configuration gave it). */
    point: string;
    value: number | boolean;
  }[];
}

export interface HealthEvent {
  device: string;
  health: DeviceHealth;
  previous: 'ok' | 'reconnecting' | 'stale';
}

/** The slot counts of one group (see ScannerStats.devices). */
type GroupScanStats = ScannerStats['devices'][string]['groups'][string];

export interface ScannerStats {
  /** Scans that completed with values. */
  scans: number;
  /** Scans that failed (the cause is in the device's health). */
  failed: number;
  /**
   * Slots that passed without a scan: a second slot while a scan overran (the first one waits for it), or
   * slots the process was too busy to see.
   */
  missed: number;
  /** Scans not attempted while the device waited out a reconnect backoff. */
  skipped: number;
  /** Read requests sent. */
  requests: number;
  /** Response bytes received (headers included). */
  bytes: number;
  /** How late scans started after their due time, ms. */
  lateness: {
    /** Samples recorded. */
    count: number;
    /** Median, ms (upper edge of its bucket). */
    p50: number;
    /** 99th percentile, ms (upper edge of its bucket). */
    p99: number;
    max: number;
  };
  /** From a scan's start to its last reply, ms (the same quantiles as `lateness`). */
  duration: ScannerStats['lateness'];
  /** Times the device's pipelined link went out of step. */
  desyncs: number;
  /** Times the device was switched from pipelining to one request at a time. */
  windowFallbacks: number;
  /** Per device, with its groups' slot counts. */
  devices: Record<
    string,
    Omit<ScannerStats, 'devices'> & {
      /** Per group: its slots. */
      groups: Record<
        string,
        {
          /** Scans that completed with values. */
          scans: number;
          /** Scans that failed. */
          failed: number;
          /** Slots that passed without a scan (see DeviceScanStats.missed). */
          missed: number;
          /** Slots not attempted while the device waited out a reconnect backoff. */
          skipped: number;
        }
      >;
    }
  >;
}

export interface ScannerOptions {
  /**
   * Health turns `stale` when a connected device has had no good scan for this long, ms. Default: three
   * periods of its fastest group, and at least 1 000.
   */
  staleAfterMs?: number;
  /** Delays before a device whose connection failed is tried again. Default 100 ms doubling to 5 s, jittered. */
  backoff?: BackoffOptions;
  /** Largest gap between two points read in one block, bytes. Default 64 (one EPIC channel). */
  coalesceGapBytes?: number;
  /** PipelineDesyncErrors or pipelined timeouts in a row before a device falls back to window 1. Default 2. */
  pipelineFaultsBeforeFallback?: number;
  logger?: Logger;
  /** Source of the backoff jitter, numbers in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Builds a device's client. Default: an OptoMmpClient with `defaults`, the options the scanner would
   * use (the device's settings, the window, no reconnect of its own: the scanner backs off, and its logger).
   */
  createClient?: (device: ScanDeviceConfig, window: number, defaults: OptoMmpClientOptions) => OptoMmpClient;
}

interface GroupState {
  readonly config: ScanGroupConfig;
  readonly device: DeviceState;
  readonly blocks: readonly Block[];
  /** Per block, the decoder that puts its values into `scratch` (made once, not per scan). */
  readonly decoders: readonly ((data: Uint8Array) => void)[];
  /** Response bytes of one scan (headers included). */
  readonly scanBytes: number;
  readonly names: readonly string[];
  readonly periodMs: number;
  /** Values last reported (for on-change reports); NaN before the first report of a point. */
  readonly last: Float64Array;
  /** Which points have been reported at least once (on-change). */
  readonly reported: Uint8Array;
  readonly t0: number;
  /** Slot of the next scan: it is due at t0 + k · periodMs. */
  k: number;
  nextDue: number;
  running: boolean;
  /** A slot that came while the previous scan ran (-1: none), and when it was due. */
  owedSlot: number;
  owedDue: number;
  /** Where a scan decodes its values (numbers; digital states as 0/1), and the last completed scan's. */
  readonly scratch: Float64Array;
  readonly values: Float64Array;
  /** Which points are digital states (reported as booleans). */
  readonly booleans: readonly boolean[];
  /** Sequence and reply time of the last completed scan; -1 before the first. */
  latestSequence: number;
  latestTime: number;
  readonly counts: GroupScanStats;
}

interface DeviceState {
  readonly config: ScanDeviceConfig;
  readonly groups: GroupState[];
  client: OptoMmpClient;
  window: number;
  readonly staleMs: number;
  health: DeviceHealth;
  attempt: number;
  /** performance.now() before which a reconnecting device is not tried. */
  retryAt: number;
  lastGood: number;
  pipelineFaults: number;
  readonly stats: {
    scans: number;
    failed: number;
    missed: number;
    skipped: number;
    requests: number;
    bytes: number;
    desyncs: number;
    windowFallbacks: number;
  };
  readonly lateness: Histogram;
  readonly duration: Histogram;
  /** Clients being closed after a fallback. */
  retired: Promise<void>[];
}

export class Scanner
  extends EventEmitter<{
    values: [ScanReport];
    health: [HealthEvent];
  }>
  implements AsyncDisposable
{
  readonly #devices: DeviceState[] = [];
  readonly #groups: GroupState[] = [];
  readonly #log: Logger;
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #faultsBeforeFallback: number;
  readonly #createClient: (device: ScanDeviceConfig, window: number) => OptoMmpClient;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #started = false;
  #stopping: Promise<void> | undefined;

  /** Checks the configuration and builds a client per device; nothing is sent before `start()`. */
  constructor(fleet: FleetConfig | readonly ScanDeviceConfig[], options: ScannerOptions = {}) {
    super();
    const devices: readonly ScanDeviceConfig[] = Array.isArray(fleet)
      ? (fleet as readonly ScanDeviceConfig[])
      : (fleet as FleetConfig).devices;
    this.#log = options.logger ?? silentLogger;
    this.#backoff = options.backoff ?? {};
    this.#random = options.random ?? Math.random;
    this.#faultsBeforeFallback = Math.max(1, options.pipelineFaultsBeforeFallback ?? 2);
    const logger = this.#log;
    const defaults = (d: ScanDeviceConfig, window: number): OptoMmpClientOptions => ({
      host: d.host,
      port: d.port,
      window,
      maxBlockBytes: d.maxBlockBytes,
      timeoutMs: d.timeoutMs ?? 1_000,
      connectTimeoutMs: d.connectTimeoutMs ?? 2_000,
      sourceId: d.sourceId,
      reconnect: false,
      logger,
    });
    const create = options.createClient;
    this.#createClient = create
      ? (d, window) => create(d, window, defaults(d, window))
      : (d, window) => new OptoMmpClient(defaults(d, window));
    const names = new Set<string>();
    for (const config of devices) {
      if (names.has(config.name)) throw new RangeError(`device name "${config.name}" is used twice`);
      names.add(config.name);
      if (config.groups.length === 0) throw new RangeError(`device "${config.name}" has no groups`);
      const window = config.window ?? 1;
      const maxBlock = config.maxBlockBytes ?? 1024;
      const fastest = Math.min(...config.groups.map((g) => g.periodMs));
      const device: DeviceState = {
        config,
        groups: [],
        client: this.#createClient(config, window),
        window,
        staleMs: options.staleAfterMs ?? Math.max(3 * fastest, 1_000),
        health: { state: 'reconnecting', cause: undefined, since: Date.now(), lastGoodAt: undefined, window },
        attempt: 0,
        retryAt: 0,
        lastGood: Number.NEGATIVE_INFINITY,
        pipelineFaults: 0,
        stats: {
          scans: 0,
          failed: 0,
          missed: 0,
          skipped: 0,
          requests: 0,
          bytes: 0,
          desyncs: 0,
          windowFallbacks: 0,
        },
        lateness: new Histogram(),
        duration: new Histogram(),
        retired: [],
      };
      for (const g of config.groups) {
        if (!(g.periodMs >= 1))
          throw new RangeError(`group "${g.name}" of "${config.name}": periodMs must be >= 1`);
        if (g.points.length === 0)
          throw new RangeError(`group "${g.name}" of "${config.name}" has no points`);
        const blocks = planBlocks(g.points, maxBlock, options.coalesceGapBytes ?? 64);
        const scratch = new Float64Array(g.points.length);
        const group: GroupState = {
          config: g,
          device,
          blocks,
          decoders: blocks.map((block) => (data: Uint8Array) => decodeBlock(block, data, scratch)),
          scanBytes: blocks.reduce((n, block) => n + 16 + block.length, 0),
          names: g.points.map(watchPointName),
          periodMs: g.periodMs,
          last: new Float64Array(g.points.length),
          reported: new Uint8Array(g.points.length),
          t0: 0,
          k: 0,
          nextDue: 0,
          running: false,
          owedSlot: -1,
          owedDue: 0,
          scratch,
          values: new Float64Array(g.points.length),
          booleans: g.points.map((p) => p.kind === 'digital'),
          latestSequence: -1,
          latestTime: 0,
          counts: { scans: 0, failed: 0, missed: 0, skipped: 0 },
        };
        device.groups.push(group);
        this.#groups.push(group);
      }
      this.#devices.push(device);
    }
  }

  /**
   * Starts every schedule. A device's schedule begins once its first connect settled (so connecting does
   * not eat into the first periods; a device that cannot be reached starts out reconnecting). The
   * groups' first scans are spread over their first period (group i of n starts i/n of a period late),
   * so that a fleet's scans do not all fall on the same instant.
   */
  start(): void {
    if (this.#started || this.#stopping !== undefined) return;
    this.#started = true;
    const n = this.#groups.length;
    const phase = new Map(this.#groups.map((g, i) => [g, i / n]));
    for (const d of this.#devices) {
      for (const g of d.groups) g.nextDue = Number.POSITIVE_INFINITY;
      const begin = () => {
        if (this.#stopping !== undefined) return;
        const now = performance.now();
        for (const g of d.groups) {
          const t0 = now + phase.get(g)! * g.periodMs;
          (g as { t0: number }).t0 = t0;
          g.k = 0;
          g.nextDue = t0;
          this.#arm(t0);
        }
      };
      d.client.connect().then(begin, (error: unknown) => {
        if (this.#stopping !== undefined) return;
        this.#failed(d, d.client, error as Error);
        begin();
      });
    }
  }

  /** Stops scanning, ends scans in progress and closes every connection. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      await Promise.all(this.#devices.flatMap((d) => [d.client.close(), ...d.retired]));
    })();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Each device's health. */
  health(): Record<string, DeviceHealth> {
    return Object.fromEntries(this.#devices.map((d) => [d.config.name, { ...d.health }]));
  }

  /** The last completed scan of a group (every value, whatever its report mode), if any. */
  latest(device: string, group: string): ScanReport | undefined {
    const g = this.#groups.find((x) => x.device.config.name === device && x.config.name === group);
    if (g === undefined || g.latestSequence < 0) return undefined;
    const values: ScanReport['values'] = [];
    for (let i = 0; i < g.values.length; i++)
      values.push({ point: g.names[i]!, value: reportedValue(g, g.values, i) });
    return { device, group, sequence: g.latestSequence, time: g.latestTime, values };
  }

  /** Statistics per device and for the whole fleet. */
  stats(): ScannerStats {
    const lateness = new Histogram();
    const duration = new Histogram();
    const devices: ScannerStats['devices'] = {};
    const total = {
      scans: 0,
      failed: 0,
      missed: 0,
      skipped: 0,
      requests: 0,
      bytes: 0,
      desyncs: 0,
      windowFallbacks: 0,
    };
    for (const d of this.#devices) {
      devices[d.config.name] = {
        ...d.stats,
        lateness: d.lateness.summary(),
        duration: d.duration.summary(),
        groups: Object.fromEntries(d.groups.map((g) => [g.config.name, { ...g.counts }])),
      };
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += d.stats[k];
      lateness.merge(d.lateness);
      duration.merge(d.duration);
    }
    return { ...total, lateness: lateness.summary(), duration: duration.summary(), devices };
  }

  /**
   * How many schedule slots every group has been through: the fewest of any group, counting a slot once
   * its scan completed or failed, or once it was missed or skipped. Cheap (no statistics are built): a
   * caller that wants "n scans of everything" polls it.
   */
  completedRounds(): number {
    let fewest = Number.POSITIVE_INFINITY;
    for (const g of this.#groups) {
      const c = g.counts;
      const n = c.scans + c.failed + c.missed + c.skipped;
      if (n < fewest) fewest = n;
    }
    return this.#groups.length === 0 ? 0 : fewest;
  }

  // --- schedule ------------------------------------------------------------------------------------------

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#stopping !== undefined) return;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const g of this.#groups) {
      if (g.nextDue <= now) this.#due(g, now);
      if (g.nextDue < next) next = g.nextDue;
    }
    for (const d of this.#devices) {
      if (d.health.state === 'ok' && now - d.lastGood > d.staleMs && d.groups.some((g) => g.running)) {
        // Scans hang: the values are getting old before any scan has even failed.
        this.#setHealth(d, 'stale', new TimeoutError(`scan of ${d.config.name}`, d.staleMs));
      }
    }
    this.#arm(next);
  }

  #arm(at: number): void {
    if (this.#stopping !== undefined || at >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - performance.now()));
  }

  /** The group's slot has come: start its scan, or count why not. */
  #due(g: GroupState, now: number): void {
    const d = g.device;
    // Slots that passed entirely while the process was busy are missed; the latest one is served now.
    const passed = Math.floor((now - g.nextDue) / g.periodMs);
    if (passed > 0) {
      d.stats.missed += passed;
      g.counts.missed += passed;
    }
    const slot = g.k + passed;
    const dueAt = g.t0 + slot * g.periodMs;
    g.k = slot + 1;
    g.nextDue = g.t0 + g.k * g.periodMs;
    if (d.health.state === 'reconnecting' && now < d.retryAt) {
      d.stats.skipped++;
      g.counts.skipped++;
      return;
    }
    if (g.running) {
      // The previous scan overran: this slot waits for it (one slot at most; an older waiting one is
      // missed, the newest is served).
      if (g.owedSlot >= 0) {
        d.stats.missed++;
        g.counts.missed++;
      }
      g.owedSlot = slot;
      g.owedDue = dueAt;
      return;
    }
    this.#begin(g, slot, dueAt);
  }

  #begin(g: GroupState, slot: number, dueAt: number): void {
    // Measured when this scan starts: scans started before it in the same tick count against it.
    const started = performance.now();
    g.device.lateness.record(started - dueAt);
    void this.#scan(g, slot, started);
  }

  /** A scan ended: the slot that came meanwhile, if any, starts now (unless the device waits out a backoff). */
  #next(g: GroupState): void {
    const slot = g.owedSlot;
    if (slot < 0 || this.#stopping !== undefined) return;
    g.owedSlot = -1;
    const d = g.device;
    if (d.health.state === 'reconnecting' && performance.now() < d.retryAt) {
      d.stats.skipped++;
      g.counts.skipped++;
      return;
    }
    this.#begin(g, slot, g.owedDue);
  }

  // --- scans ---------------------------------------------------------------------------------------------

  async #scan(g: GroupState, sequence: number, started: number): Promise<void> {
    const d = g.device;
    const client = d.client;
    g.running = true;
    const values = g.scratch;
    const requestsBefore = client.requestCount;
    try {
      // No signal per read: stop() closes the clients, which settles every read.
      const blocks = g.blocks;
      if (blocks.length === 1) {
        await client.readBlockAs(blocks[0]!.address, blocks[0]!.length, g.decoders[0]!);
      } else {
        await Promise.all(
          blocks.map((block, i) => client.readBlockAs(block.address, block.length, g.decoders[i]!)),
        );
      }
    } catch (error) {
      g.running = false;
      d.stats.requests += client.requestCount - requestsBefore;
      if (this.#stopping !== undefined) return;
      g.counts.failed++;
      this.#failed(d, client, error as Error);
      this.#next(g);
      return;
    }
    g.running = false;
    if (this.#stopping !== undefined) return;
    const end = performance.now();
    d.stats.scans++;
    g.counts.scans++;
    d.stats.requests += client.requestCount - requestsBefore;
    d.stats.bytes += g.scanBytes;
    d.duration.record(end - started);
    d.lastGood = end;
    d.attempt = 0;
    d.pipelineFaults = 0;
    const time = performance.timeOrigin + end;
    d.health.lastGoodAt = time;
    if (d.health.state !== 'ok') this.#setHealth(d, 'ok', undefined);
    g.values.set(values);
    g.latestSequence = sequence;
    g.latestTime = time;
    this.#report(g, sequence, time);
    this.#next(g);
  }

  #report(g: GroupState, sequence: number, time: number): void {
    const changesOnly = g.config.report === 'on-change';
    const listening = this.listenerCount('values') > 0;
    if (!changesOnly && !listening) return;
    const deadband = g.config.deadband ?? 0;
    const values = g.values;
    const out: ScanReport['values'] = [];
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (changesOnly) {
        const before = g.last[i]!;
        const changed =
          g.reported[i] === 0 ||
          Math.abs(value - before) > deadband ||
          Number.isNaN(value) !== Number.isNaN(before) ||
          (g.booleans[i] === true && value !== before);
        if (!changed) continue;
        g.last[i] = value;
        g.reported[i] = 1;
      }
      if (listening) out.push({ point: g.names[i]!, value: reportedValue(g, values, i) });
    }
    if (!listening || out.length === 0) return;
    this.emit('values', { device: g.device.config.name, group: g.config.name, sequence, time, values: out });
  }

  #failed(d: DeviceState, client: OptoMmpClient, error: Error): void {
    d.stats.failed++;
    if (client !== d.client) return; // a scan of a client already replaced
    const now = performance.now();
    const pipelined = d.window > 1;
    if (PipelineDesyncError.isInstance(error)) d.stats.desyncs++;
    if (pipelined && (PipelineDesyncError.isInstance(error) || TimeoutError.isInstance(error))) {
      if (++d.pipelineFaults >= this.#faultsBeforeFallback) this.#fallBack(d, error);
    }
    if (ConnectionError.isInstance(error) || PipelineDesyncError.isInstance(error)) {
      // The connection failed or had to be replaced: wait out a growing, jittered delay before the next try.
      d.retryAt = now + backoffDelay(d.attempt++, this.#backoff, this.#random);
      this.#setHealth(d, 'reconnecting', error);
      return;
    }
    // Connected, but the scan failed (a deadline, a NAK, a reply that did not fit): stale once values are old.
    if (now - d.lastGood > d.staleMs || d.health.state !== 'ok') this.#setHealth(d, 'stale', error);
    else d.health.cause = error;
  }

  /** Pipelined requests keep failing on this device: one request at a time from now on. */
  #fallBack(d: DeviceState, cause: Error): void {
    this.#log.warn('optommp/scanner: pipelined requests fail on this device; one at a time from now on', {
      device: d.config.name,
      window: d.window,
      cause: cause.message,
    });
    d.stats.windowFallbacks++;
    d.retired.push(d.client.close());
    d.window = 1;
    d.health.window = 1;
    d.pipelineFaults = 0;
    d.client = this.#createClient(d.config, 1);
  }

  #setHealth(d: DeviceState, state: HealthState, cause: Error | undefined): void {
    const previous = d.health.state;
    // A device starts out `reconnecting` without a cause (not connected yet): its first failure is news
    // too, or a device that never answers would never be heard of.
    const firstCause = previous === state && d.health.cause === undefined && cause !== undefined;
    d.health = { ...d.health, state, cause, since: previous === state ? d.health.since : Date.now() };
    if (previous !== state || firstCause) {
      this.#log.info('optommp/scanner: device health', {
        device: d.config.name,
        state,
        cause: cause?.message,
      });
      this.emit('health', { device: d.config.name, health: { ...d.health }, previous });
    }
  }
}

/** A point's value as reported: digital states as booleans. */
function reportedValue(g: GroupState, values: Float64Array, i: number): number | boolean {
  return g.booleans[i] === true ? values[i] !== 0 : values[i]!;
}

/** Puts a block's point values into `values` (runs while the transport owns `data`). */
function decodeBlock(block: Block, data: Uint8Array, values: Float64Array): void {
  const view = viewOf(data);
  for (const r of block.reads) {
    values[r.index] =
      r.type === 'f32'
        ? view.getFloat32(r.offset, false)
        : r.type === 'i32'
          ? view.getInt32(r.offset, false)
          : r.type === 'u32'
            ? view.getUint32(r.offset, false)
            : view.getUint32(r.offset, false) === 0
              ? 0
              : 1;
  }
}
