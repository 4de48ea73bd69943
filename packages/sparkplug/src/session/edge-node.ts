// The Sparkplug B 3.0 edge-node session (§5 "Operational Behavior") over MQTT.js.
//
// One MQTT connection at a time, owned here (MQTT.js's own reconnect is off): every CONNECT carries a new
// NDEATH will (QoS 1, not retained) with the next bdSeq, so the will always matches the NBIRTH that follows
// it. The session:
//   connect (will = NDEATH bdSeq) → subscribe NCMD, DCMD, STATE (QoS 1, SUBACK awaited)
//   → [wait for the primary host's STATE online] → NBIRTH (seq 0, bdSeq, Node Control/Rebirth=false)
//   → DBIRTH per device → stored DATA replayed as historical → live NDATA/DDATA
// Lost connection: back off (full jitter, growing window), connect again with bdSeq + 1.
// Rebirth request (NCMD Node Control/Rebirth = true): NBIRTH (same bdSeq, seq 0) and every DBIRTH again,
// on the same connection, no NDEATH in between.
// Primary host offline (a STATE online=false not older than the last online): NDEATH, disconnect, start over.
//
// Sources of device data (the OptoMMP scanner, PyMoDAQ, anything) feed `defineDevice` / `updateDevice`;
// the session keeps each metric's current value for births and rebirths.

import { EventEmitter } from 'node:events';
import {
  AbortedError,
  armDeadline,
  ClosedError,
  checkTimeout,
  type Logger,
  type OperationOptions,
  silentLogger,
  TimeoutError,
} from '@labwire/framing';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { DataType, isDataType } from '../codec/datatypes';
import { decodePayload } from '../codec/decode';
import { type DatatypeLookup, encodePayload } from '../codec/encode';
import type { DecodeLimits } from '../codec/scan';
import { checkId, deviceTopic, NAMESPACE, nodeTopic, parseTopic, stateTopic } from '../codec/topic';
import type { Int64, MetaData, Metric, MetricValue, Payload, PropertySet, Template } from '../codec/types';
import { BufferOverflowError, CommandError, MqttConnectError, SessionUsageError } from '../errors';
import { backoffDelay } from './backoff';
import { ForwardStore, type StoredMessage } from './store';

export const REBIRTH_METRIC = 'Node Control/Rebirth';
export const BDSEQ_METRIC = 'bdSeq';

/** A metric as declared in a birth: its name, datatype and (current) value. */
export interface MetricDefinition {
  name: string;
  datatype: DataType;
  /** Current value; `null` or absent is published as a null metric (is_null). */
  value?: MetricValue | undefined;
  /** When the value was taken (ms since epoch); default: the time of the birth. */
  timestamp?: number | undefined;
  properties?: PropertySet | undefined;
  metadata?: MetaData | undefined;
  isTransient?: boolean | undefined;
}

/** A new value for a declared metric. */
export interface MetricUpdate {
  name: string;
  value: MetricValue;
  /** When the value was taken (ms since epoch, UTC); default now. */
  timestamp?: number | undefined;
}

/** A command (NCMD or DCMD) from a host application, typed with the datatypes of the births. */
export interface EdgeCommand {
  type: 'NCMD' | 'DCMD';
  /** The device addressed by a DCMD. */
  deviceId?: string | undefined;
  /** The written metrics, names resolved from aliases, values typed by the birth's datatypes. */
  metrics: ReadonlyArray<{
    name: string;
    datatype: DataType;
    value: MetricValue | undefined;
    timestamp?: Int64;
  }>;
  /** The decoded payload as it arrived. */
  payload: Payload;
}

export type SessionState = 'idle' | 'connecting' | 'waiting-for-host' | 'online' | 'offline' | 'closed';

/** What became of an update: `sent`, `stored` (offline: kept for replay) or `dropped` (store full). */
type PublishOutcome = 'sent' | 'stored' | 'dropped';

export interface EdgeNodeOptions {
  /** Broker URL(s) (`mqtt://127.0.0.1:1883`); with several, each new connection takes the next one. */
  brokerUrl: string | readonly string[];
  groupId: string;
  edgeNodeId: string;
  /** Default `<groupId>/<edgeNodeId>` made MQTT-safe. */
  clientId?: string;
  username?: string;
  password?: string;
  /** MQTT 3.1.1 (4, default) or 5. */
  protocolVersion?: 4 | 5;
  /** Node-level metrics of the NBIRTH (bdSeq and Node Control/Rebirth are added). */
  metrics?: readonly MetricDefinition[];
  /** Wait for this host application's STATE online before birth, and die with it (§5.9). */
  primaryHostId?: string;
  /** Publish DATA by alias (births carry name and alias). Default true. */
  aliases?: boolean;
  /** Store DATA while there is no session; `false` drops it instead. Default `{}` (enabled). */
  storeAndForward?:
    | {
        /** Capacity in metric updates (a DDATA of 64 metrics counts 64). Default 100 000. */
        maxMetrics?: number;
        /** When the buffer is full: drop the oldest updates, drop the new one, or reject it. Default `drop-oldest`. */
        overflow?: 'drop-oldest' | 'drop-newest' | 'reject';
      }
    | false;
  /** Reconnect backoff: full jitter in [min, min(max, initial·2ⁿ)). Default 100 ms … 10 s. */
  reconnect?: {
    /** Ceiling of the first delay (attempt 0), in ms. Default 100. */
    initialDelayMs?: number;
    /** Cap on every delay, in ms. Default 10 000. */
    maxDelayMs?: number;
    /** Floor on every delay, in ms. Default 0. */
    minDelayMs?: number;
    stableAfterMs?: number;
  };
  /** Deadline of one connect attempt (TCP + CONNACK + SUBACK). Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** MQTT keepalive. Default 30 s. */
  keepaliveSeconds?: number;
  /**
   * How often DATA sent at QoS 0 is confirmed as received by the broker (a QoS 1 re-SUBSCRIBE acts as a
   * barrier). DATA not yet confirmed when the connection drops is stored and replayed as historical.
   * Default 500 ms; 0 disables (QoS 0 messages in flight at a broker crash are then lost).
   */
  confirmIntervalMs?: number;
  /** First bdSeq (0–255). Default 0. */
  initialBdSeq?: number;
  /** Limits for decoding commands. */
  decodeLimits?: DecodeLimits;
  logger?: Logger;
  /** Extra MQTT.js options (TLS, …); session-critical fields (will, clean, reconnectPeriod) are ours. */
  mqttOptions?: Partial<IClientOptions>;
  /**
   * Bytes the connection may hold unsent (the broker not reading fast enough) before live updates are
   * refused: dropped, or BufferOverflowError under the `reject` policy. Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /** Injected for tests of the backoff schedule. */
  random?: () => number;
}

