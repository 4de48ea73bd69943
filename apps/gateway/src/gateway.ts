// The gateway: OptoMMP devices scanned by the optommp Scanner, published as Sparkplug B devices of one edge
// node by the sparkplug EdgeNode. Neither library knows the other; this file is the whole composition.
//
// - A device is born (DBIRTH) with its first good scan, and every time it comes back: its metrics are the
//   scanned points, with the values of that scan (points of other groups, not read since it came back,
//   are null until their group reports). A device whose scans fail (Scanner health `reconnecting` or
//   `stale`) dies (DDEATH) at once.
// - Report by exception: a value is published (DDATA) when it moved by more than its group's deadband
//   since it was last published, or every scan with `report: every-scan`.
// - DCMD: each written metric must be a point marked writable. The write goes to the device through the
//   scanner's own connection to it, then the point is read back on that connection and published at once:
//   that DDATA confirms the write with the value the device now holds. Writes to one device are done one
//   after the other, in the order the commands arrived. A command that cannot be applied is reported
//   (`commandError`, typed) and ignored; the gateway goes on.
// - Without a broker the session stores DATA (store-and-forward) and replays it as historical.

import { EventEmitter } from 'node:events';
import { type Logger, silentLogger } from '@labwire/framing';
import {
  type HealthEvent,
  OptoMmpClient,
  Scanner,
  type ScannerOptions,
  type ScannerStats,
  type ScanReport,
} from '@labwire/optommp';
import {
  type EdgeCommand,
  EdgeNode,
  type EdgeNodeOptions,
  type MetricDefinition,
  type MetricUpdate,
  type SessionState,
} from '@labwire/sparkplug';
import { DataType } from '@labwire/sparkplug/codec';
import type { GatewayDevice, GatewayGroup, GatewayMetric } from './config';
import { WriteRefusedError } from './errors';
import { checkWriteValue, readPoint, writePoint } from './points';

export const NODE_METRICS = {
  software: 'Gateway/Software',
  shard: 'Gateway/Shard',
  devices: 'Gateway/Devices',
  online: 'Gateway/Devices Online',
} as const;

export interface GatewayOptions {
  devices: readonly GatewayDevice[];
  brokerUrls: readonly string[];
  groupId: string;
  edgeNodeId: string;
  /** Shown in the node's `Gateway/Shard` metric, e.g. `1/2`. */
  shardLabel?: string;
  /** Shown in the node's `Gateway/Software` metric. */
  software?: string;
  /** Further EdgeNode options (credentials, MQTT version, TLS, store-and-forward, primary host). */
  session?: Partial<Omit<EdgeNodeOptions, 'brokerUrl' | 'groupId' | 'edgeNodeId' | 'metrics' | 'logger'>>;
  /** Scanner options (backoff, staleness). */
  scanner?: Omit<ScannerOptions, 'logger' | 'createClient'>;
  /** Deadline of one write and of its read-back, ms. Default: the device's timeout (1 000). */
  writeTimeoutMs?: number;
  logger?: Logger;
}

export interface WriteResult {
  deviceId: string;
  metric: string;
  requested: number | boolean;
  /** The value read back after the write (published in the confirming DDATA). */
  confirmed?: number | boolean;
  error?: Error;
}

export interface DeviceEvent {
  deviceId: string;
  state: 'online' | 'offline';
  /** Why it went offline (the scanner's typed cause). */
  cause?: Error | undefined;
  metrics: number;
}

export interface GatewayEvents {
  /** A device was born (DBIRTH) or died (DDEATH). */
  device: [DeviceEvent];
  write: [WriteResult];
  /** An NCMD/DCMD that was not applied (malformed, unknown metric, not writable, bad value); ignored. */
  commandError: [error: Error, topic: string];
  session: [SessionState];
  birth: [info: { bdSeq: number; rebirth: boolean }];
  /** The broker connection failed or was lost (the session reconnects with backoff). */
  disconnect: [error: Error | undefined];
  /** Store-and-forward or the connection buffer dropped metric updates. */
  overflow: [info: { dropped: number; policy: string }];
}

export interface GatewayStats {
  devices: number;
  online: number;
  writes: number;
  writeFailures: number;
  commandErrors: number;
  /** Metric updates handed to the session (DBIRTH values not counted). */
  updates: number;
  /** Per device: born now, and the metric updates handed to the session (live, stored or confirming). */
  perDevice: Record<string, { online: boolean; updates: number }>;
  session: EdgeNode['stats'];
  scanner: Omit<ScannerStats, 'devices'>;
}