interface MetricRecord {
  name: string;
  datatype: DataType;
  alias: number | undefined;
  value: MetricValue | undefined;
  timestamp: number | undefined;
  properties: PropertySet | undefined;
  metadata: MetaData | undefined;
  isTransient: boolean | undefined;
}

interface DeviceRecord {
  id: string;
  metrics: Map<string, MetricRecord>;
  byAlias: Map<number, MetricRecord>;
  /** Born in the current session (DBIRTH published since the last NBIRTH). */
  born: boolean;
  /** Declared dead (DDEATH) by the source; no DBIRTH until `deviceBirth`. */
  dead: boolean;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

const noop = () => {};

export class EdgeNode extends EventEmitter<{
  state: [state: SessionState];
  /** A birth sequence went out (NBIRTH and all DBIRTHs). */
  birth: [info: { bdSeq: number; rebirth: boolean }];
  command: [command: EdgeCommand];
  /** A host requested a rebirth (it has been done when this fires). */
  rebirth: [];
  /** A command that could not be decoded or applied; it was ignored, the session goes on. */
  commandError: [error: Error, topic: string];
  hostState: [state: { hostId: string; online: boolean; timestamp: number }];
  /** A connection attempt failed or an established connection was lost. */
  disconnect: [error: Error | undefined];
  /** The store dropped metric updates. */
  overflow: [info: { dropped: number; policy: string }];
}> {
  readonly groupId: string;
  readonly edgeNodeId: string;
  private readonly urls: readonly string[];
  private urlIndex = 0;
  private readonly options: EdgeNodeOptions;
  private readonly logger: Logger;
  private readonly useAliases: boolean;
  private readonly store: ForwardStore | undefined;
  private readonly connectTimeoutMs: number;
  private readonly confirmIntervalMs: number;
  private readonly random: () => number;
  private readonly maxBufferedBytes: number;

  private _state: SessionState = 'idle';
  private client: MqttClient | undefined;
  private bdSeq: number;
  private firstConnect = true;
  private seq = 0;
  private nextAlias = 1;
  private attempt = 0;
  private connectedAt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private confirmTimer: ReturnType<typeof setInterval> | undefined;
  private barrierPending = false;
  private unconfirmed: StoredMessage[] = [];
  private unconfirmedMetrics = 0;
  private hostOnline = false;
  private readonly lastHostTimestamp = new Map<string, number>();
  private onlineWaiters: Waiter[] = [];
  private closing: Promise<void> | undefined;

  private readonly nodeMetrics = new Map<string, MetricRecord>();
  private readonly nodeByAlias = new Map<number, MetricRecord>();
  private readonly devices = new Map<string, DeviceRecord>();

  private readonly counters = {
    connects: 0,
    connectFailures: 0,
    births: 0,
    messagesSent: 0,
    metricsSent: 0,
    replayed: 0,
    commands: 0,
    commandErrors: 0,
    confirmations: 0,
    backpressureDrops: 0,
  };

  private readonly ncmdTopic: string;
  private readonly dcmdFilter: string;

  constructor(options: EdgeNodeOptions) {
    super();
    this.options = options;
    this.groupId = checkId(options.groupId, 'group_id');
    this.edgeNodeId = checkId(options.edgeNodeId, 'edge_node_id');
    if (options.primaryHostId !== undefined) checkId(options.primaryHostId, 'primary host_id');
    const urls = typeof options.brokerUrl === 'string' ? [options.brokerUrl] : [...options.brokerUrl];
    if (urls.length === 0) throw new SessionUsageError('brokerUrl: at least one broker URL is needed');
    this.urls = urls;
    this.logger = options.logger ?? silentLogger;
    this.useAliases = options.aliases ?? true;
    this.store =
      options.storeAndForward === false ? undefined : new ForwardStore(options.storeAndForward ?? {});
    this.connectTimeoutMs = checkTimeout(options.connectTimeoutMs, 10_000);
    this.confirmIntervalMs = options.confirmIntervalMs ?? 500;
    this.random = options.random ?? Math.random;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    const first = options.initialBdSeq ?? 0;
    if (!Number.isInteger(first) || first < 0 || first > 255) {
      throw new SessionUsageError(`initialBdSeq must be an integer in [0, 255], got ${first}`);
    }
    this.bdSeq = first;
    this.ncmdTopic = nodeTopic(this.groupId, 'NCMD', this.edgeNodeId);
    this.dcmdFilter = `${NAMESPACE}/${this.groupId}/DCMD/${this.edgeNodeId}/+`;
    for (const def of options.metrics ?? [])
      this.addRecord(this.nodeMetrics, this.nodeByAlias, def, 'node metric');
  }

  get state(): SessionState {
    return this._state;
  }

  /** Whether the configured primary host was last seen online (false without a primary host). */
  get primaryHostOnline(): boolean {
    return this.hostOnline;
  }

  get stats(): {
    state: SessionState;
    /** bdSeq of the current (or last) connection. */
    bdSeq: number;
    /** The seq the next message will carry. */
    nextSeq: number;
    connects: number;
    connectFailures: number;
    births: number;
    messagesSent: number;
    metricsSent: number;
    /** DATA messages published from the store (historical). */
    replayed: number;
    /** Metric updates waiting in the store. */
    stored: number;
    /** Metric updates dropped by the store's overflow policy. */
    dropped: number;
    /** DATA messages sent and not yet confirmed by a barrier. */
    unconfirmed: number;
    commands: number;
    commandErrors: number;
    /** Delivery confirmations (QoS 1 SUBSCRIBE barriers) completed. */
    confirmations: number;
    /** Bytes written to the connection and not yet taken by the kernel (a slow broker makes it grow). */
    bufferedBytes: number;
    /** Metric updates dropped because the connection's write buffer was over `maxBufferedBytes`. */
    backpressureDrops: number;
  } {
    return {
      state: this._state,
      bdSeq: this.bdSeq,
      nextSeq: this.seq,
      ...this.counters,
      stored: this.store?.size ?? 0,
      dropped: this.store?.dropped ?? 0,
      unconfirmed: this.unconfirmed.length,
      bufferedBytes: this.bufferedBytes(),
    };
  }

  // --- public API -------------------------------------------------------------------------------------

  /**
   * Starts the session (connecting in the background, reconnecting for ever until `close`) and resolves
   * once the first birth sequence is out. The deadline only bounds this wait: on a timeout or abort the
   * session keeps trying; call `close()` to stop it.
   */
  async start(options: OperationOptions = {}): Promise<void> {
    if (this._state === 'closed') throw new ClosedError('EdgeNode.start');
    if (this._state === 'idle') {
      this.setState('connecting');
      this.connectNow();
    }
    await this.waitOnline({ timeoutMs: options.timeoutMs ?? 30_000, signal: options.signal });
  }

  /** Resolves when the session is online (births out), rejects on deadline, abort or close. */
  waitOnline(options: OperationOptions = {}): Promise<void> {
    if (this._state === 'online') return Promise.resolve();
    if (this._state === 'closed') return Promise.reject(new ClosedError('EdgeNode.waitOnline'));
    const timeoutMs = checkTimeout(options.timeoutMs, 30_000);
    if (options.signal?.aborted)
      return Promise.reject(new AbortedError('EdgeNode.waitOnline', options.signal.reason));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          deadline.clear();
          resolve();
        },
        reject: (e) => {
          deadline.clear();
          reject(e);
        },
      };
      const remove = () => {
        this.onlineWaiters = this.onlineWaiters.filter((w) => w !== waiter);
      };
      const deadline = armDeadline(
        timeoutMs,
        options.signal,
        () => {
          remove();
          reject(new TimeoutError('EdgeNode.waitOnline', timeoutMs));
        },
        (reason) => {
          remove();
          reject(new AbortedError('EdgeNode.waitOnline', reason));
        },
      );
      this.onlineWaiters.push(waiter);
    });
  }

  /**
   * Declares (or re-declares) a device and its metrics. Online, its DBIRTH goes out at once; otherwise
   * with the next birth sequence. Re-declaring a born device publishes a new DBIRTH.
   */
  defineDevice(deviceId: string, metrics: readonly MetricDefinition[]): void {
    this.checkOpen('defineDevice');
    checkId(deviceId, 'device_id');
    const lower = deviceId.toLowerCase();
    for (const other of this.devices.keys()) {
      if (other !== deviceId && other.toLowerCase() === lower) {
        this.logger.warn('sparkplug: device ids differ only in case', { deviceIds: [other, deviceId] });
      }
    }
    const previous = this.devices.get(deviceId);
    const device: DeviceRecord = {
      id: deviceId,
      metrics: new Map(),
      byAlias: new Map(),
      born: false,
      dead: false,
    };
    for (const def of metrics) {
      // Keep the alias a metric had, so that a host's alias table stays valid across re-declarations.
      const keep = previous?.metrics.get(def.name)?.alias;
      this.addRecord(device.metrics, device.byAlias, def, `device ${deviceId} metric`, keep);
    }
    this.devices.set(deviceId, device);
    if (this._state === 'online') this.publishDeviceBirth(device);
  }

  /** Marks a dead device alive again and publishes its DBIRTH (with `metrics` when given, else the last). */
  deviceBirth(deviceId: string, metrics?: readonly MetricDefinition[]): void {
    if (metrics) {
      this.defineDevice(deviceId, metrics);
      return;
    }
    const device = this.device(deviceId, 'deviceBirth');
    device.dead = false;
    if (this._state === 'online') this.publishDeviceBirth(device);
  }

  /** Publishes a DDEATH for the device (lost by its source); updates are refused until `deviceBirth`. */
  deviceDeath(deviceId: string): void {
    const device = this.device(deviceId, 'deviceDeath');
    device.dead = true;
    if (this._state === 'online' && device.born) {
      device.born = false;
      this.publish(deviceTopic(this.groupId, 'DDEATH', this.edgeNodeId, deviceId), {
        timestamp: Date.now(),
        seq: this.nextSeq(),
        metrics: [],
      });
    }
  }

  /** Publishes a DDEATH (when born) and forgets the device. */
  removeDevice(deviceId: string): void {
    this.deviceDeath(deviceId);
    // Its aliases stay reserved: a host may still hold them, and they must stay unique in the session.
    this.devices.delete(deviceId);
  }

  /** The ids of the declared devices. */
  deviceIds(): string[] {
    return [...this.devices.keys()];
  }

  /**
   * New values for metrics of a device: a DDATA now when online, else stored for replay (historical).
   * Throws SessionUsageError for an unknown device or metric (a new metric needs a new DBIRTH:
   * `defineDevice`), PayloadEncodeError for a value that does not fit its datatype, and
   * BufferOverflowError when storing under the `reject` policy.
   */
  updateDevice(deviceId: string, updates: readonly MetricUpdate[]): 'sent' | 'stored' | 'dropped' {
    const device = this.device(deviceId, 'updateDevice');
    if (device.dead)
      throw new SessionUsageError(`updateDevice: device ${deviceId} is dead (deviceBirth first)`);
    return this.update(device.metrics, deviceId, updates);
  }

  /** New values for node-level metrics: an NDATA now when online, else stored. */
  updateNode(updates: readonly MetricUpdate[]): 'sent' | 'stored' | 'dropped' {
    this.checkOpen('updateNode');
    return this.update(this.nodeMetrics, undefined, updates);
  }

  /** Publishes the whole birth sequence again (NBIRTH, every DBIRTH) on the current connection. */
  rebirth(): void {
    this.checkOpen('rebirth');
    if (this._state === 'online') this.birth(true);
  }

  /**
   * Ends the session: publishes NDEATH (MQTT 3.1.1: QoS 1, acknowledged, then DISCONNECT; MQTT 5:
   * DISCONNECT with reason 0x04 so the broker sends the will), stops reconnecting and rejects every
   * pending wait with ClosedError. Idempotent. Stored DATA is discarded (see `stats.stored` before).
   */
  close(options: OperationOptions = {}): Promise<void> {
    this.closing ??= this.doClose(checkTimeout(options.timeoutMs, 5_000), options.signal);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- metric tables ----------------------------------------------------------------------------------

  private readonly usedAliases = new Set<number>();

  private addRecord(
    table: Map<string, MetricRecord>,
    byAlias: Map<number, MetricRecord>,
    def: MetricDefinition,
    what: string,
    keepAlias?: number,
  ): void {
    if (typeof def?.name !== 'string' || def.name.length === 0)
      throw new SessionUsageError(`${what}: a name is needed`);
    if (def.name === BDSEQ_METRIC || def.name === REBIRTH_METRIC) {
      throw new SessionUsageError(`${what} ${def.name}: reserved, the session publishes it`);
    }
    if (!isDataType(def.datatype))
      throw new SessionUsageError(`${what} ${def.name}: invalid datatype ${String(def.datatype)}`);
    if (table.has(def.name)) throw new SessionUsageError(`${what} ${def.name}: declared twice`);
    if (def.datatype === DataType.Template && def.value !== undefined && def.value !== null) {
      this.checkTemplate(def.name, def.value as Template, table === this.nodeMetrics, what);
    }
    const lower = def.name.toLowerCase();
    for (const other of table.keys()) {
      if (other.toLowerCase() === lower) {
        // §4.1.x (case sensitivity): SHOULD NOT; hosts that fold case would merge the two.
        this.logger.warn('sparkplug: metric names differ only in case', { what, names: [other, def.name] });
      }
    }
    let alias: number | undefined;
    if (this.useAliases) {
      alias = keepAlias ?? this.takeAlias();
      this.usedAliases.add(alias);
    }
    // Validate the value now, not at publish time.
    if (def.value !== undefined && def.value !== null) {
      encodePayload({ metrics: [{ name: def.name, datatype: def.datatype, value: def.value }] });
    }
    const record: MetricRecord = {
      name: def.name,
      datatype: def.datatype,
      alias,
      value: def.value,
      timestamp: def.timestamp,
      properties: def.properties,
      metadata: def.metadata,
      isTransient: def.isTransient,
    };
    table.set(def.name, record);
    if (alias !== undefined) byAlias.set(alias, record);
  }

  /**
   * Template rules of §6.4.14: definitions only among the node's metrics (they go in the NBIRTH), with
   * no templateRef; instances reference a definition declared on the node and have only its members.
   */
  private checkTemplate(name: string, t: Template, onNode: boolean, what: string): void {
    if (t.isDefinition) {
      if (!onNode)
        throw new SessionUsageError(
          `${what} ${name}: template definitions belong in the NBIRTH (node metrics)`,
        );
      return;
    }
    const definition = [...this.nodeMetrics.values()].find(
      (r) =>
        r.datatype === DataType.Template &&
        (r.value as Template | undefined)?.isDefinition &&
        r.name === t.templateRef,
    );
    if (!definition) {
      throw new SessionUsageError(
        `${what} ${name}: template instance of ${JSON.stringify(t.templateRef)}, which no node metric defines`,
      );
    }
    const members = new Set((definition.value as Template).metrics.map((m) => m.name));
    for (const m of t.metrics) {
      if (!members.has(m.name)) {
        throw new SessionUsageError(
          `${what} ${name}: member ${JSON.stringify(m.name)} is not in definition ${t.templateRef}`,
        );
      }
    }
    if (t.metrics.length !== members.size) {
      throw new SessionUsageError(
        `${what} ${name}: a birth must carry every member of definition ${t.templateRef}`,
      );
    }
  }

  private takeAlias(): number {
    while (this.usedAliases.has(this.nextAlias)) this.nextAlias++;
    return this.nextAlias++;
  }

  private device(deviceId: string, op: string): DeviceRecord {
    this.checkOpen(op);
    const device = this.devices.get(deviceId);
    if (!device)
      throw new SessionUsageError(`${op}: unknown device ${JSON.stringify(deviceId)} (defineDevice first)`);
    return device;
  }

  private checkOpen(op: string): void {
    if (this._state === 'closed' || this.closing) throw new ClosedError(`EdgeNode.${op}`);
  }

  private update(
    table: Map<string, MetricRecord>,
    deviceId: string | undefined,
    updates: readonly MetricUpdate[],
  ): PublishOutcome {
    const now = Date.now();
    const metrics: Array<{ name: string; value: MetricValue; timestamp: number }> = new Array(updates.length);
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i]!;
      const record = table.get(u.name);
      if (!record) {
        throw new SessionUsageError(
          `${deviceId === undefined ? 'updateNode' : `updateDevice ${deviceId}`}: metric ${JSON.stringify(u.name)} was not declared in the birth`,
        );
      }
      metrics[i] = { name: u.name, value: u.value, timestamp: u.timestamp ?? now };
    }
    const message: StoredMessage = { deviceId, metrics };
    const online = this._state === 'online' && (deviceId === undefined || this.devices.get(deviceId)!.born);
    let outcome: PublishOutcome;
    if (online && this.bufferedBytes() > this.maxBufferedBytes) {
      // The broker does not keep up (its socket is full): do not grow the write buffer without bound.
      this.encodeData(message, false); // validation only
      const policy = this.store?.policy ?? 'drop-newest';
      if (policy === 'reject') throw new BufferOverflowError(this.maxBufferedBytes, 'bytes');
      this.counters.backpressureDrops += metrics.length;
      this.logger.warn('sparkplug: broker not keeping up, update dropped', {
        bufferedBytes: this.bufferedBytes(),
      });
      this.emit('overflow', { dropped: metrics.length, policy: 'backpressure' });
      outcome = 'dropped';
    } else if (online) {
      // Encoding validates every value before anything is sent or recorded.
      this.publishData(message, false);
      outcome = 'sent';
    } else {
      this.encodeData(message, false); // validation only: a bad value fails now, not at replay
      outcome = this.storeMessage(message, false) ? 'stored' : 'dropped';
    }
    for (const m of metrics) {
      const record = table.get(m.name)!;
      record.value = m.value;
      record.timestamp = m.timestamp;
    }
    return outcome;
  }

  private bufferedBytes(): number {
    return (this.client?.stream as { writableLength?: number } | undefined)?.writableLength ?? 0;
  }

  private storeMessage(message: StoredMessage, front: boolean): boolean {
    if (!this.store) return false;
    const dropped = this.store.add(message, front);
    if (dropped > 0) {
      this.logger.warn('sparkplug: store-and-forward buffer full, updates dropped', {
        dropped,
        policy: this.store.policy,
      });
      this.emit('overflow', { dropped, policy: this.store.policy });
      return !(this.store.policy === 'drop-newest' && !front && dropped === message.metrics.length);
    }
    return true;
  }

  // --- publishing ---------------------------------------------------------------------------------------

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xff; // §6.4.19: 0–255, then 0 again
    return s;
  }

  private datatypesOf(deviceId: string | undefined): DatatypeLookup {
    const table = deviceId === undefined ? this.nodeMetrics : this.devices.get(deviceId)?.metrics;
    return (m) => (m.name === undefined ? undefined : table?.get(m.name)?.datatype);
  }

  private encodeData(message: StoredMessage, historical: boolean, seq?: number): Uint8Array {
    const table =
      message.deviceId === undefined ? this.nodeMetrics : this.devices.get(message.deviceId)!.metrics;
    const metrics: Metric[] = new Array(message.metrics.length);
    for (let i = 0; i < message.metrics.length; i++) {
      const m = message.metrics[i]!;
      const record = table.get(m.name)!;
      // §6.4.2: DATA carries the alias only (when aliases are used); the datatype is omitted (the host
      // knows it from the birth) but used here to encode the value.
      const out: Metric =
        record.alias !== undefined
          ? { alias: record.alias, timestamp: m.timestamp, value: m.value }
          : { name: m.name, timestamp: m.timestamp, value: m.value };
      if (historical) out.isHistorical = true;
      metrics[i] = out;
    }
    const byAlias =
      message.deviceId === undefined ? this.nodeByAlias : this.devices.get(message.deviceId)!.byAlias;
    const byName = this.datatypesOf(message.deviceId);
    return encodePayload(
      { timestamp: Date.now(), metrics, ...(seq === undefined ? {} : { seq }) },
      {
        datatypes: (m) => (m.alias !== undefined ? byAlias.get(Number(m.alias))?.datatype : byName(m)),
      },
    );
  }

  private publishData(message: StoredMessage, historical: boolean): void {
    const bytes = this.encodeData(message, historical, this.seq);
    this.nextSeq();
    const topic =
      message.deviceId === undefined
        ? nodeTopic(this.groupId, 'NDATA', this.edgeNodeId)
        : deviceTopic(this.groupId, 'DDATA', this.edgeNodeId, message.deviceId);
    this.send(topic, bytes, message.metrics.length);
    if (this.confirmIntervalMs > 0 && this.store) {
      this.unconfirmed.push(message);
      this.unconfirmedMetrics += message.metrics.length;
      // Bounded like the store: when the window outgrows it, forget the oldest (most likely delivered).
      while (this.unconfirmedMetrics > this.store.maxMetrics && this.unconfirmed.length > 0) {
        this.unconfirmedMetrics -= this.unconfirmed.shift()!.metrics.length;
      }
    }
  }

  private publish(topic: string, payload: Payload): void {
    this.send(topic, encodePayload(payload), payload.metrics.length);
  }

  private send(topic: string, bytes: Uint8Array, metricCount: number): void {
    const client = this.client!;
    // QoS 0, not retained: required for NBIRTH, DBIRTH, NDATA, DDATA, DDEATH (§4.1, §6.4.19).
    // No callback: with one, MQTT.js adds a 'drain' listener per publish while the socket is
    // backpressured (thousands of listeners on a slow broker).
    client.publish(topic, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      qos: 0,
      retain: false,
    });
    this.counters.messagesSent++;
    this.counters.metricsSent += metricCount;
  }

  private birthMetric(r: MetricRecord, now: number): Metric {
    const m: Metric = { name: r.name, datatype: r.datatype, timestamp: r.timestamp ?? now };
    if (r.alias !== undefined) m.alias = r.alias;
    m.value = r.value === undefined ? null : r.value;
    if (r.properties !== undefined) m.properties = r.properties;
    if (r.metadata !== undefined) m.metadata = r.metadata;
    if (r.isTransient !== undefined) m.isTransient = r.isTransient;
    return m;
  }

  private publishDeviceBirth(device: DeviceRecord): void {
    if (device.dead) return;
    const now = Date.now();
    const metrics: Metric[] = [];
    for (const r of device.metrics.values()) metrics.push(this.birthMetric(r, now));
    this.publish(deviceTopic(this.groupId, 'DBIRTH', this.edgeNodeId, device.id), {
      timestamp: now,
      seq: this.nextSeq(),
      metrics,
    });
    device.born = true;
  }

  /** NBIRTH (seq 0), every DBIRTH, then whatever was stored, as historical DATA. */
  private birth(rebirth: boolean): void {
    const now = Date.now();
    this.seq = 0;
    const metrics: Metric[] = [
      // §6.4.19 / §5.4: bdSeq (Int64) as in the will of this connection; Node Control/Rebirth (Boolean,
      // false, never aliased).
      { name: BDSEQ_METRIC, datatype: DataType.Int64, timestamp: now, value: this.bdSeq },
      { name: REBIRTH_METRIC, datatype: DataType.Boolean, timestamp: now, value: false },
    ];
    for (const r of this.nodeMetrics.values()) metrics.push(this.birthMetric(r, now));
    this.publish(nodeTopic(this.groupId, 'NBIRTH', this.edgeNodeId), {
      timestamp: now,
      seq: this.nextSeq(),
      metrics,
    });
    for (const device of this.devices.values()) device.born = false;
    for (const device of this.devices.values()) this.publishDeviceBirth(device);
    this.counters.births++;
    this.setState('online');
    if (this.store && this.store.messages > 0) {
      for (const message of this.store.drain()) {
        const device = message.deviceId === undefined ? undefined : this.devices.get(message.deviceId);
        if (message.deviceId !== undefined && !device?.born) {
          this.logger.warn('sparkplug: stored DATA of a device that is gone or dead, dropped', {
            deviceId: message.deviceId,
            metrics: message.metrics.length,
          });
          continue;
        }
        const table = device ? device.metrics : this.nodeMetrics;
        if (!message.metrics.every((m) => table.has(m.name))) {
          this.logger.warn('sparkplug: stored DATA of metrics no longer declared, dropped', {
            deviceId: message.deviceId,
          });
          continue;
        }
        try {
          this.publishData(message, true);
          this.counters.replayed++;
        } catch (error) {
          // A metric re-declared with another datatype since the value was stored: the value no longer fits.
          this.logger.warn('sparkplug: stored DATA no longer encodable, dropped', {
            deviceId: message.deviceId,
            error: (error as Error).message,
          });
        }
      }
    }
    this.emit('birth', { bdSeq: this.bdSeq, rebirth });
    const waiters = this.onlineWaiters;
    this.onlineWaiters = [];
    for (const w of waiters) w.resolve();
  }

  // --- connection -------------------------------------------------------------------------------------

  private setState(state: SessionState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }

  private ndeathPayload(): Uint8Array {
    // §6.4.20: NDEATH carries only bdSeq, no seq.
    return encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: BDSEQ_METRIC, datatype: DataType.Int64, value: this.bdSeq }],
    });
  }

  private scheduleReconnect(): void {
    if (this._state === 'closed' || this.closing || this.reconnectTimer) return;
    const stableAfter = this.options.reconnect?.stableAfterMs ?? 10_000;
    if (this.connectedAt > 0 && Date.now() - this.connectedAt >= stableAfter) this.attempt = 0;
    const delay = backoffDelay(
      this.attempt,
      { initialDelayMs: 100, maxDelayMs: 10_000, ...this.options.reconnect },
      this.random,
    );
    this.attempt++;
    this.logger.debug('sparkplug: reconnect scheduled', { delayMs: delay, attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectNow();
    }, delay);
  }

  private connectNow(): void {
    if (this._state === 'closed' || this.closing) return;
    this.setState(this.firstConnect ? 'connecting' : 'offline');
    // §4.1.x: bdSeq starts at 0 and goes up by one with every new MQTT CONNECT (0–255, then 0).
    if (!this.firstConnect) this.bdSeq = (this.bdSeq + 1) & 0xff;
    this.firstConnect = false;
    const url = this.urls[this.urlIndex % this.urls.length]!;
    this.urlIndex++;
    const version = this.options.protocolVersion ?? 4;
    const clientOptions: IClientOptions = {
      ...this.options.mqttOptions,
      clientId:
        this.options.clientId ??
        `${this.groupId}-${this.edgeNodeId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64),
      protocolVersion: version,
      // §3 / tck-id-principles-persistence-clean-session: Clean Session (3.1.1) or Clean Start with a
      // session expiry of 0 (5.0).
      clean: true,
      ...(version === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
      keepalive: this.options.keepaliveSeconds ?? 30,
      reconnectPeriod: 0,
      // Our own deadline (below) covers CONNECT, CONNACK and SUBACK; MQTT.js's is only a backstop.
      connectTimeout: Number.isFinite(this.connectTimeoutMs) ? this.connectTimeoutMs + 1_000 : 2 ** 31 - 1,
      resubscribe: false,
      queueQoSZero: false,
      will: {
        topic: nodeTopic(this.groupId, 'NDEATH', this.edgeNodeId),
        payload: Buffer.from(this.ndeathPayload()),
        qos: 1, // §6.4.20: the NDEATH will is QoS 1 and not retained
        retain: false,
      },
    };
    if (this.options.username !== undefined) clientOptions.username = this.options.username;
    if (this.options.password !== undefined) clientOptions.password = this.options.password;
    this.logger.info('sparkplug: connecting', { url, bdSeq: this.bdSeq });
    const client = mqtt.connect(url, clientOptions);
    // No Nagle: DATA messages are small and latency-bound; with Nagle a message can wait for the ACK of
    // the previous one (up to the peer's delayed-ACK timer, 40 ms on Linux). MQTT.js creates the socket
    // synchronously in connect(); other transports (WebSocket) have no setNoDelay.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.client = client;
    let established = false;
    let failed = false;
    const fail = (error: Error) => {
      if (failed || this.client !== client) return;
      failed = true;
      clearTimeout(connectTimer);
      this.stopConfirm();
      client.removeAllListeners();
      client.on('error', noop);
      client.end(true);
      this.client = undefined;
      for (const d of this.devices.values()) d.born = false;
      if (established) {
        this.requeueUnconfirmed();
        this.logger.warn('sparkplug: connection lost', { url, error: error.message });
      } else {
        this.counters.connectFailures++;
        this.logger.warn('sparkplug: connect failed', { url, error: error.message });
      }
      this.emit('disconnect', error);
      if (this._state !== 'closed' && !this.closing) {
        this.setState('offline');
        this.scheduleReconnect();
      }
    };
    // Connect + subscriptions, under one deadline.
    const connectTimer = Number.isFinite(this.connectTimeoutMs)
      ? setTimeout(
          () => fail(new MqttConnectError(url, new TimeoutError('MQTT connect', this.connectTimeoutMs))),
          this.connectTimeoutMs,
        )
      : undefined;
    client.on('error', (error) => fail(established ? error : new MqttConnectError(url, error)));
    client.on('close', () =>
      fail(
        established
          ? new Error('connection closed')
          : new MqttConnectError(url, new Error('connection closed')),
      ),
    );
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    client.on('connect', () => {
      this.hostOnline = false; // what a host said on another connection does not count here
      const subscriptions: Record<string, { qos: 0 | 1 }> = {
        [this.ncmdTopic]: { qos: 1 },
        [this.dcmdFilter]: { qos: 1 },
      };
      if (this.options.primaryHostId !== undefined)
        subscriptions[stateTopic(this.options.primaryHostId)] = { qos: 1 };
      client.subscribe(subscriptions, (error) => {
        if (this.client !== client || failed) return;
        if (error) return fail(new MqttConnectError(url, error));
        clearTimeout(connectTimer);
        established = true;
        this.connectedAt = Date.now();
        this.counters.connects++;
        this.startConfirm(client);
        // The host's retained STATE may arrive before or after the SUBACK (brokers differ): born at once
        // if it already said online on this connection, else when it does.
        if (this.options.primaryHostId === undefined || this.hostOnline) this.birth(false);
        else this.setState('waiting-for-host');
      });
    });
  }

  private requeueUnconfirmed(): void {
    const pending = this.unconfirmed;
    this.unconfirmed = [];
    this.unconfirmedMetrics = 0;
    for (let i = pending.length - 1; i >= 0; i--) this.storeMessage(pending[i]!, true);
  }

  private startConfirm(client: MqttClient): void {
    if (this.confirmIntervalMs <= 0 || !this.store) return;
    this.barrierPending = false;
    this.confirmTimer = setInterval(() => {
      if (this.barrierPending || this.unconfirmed.length === 0 || this.client !== client) return;
      // A QoS 1 SUBSCRIBE is answered after the broker has read every packet sent before it on this
      // connection: its SUBACK confirms the DATA messages sent so far (re-subscribing NCMD changes nothing).
      const upTo = this.unconfirmed.length;
      this.barrierPending = true;
      client.subscribe({ [this.ncmdTopic]: { qos: 1 } }, (error) => {
        this.barrierPending = false;
        if (error || this.client !== client) return;
        this.counters.confirmations++;
        const confirmed = this.unconfirmed.splice(0, upTo);
        for (const m of confirmed) this.unconfirmedMetrics -= m.metrics.length;
      });
    }, this.confirmIntervalMs);
    this.confirmTimer.unref?.();
  }

  private stopConfirm(): void {
    if (this.confirmTimer) clearInterval(this.confirmTimer);
    this.confirmTimer = undefined;
    this.barrierPending = false;
  }

  // --- incoming ---------------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    try {
      if (this.options.primaryHostId !== undefined && topic === stateTopic(this.options.primaryHostId)) {
        this.onHostState(this.options.primaryHostId, payload);
        return;
      }
      if (retained) {
        // NCMD/DCMD are never retained (§6.4.x); a retained one is stale and would be replayed on every
        // (re)subscription, the delivery barrier's included.
        throw new CommandError('retained command ignored (commands must not be retained)', topic);
      }
      const parsed = parseTopic(topic);
      if (parsed.kind === 'state' || parsed.groupId !== this.groupId || parsed.edgeNodeId !== this.edgeNodeId)
        return;
      if (parsed.messageType === 'NCMD') this.onCommand(topic, undefined, payload);
      else if (parsed.messageType === 'DCMD' && parsed.kind === 'device')
        this.onCommand(topic, parsed.deviceId, payload);
    } catch (error) {
      this.counters.commandErrors++;
      this.logger.warn('sparkplug: command ignored', { topic, error: (error as Error).message });
      this.emit('commandError', error as Error, topic);
    }
  }

  private onCommand(topic: string, deviceId: string | undefined, bytes: Uint8Array): void {
    let table: Map<string, MetricRecord>;
    let byAlias: Map<number, MetricRecord>;
    if (deviceId === undefined) {
      table = this.nodeMetrics;
      byAlias = this.nodeByAlias;
    } else {
      const device = this.devices.get(deviceId);
      if (!device) throw new CommandError(`DCMD for unknown device ${JSON.stringify(deviceId)}`, topic);
      table = device.metrics;
      byAlias = device.byAlias;
    }
    const resolve = (m: { name?: string | undefined; alias?: Int64 | undefined }) =>
      m.name !== undefined
        ? table.get(m.name)
        : m.alias !== undefined
          ? byAlias.get(Number(m.alias))
          : undefined;
    const payload = decodePayload(bytes, {
      ...this.options.decodeLimits,
      datatypes: (m) =>
        m.name === REBIRTH_METRIC && deviceId === undefined ? DataType.Boolean : resolve(m)?.datatype,
    });
    const metrics: Array<EdgeCommand['metrics'][number]> = [];
    let rebirth = false;
    for (const m of payload.metrics) {
      if (deviceId === undefined && m.name === REBIRTH_METRIC) {
        if (m.value !== true)
          throw new CommandError(`${REBIRTH_METRIC} with value ${String(m.value)} (true expected)`, topic);
        rebirth = true;
        continue;
      }
      const record = resolve(m);
      if (!record) {
        throw new CommandError(
          `command for a metric not in the birth: ${m.name !== undefined ? JSON.stringify(m.name) : `alias ${String(m.alias)}`}`,
          topic,
        );
      }
      if (m.datatype !== undefined && m.datatype !== record.datatype) {
        throw new CommandError(
          `command for ${record.name} with datatype ${m.datatype}, birth says ${record.datatype}`,
          topic,
        );
      }
      metrics.push({
        name: record.name,
        datatype: record.datatype,
        value: m.value,
        ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp }),
      });
    }
    this.counters.commands++;
    if (rebirth) {
      this.logger.info('sparkplug: rebirth requested');
      // §5.x rebirth: stop DATA, send NBIRTH (same bdSeq) and DBIRTHs; never an NDEATH first.
      if (this._state === 'online') this.birth(true);
      this.emit('rebirth');
    }
    if (metrics.length > 0) {
      this.emit('command', { type: deviceId === undefined ? 'NCMD' : 'DCMD', deviceId, metrics, payload });
    }
  }

  private onHostState(hostId: string, bytes: Uint8Array): void {
    let state: { online: boolean; timestamp: number };
    try {
      const json = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
      const o = json as { online?: unknown; timestamp?: unknown };
      if (
        typeof o !== 'object' ||
        o === null ||
        typeof o.online !== 'boolean' ||
        typeof o.timestamp !== 'number'
      ) {
        throw new Error('expected {"online": boolean, "timestamp": number}');
      }
      state = { online: o.online, timestamp: o.timestamp };
    } catch (error) {
      throw new CommandError(`malformed STATE payload: ${(error as Error).message}`, stateTopic(hostId), {
        cause: error,
      });
    }
    const url = this.urls[(this.urlIndex - 1) % this.urls.length]!;
    const last = this.lastHostTimestamp.get(url);
    // §5.x: a STATE older than the last one seen is stale and ignored.
    if (last !== undefined && state.timestamp < last) {
      this.logger.debug('sparkplug: stale STATE ignored', { hostId, ...state, last });
      return;
    }
    this.lastHostTimestamp.set(url, state.timestamp);
    this.emit('hostState', { hostId, ...state });
    if (state.online) {
      this.hostOnline = true;
      if (this._state === 'waiting-for-host') this.birth(false);
    } else {
      this.hostOnline = false;
      if (this._state === 'online') {
        // The primary host went away: NDEATH, disconnect, start over (next broker, new bdSeq).
        this.logger.warn('sparkplug: primary host offline, ending the session', { hostId });
        const client = this.client!;
        client.publish(
          nodeTopic(this.groupId, 'NDEATH', this.edgeNodeId),
          Buffer.from(this.ndeathPayload()),
          { qos: 1, retain: false },
          () => {
            client.end(false);
          },
        );
        // Stop DATA at once: what comes now is stored.
        this.setState('offline');
      }
    }
  }

  // --- close --------------------------------------------------------------------------------------------

  private async doClose(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopConfirm();
    const wasOnline = this._state === 'online';
    const client = this.client;
    const waiters = this.onlineWaiters;
    this.onlineWaiters = [];
    for (const w of waiters) w.reject(new ClosedError('EdgeNode.waitOnline'));
    if (client) {
      client.removeAllListeners('close');
      client.removeAllListeners('message');
      client.on('error', noop);
      await new Promise<void>((resolve) => {
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          deadline.clear();
          resolve();
        };
        const force = () => {
          client.end(true, {}, finish);
          setImmediate(finish);
        };
        const deadline = armDeadline(timeoutMs, signal, force, force);
        if (!client.connected) return force();
        if ((this.options.protocolVersion ?? 4) === 5) {
          // MQTT 5: DISCONNECT with reason 0x04 "Disconnect with Will Message": the broker sends NDEATH.
          client.end(false, { reasonCode: 4 }, finish);
        } else if (wasOnline || this._state === 'waiting-for-host' || this._state === 'offline') {
          // MQTT 3.1.1: NDEATH (QoS 1, acknowledged) before DISCONNECT.
          client.publish(
            nodeTopic(this.groupId, 'NDEATH', this.edgeNodeId),
            Buffer.from(this.ndeathPayload()),
            { qos: 1, retain: false },
            () => client.end(false, {}, finish),
          );
        } else {
          client.end(false, {}, finish);
        }
      });
      client.removeAllListeners();
      client.on('error', noop);
    }
    this.client = undefined;
    this.setState('closed');
  }
}