interface MetricSlot {
  metric: GatewayMetric;
  group: GroupRuntime;
  index: number;
}

interface GroupRuntime {
  readonly config: GatewayGroup;
  /** Last published value per point (booleans as 0/1). */
  readonly last: Float64Array;
  /** Whether the point has been published since the device was last born. */
  readonly published: Uint8Array;
  /** Values of the last scan since the device came back (for births), or undefined. */
  current: (number | boolean)[] | undefined;
  readonly booleans: boolean[];
}

interface DeviceRuntime {
  readonly config: GatewayDevice;
  readonly groups: Map<string, GroupRuntime>;
  readonly byName: Map<string, MetricSlot>;
  born: boolean;
  defined: boolean;
  updates: number;
  client: OptoMmpClient | undefined;
  /** Writes to this device, one after the other. */
  writes: Promise<void>;
}

export class Gateway extends EventEmitter<GatewayEvents> implements AsyncDisposable {
  readonly node: EdgeNode;
  readonly scanner: Scanner;
  readonly #devices = new Map<string, DeviceRuntime>();
  readonly #byScanName = new Map<string, DeviceRuntime>();
  readonly #log: Logger;
  readonly #writeTimeoutMs: number | undefined;
  #online = 0;
  #started = false;
  #closing: Promise<void> | undefined;
  readonly #counters = { writes: 0, writeFailures: 0, commandErrors: 0, updates: 0 };

  constructor(options: GatewayOptions) {
    super();
    this.#log = options.logger ?? silentLogger;
    this.#writeTimeoutMs = options.writeTimeoutMs;
    for (const config of options.devices) {
      const groups = new Map<string, GroupRuntime>();
      const byName = new Map<string, MetricSlot>();
      for (const g of config.groups) {
        const runtime: GroupRuntime = {
          config: g,
          last: new Float64Array(g.metrics.length),
          published: new Uint8Array(g.metrics.length),
          current: undefined,
          booleans: g.metrics.map((m) => m.datatype === DataType.Boolean),
        };
        groups.set(g.name, runtime);
        g.metrics.forEach((metric, index) => {
          byName.set(metric.name, { metric, group: runtime, index });
        });
      }
      const device: DeviceRuntime = {
        config,
        groups,
        byName,
        born: false,
        defined: false,
        updates: 0,
        client: undefined,
        writes: Promise.resolve(),
      };
      this.#devices.set(config.deviceId, device);
      this.#byScanName.set(config.scan.name, device);
    }
    this.node = new EdgeNode({
      ...options.session,
      brokerUrl: options.brokerUrls,
      groupId: options.groupId,
      edgeNodeId: options.edgeNodeId,
      logger: this.#log,
      metrics: [
        {
          name: NODE_METRICS.software,
          datatype: DataType.String,
          value: options.software ?? 'labwire-gateway',
        },
        { name: NODE_METRICS.shard, datatype: DataType.String, value: options.shardLabel ?? '1/1' },
        { name: NODE_METRICS.devices, datatype: DataType.UInt32, value: options.devices.length },
        { name: NODE_METRICS.online, datatype: DataType.UInt32, value: 0 },
      ],
    });
    this.node.on('command', (cmd) => this.#onCommand(cmd));
    this.node.on('commandError', (error, topic) => {
      this.#counters.commandErrors++;
      this.emit('commandError', error, topic);
    });
    this.node.on('state', (state) => this.emit('session', state));
    this.node.on('birth', (info) => this.emit('birth', info));
    this.node.on('disconnect', (error) => this.emit('disconnect', error));
    this.node.on('overflow', (info) => this.emit('overflow', info));

    // A device's connection problems are the scanner's health (logged once per change, below); the
    // client's own per-attempt messages are debug.
    const log = this.#log;
    const debug = (message: string, fields?: Record<string, unknown>) => log.debug(message, fields);
    const clientLogger: Logger = {
      debug,
      info: debug,
      warn: debug,
      error: (message, fields) => log.warn(message, fields),
    };
    this.scanner = new Scanner(
      options.devices.map((d) => d.scan),
      {
        ...options.scanner,
        logger: log,
        // The scanner's connection to a device is also the one writes go through (see points.ts).
        createClient: (d, _window, defaults) => {
          const client = new OptoMmpClient({ ...defaults, logger: clientLogger });
          const device = this.#byScanName.get(d.name);
          if (device) device.client = client;
          return client;
        },
      },
    );
    this.scanner.on('values', (report) => this.#onValues(report));
    this.scanner.on('health', (event) => this.#onHealth(event));
  }

  /**
   * Starts scanning and the Sparkplug session (connecting, and reconnecting with backoff, until `close`).
   * Returns at once: the session's progress is told by the `session`, `birth` and `disconnect` events.
   */
  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    this.node.start({ timeoutMs: Number.POSITIVE_INFINITY }).catch((error: unknown) => {
      if (!this.#closing) this.#log.error('gateway: session ended', { error: (error as Error).message });
    });
    this.scanner.start();
  }

  /** Resolves once the session is online (NBIRTH out), within `timeoutMs`. */
  waitOnline(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    return this.node.waitOnline(options);
  }

  deviceIds(): string[] {
    return [...this.#devices.keys()];
  }

  /** Devices born (scanned and published) now. */
  onlineDevices(): string[] {
    return [...this.#devices.values()].filter((d) => d.born).map((d) => d.config.deviceId);
  }

  stats(): GatewayStats {
    const { devices: _, ...scanner } = this.scanner.stats();
    return {
      devices: this.#devices.size,
      online: this.#online,
      ...this.#counters,
      perDevice: Object.fromEntries(
        [...this.#devices.values()].map((d) => [d.config.deviceId, { online: d.born, updates: d.updates }]),
      ),
      session: this.node.stats,
      scanner,
    };
  }

  /**
   * Stops scanning, lets writes in progress end (each is bounded by its deadline), then ends the session
   * (NDEATH, DISCONNECT). Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      await this.scanner.stop();
      await Promise.allSettled([...this.#devices.values()].map((d) => d.writes));
      await this.node.close({ timeoutMs: options.timeoutMs ?? 5_000 });
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- scanner → session ----------------------------------------------------------------------------------

  #onValues(report: ScanReport): void {
    if (this.#closing) return;
    const device = this.#byScanName.get(report.device);
    const group = device?.groups.get(report.group);
    if (!device || !group) return;
    const values = report.values;
    const current = new Array<number | boolean>(values.length);
    for (let i = 0; i < values.length; i++) current[i] = values[i]!.value;
    group.current = current;
    const timestamp = Math.floor(report.time);
    if (!device.born) {
      this.#birth(device, timestamp);
      return;
    }
    const metrics = group.config.metrics;
    const everyScan = group.config.report === 'every-scan';
    const deadband = group.config.deadband;
    const updates: MetricUpdate[] = [];
    for (let i = 0; i < current.length; i++) {
      const value = current[i]!;
      const n = typeof value === 'boolean' ? (value ? 1 : 0) : value;
      if (!everyScan && group.published[i] === 1) {
        const before = group.last[i]!;
        const unchanged = Number.isNaN(n)
          ? Number.isNaN(before)
          : !Number.isNaN(before) && Math.abs(n - before) <= deadband && (deadband > 0 || n === before);
        if (unchanged) continue;
      }
      group.last[i] = n;
      group.published[i] = 1;
      updates.push({ name: metrics[i]!.name, value, timestamp });
    }
    if (updates.length > 0) this.#publish(device, updates);
  }

  #publish(device: DeviceRuntime, updates: MetricUpdate[]): void {
    try {
      this.node.updateDevice(device.config.deviceId, updates);
      this.#counters.updates += updates.length;
      device.updates += updates.length;
    } catch (error) {
      // Store full under the `reject` policy, or a value that does not fit its datatype: reported, and the
      // scan goes on (the next change is published).
      this.#log.warn('gateway: update not published', {
        device: device.config.deviceId,
        error: (error as Error).message,
      });
    }
  }

  /** DBIRTH with the values scanned since the device came back (null for groups not read yet). */
  #birth(device: DeviceRuntime, timestamp: number): void {
    const definitions: MetricDefinition[] = [];
    for (const group of device.groups.values()) {
      const current = group.current;
      group.config.metrics.forEach((m, i) => {
        const value = current?.[i];
        if (value === undefined) group.published[i] = 0;
        else {
          group.last[i] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
          group.published[i] = 1;
        }
        definitions.push({
          name: m.name,
          datatype: m.datatype,
          value: value ?? null,
          ...(value === undefined ? {} : { timestamp }),
        });
      });
    }
    try {
      if (device.defined) this.node.deviceBirth(device.config.deviceId, definitions);
      else this.node.defineDevice(device.config.deviceId, definitions);
    } catch (error) {
      this.#log.error('gateway: device birth failed', {
        device: device.config.deviceId,
        error: (error as Error).message,
      });
      return;
    }
    device.defined = true;
    device.born = true;
    this.#setOnline(this.#online + 1);
    this.#log.info('gateway: device online', { device: device.config.deviceId, metrics: definitions.length });
    this.emit('device', { deviceId: device.config.deviceId, state: 'online', metrics: definitions.length });
  }

  #onHealth(event: HealthEvent): void {
    if (this.#closing || event.health.state === 'ok') return;
    const device = this.#byScanName.get(event.device);
    if (!device?.born) return;
    device.born = false;
    for (const g of device.groups.values()) {
      g.current = undefined;
      g.published.fill(0);
    }
    this.node.deviceDeath(device.config.deviceId);
    this.#setOnline(this.#online - 1);
    const cause = event.health.cause;
    this.#log.warn('gateway: device offline', {
      device: device.config.deviceId,
      health: event.health.state,
      cause:
        cause === undefined
          ? undefined
          : `${(cause as { code?: string }).code ?? cause.name}: ${cause.message}`,
    });
    this.emit('device', {
      deviceId: device.config.deviceId,
      state: 'offline',
      cause,
      metrics: device.byName.size,
    });
  }

  #setOnline(n: number): void {
    this.#online = n;
    try {
      this.node.updateNode([{ name: NODE_METRICS.online, value: n }]);
    } catch (error) {
      this.#log.debug('gateway: node metric not published', { error: (error as Error).message });
    }
  }

  // --- commands -------------------------------------------------------------------------------------------

  #refuse(deviceId: string | undefined, metric: string, why: string, topic: string): void {
    const error = new WriteRefusedError(deviceId, metric, why);
    this.#counters.commandErrors++;
    this.#log.warn('gateway: command ignored', { topic, error: error.message });
    this.emit('commandError', error, topic);
  }

  #onCommand(cmd: EdgeCommand): void {
    if (this.#closing) return;
    const topic = `${cmd.type}${cmd.deviceId === undefined ? '' : ` ${cmd.deviceId}`}`;
    if (cmd.type === 'NCMD' || cmd.deviceId === undefined) {
      for (const m of cmd.metrics) this.#refuse(undefined, m.name, 'node metrics are read-only', topic);
      return;
    }
    const device = this.#devices.get(cmd.deviceId);
    if (!device) return; // the session only passes commands for devices it declared
    const accepted: Array<{ slot: MetricSlot; value: number | boolean }> = [];
    for (const m of cmd.metrics) {
      const slot = device.byName.get(m.name);
      if (!slot) {
        this.#refuse(cmd.deviceId, m.name, 'no such metric', topic);
        continue;
      }
      if (!slot.metric.writable) {
        this.#refuse(
          cmd.deviceId,
          m.name,
          'the point is not writable (writable: true in the configuration)',
          topic,
        );
        continue;
      }
      const problem = checkWriteValue(slot.metric.point, m.value);
      if (problem !== undefined) {
        this.#refuse(cmd.deviceId, m.name, problem, topic);
        continue;
      }
      accepted.push({ slot, value: m.value as number | boolean });
    }
    if (accepted.length === 0) return;
    device.writes = device.writes.then(() => this.#write(device, accepted));
  }

  async #write(
    device: DeviceRuntime,
    writes: Array<{ slot: MetricSlot; value: number | boolean }>,
  ): Promise<void> {
    const deviceId = device.config.deviceId;
    const timeoutMs = this.#writeTimeoutMs ?? device.config.scan.timeoutMs ?? 1_000;
    const confirmations: MetricUpdate[] = [];
    for (const { slot, value } of writes) {
      const client = device.client;
      const metric = slot.metric.name;
      this.#counters.writes++;
      try {
        if (this.#closing || !client)
          throw new WriteRefusedError(deviceId, metric, 'the gateway is stopping');
        await writePoint(client, slot.metric.point, value, { timeoutMs });
        const confirmed = await readPoint(client, slot.metric.point, { timeoutMs });
        confirmations.push({ name: metric, value: confirmed, timestamp: Date.now() });
        slot.group.last[slot.index] = typeof confirmed === 'boolean' ? (confirmed ? 1 : 0) : confirmed;
        slot.group.published[slot.index] = 1;
        this.#log.info('gateway: written', { device: deviceId, metric, value, confirmed });
        this.emit('write', { deviceId, metric, requested: value, confirmed });
      } catch (error) {
        this.#counters.writeFailures++;
        this.#log.warn('gateway: write failed', {
          device: deviceId,
          metric,
          error: (error as Error).message,
        });
        this.emit('write', { deviceId, metric, requested: value, error: error as Error });
      }
    }
    // The confirming DDATA: the values read back, at once (a dead device gets its DBIRTH first, later).
    if (confirmations.length > 0 && device.born && !this.#closing) this.#publish(device, confirmations);
  }
}
