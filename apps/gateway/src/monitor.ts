// An independent Sparkplug B subscriber: its own MQTT connection, decoding what every edge node publishes
// with the datatypes and aliases its births declared, and checking what a host application checks: seq
// goes up by one per message (0–255, then 0) from each NBIRTH, an NDEATH names the bdSeq of the session it
// ends, DATA follows a birth. `labwire-gateway watch` and the demo's live view are built on it; it can
// also play a host: request a rebirth (NCMD) or write a metric (DCMD).

import { EventEmitter } from 'node:events';
import {
  AbortedError,
  armDeadline,
  type Logger,
  type OperationOptions,
  silentLogger,
  TimeoutError,
} from '@labwire/framing';
import { BDSEQ_METRIC, REBIRTH_METRIC } from '@labwire/sparkplug';
import {
  DataType,
  decodePayload,
  deviceTopic,
  encodePayload,
  type MessageType,
  MetricCatalog,
  type MetricValue,
  NAMESPACE,
  nodeTopic,
  type Payload,
  parseTopic,
} from '@labwire/sparkplug/codec';
import mqtt, { type MqttClient } from 'mqtt';

export interface MonitoredMetric {
  name: string;
  /** From the metric, else from the births (undefined when neither says). */
  datatype: DataType | undefined;
  value: MetricValue | undefined;
  historical: boolean;
}

export interface MonitorMessage {
  /** When it arrived (ms since the epoch). */
  at: number;
  topic: string;
  type: MessageType;
  groupId: string;
  edgeNodeId: string;
  deviceId: string | undefined;
  seq: number | undefined;
  /** The payload's timestamp (ms since the epoch). */
  timestamp: number | undefined;
  metrics: MonitoredMetric[];
  /** What a host would object to: a seq gap, an undecodable payload, DATA before a birth, … */
  problems: string[];
}

export interface DeviceView {
  deviceId: string;
  state: 'online' | 'offline';
  births: number;
  messages: number;
  metrics: number;
  values: Map<string, MetricValue | undefined>;
  lastAt: number;
}

export interface NodeView {
  groupId: string;
  edgeNodeId: string;
  state: 'online' | 'offline' | 'unknown';
  bdSeq: number | undefined;
  /** The seq of the last message (undefined before an NBIRTH). */
  seq: number | undefined;
  births: number;
  messages: number;
  metrics: number;
  seqGaps: number;
  devices: Map<string, DeviceView>;
  catalog: MetricCatalog;
  lastAt: number;
}

export interface MonitorEvents {
  message: [MonitorMessage];
  /** The connection to the broker failed or was lost (MQTT.js reconnects with its period). */
  connection: [state: 'connected' | 'offline', error?: Error];
}

export interface MonitorOptions extends OperationOptions {
  /** Only this group (default every group: `spBv1.0/+/…`). */
  groupId?: string;
  /** Ask unknown edge nodes (DATA seen, no NBIRTH) for a rebirth, as a host application does. */
  requestRebirth?: boolean;
  /** Reconnect period of the subscriber, ms (0: no reconnect). Default 1 000. */
  reconnectPeriodMs?: number;
  clientId?: string;
  username?: string;
  password?: string;
  logger?: Logger;
}

const toNumber = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;

export class SparkplugMonitor extends EventEmitter<MonitorEvents> implements AsyncDisposable {
  readonly nodes = new Map<string, NodeView>();
  readonly counts: Partial<Record<MessageType, number>> = {};
  readonly client: MqttClient;
  readonly #log: Logger;
  readonly #requestRebirth: boolean;
  readonly #rebirthAsked = new Set<string>();
  #problems = 0;

  private constructor(client: MqttClient, options: MonitorOptions) {
    super();
    this.client = client;
    this.#log = options.logger ?? silentLogger;
    this.#requestRebirth = options.requestRebirth === true;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('connect', () => this.emit('connection', 'connected'));
    client.on('offline', () => this.emit('connection', 'offline'));
  }

  /** Connects and subscribes to the Sparkplug namespace (QoS 1, so QoS 1 messages such as NDEATH stay QoS 1). */
  static async connect(url: string, options: MonitorOptions = {}): Promise<SparkplugMonitor> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const client = mqtt.connect(url, {
      clean: true,
      reconnectPeriod: options.reconnectPeriodMs ?? 1_000,
      connectTimeout: timeoutMs,
      clientId: options.clientId ?? `labwire-watch-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
    });
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    client.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = armDeadline(
          timeoutMs,
          options.signal,
          () => reject(new TimeoutError(`MQTT connect to ${url}`, timeoutMs)),
          (reason) => reject(new AbortedError(`MQTT connect to ${url}`, reason)),
        );
        client.once('connect', () => {
          deadline.clear();
          resolve();
        });
        client.once('error', (error) => {
          deadline.clear();
          reject(error);
        });
      });
      const filter = `${NAMESPACE}/${options.groupId ?? '+'}/#`;
      await client.subscribeAsync(filter, { qos: 1 });
    } catch (error) {
      client.end(true);
      throw error;
    }
    return new SparkplugMonitor(client, options);
  }

  /** Messages that broke a rule (seq gaps, undecodable payloads, DATA without a birth). */
  get problems(): number {
    return this.#problems;
  }

  node(groupId: string, edgeNodeId: string): NodeView | undefined {
    return this.nodes.get(`${groupId}/${edgeNodeId}`);
  }

  /** Publishes `Node Control/Rebirth = true` to the edge node (NCMD, QoS 0 as commands are). */
  async rebirth(groupId: string, edgeNodeId: string): Promise<void> {
    const payload = encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: REBIRTH_METRIC, datatype: DataType.Boolean, value: true }],
    });
    await this.client.publishAsync(nodeTopic(groupId, 'NCMD', edgeNodeId), Buffer.from(payload), { qos: 0 });
  }

  /** Writes a device metric (DCMD) with the datatype its DBIRTH declared. */
  async write(
    groupId: string,
    edgeNodeId: string,
    deviceId: string,
    metric: string,
    value: MetricValue,
  ): Promise<void> {
    const node = this.node(groupId, edgeNodeId);
    const datatype = node?.catalog.datatypes({ name: metric });
    if (datatype === undefined)
      throw new RangeError(`no DBIRTH seen with a metric ${JSON.stringify(metric)}`);
    const payload = encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: metric, datatype: datatype as DataType, value }],
    });
    await this.client.publishAsync(deviceTopic(groupId, 'DCMD', edgeNodeId, deviceId), Buffer.from(payload), {
      qos: 0,
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------------------------------------------------

  #view(groupId: string, edgeNodeId: string): NodeView {
    const key = `${groupId}/${edgeNodeId}`;
    let node = this.nodes.get(key);
    if (!node) {
      node = {
        groupId,
        edgeNodeId,
        state: 'unknown',
        bdSeq: undefined,
        seq: undefined,
        births: 0,
        messages: 0,
        metrics: 0,
        seqGaps: 0,
        devices: new Map(),
        catalog: new MetricCatalog(),
        lastAt: 0,
      };
      this.nodes.set(key, node);
    }
    return node;
  }

  #onMessage(topic: string, raw: Buffer): void {
    let parsed: ReturnType<typeof parseTopic>;
    try {
      parsed = parseTopic(topic);
    } catch {
      return; // not Sparkplug
    }
    if (parsed.kind === 'state') return;
    const type = parsed.messageType;
    if (type === 'NCMD' || type === 'DCMD') return; // hosts' commands, not edge-node traffic
    const at = Date.now();
    const node = this.#view(parsed.groupId, parsed.edgeNodeId);
    const deviceId = parsed.kind === 'device' ? parsed.deviceId : undefined;
    const problems: string[] = [];
    if (type === 'NBIRTH') node.catalog.clear();
    let payload: Payload | undefined;
    try {
      payload = decodePayload(raw, { datatypes: node.catalog.datatypes });
    } catch (error) {
      problems.push(`undecodable payload: ${(error as Error).message}`);
    }
    const seq = payload?.seq === undefined ? undefined : toNumber(payload.seq);
    if (payload && (type === 'NBIRTH' || type === 'DBIRTH')) node.catalog.learn(payload);
    const metrics: MonitoredMetric[] = (payload?.metrics ?? []).map((m) => ({
      name: node.catalog.nameOf(m) ?? (m.alias === undefined ? '?' : `alias ${String(m.alias)}`),
      datatype: (m.datatype ?? node.catalog.datatypes(m)) as DataType | undefined,
      value: m.value,
      historical: m.isHistorical === true,
    }));

    // Session rules, as a host checks them.
    if (type === 'NBIRTH') {
      if (seq !== 0) problems.push(`NBIRTH with seq ${String(seq)} (0 expected)`);
      const bd = metrics.find((m) => m.name === BDSEQ_METRIC);
      node.bdSeq = toNumber(bd?.value);
      node.state = 'online';
      node.births++;
      node.seq = seq;
      for (const d of node.devices.values()) d.state = 'offline';
    } else if (type === 'NDEATH') {
      const bd = toNumber(metrics.find((m) => m.name === BDSEQ_METRIC)?.value);
      if (node.bdSeq !== undefined && bd !== node.bdSeq)
        problems.push(`NDEATH bdSeq ${String(bd)} does not end the session of bdSeq ${node.bdSeq}`);
      node.state = 'offline';
      node.seq = undefined;
      for (const d of node.devices.values()) d.state = 'offline';
    } else if (node.state !== 'online') {
      problems.push(`${type} from an edge node without a birth`);
      if (this.#requestRebirth && !this.#rebirthAsked.has(topic)) {
        this.#rebirthAsked.add(topic);
        this.rebirth(node.groupId, node.edgeNodeId).catch((e: unknown) =>
          this.#log.warn('watch: rebirth request failed', { error: (e as Error).message }),
        );
      }
    } else if (seq !== undefined && node.seq !== undefined) {
      const expected = (node.seq + 1) & 0xff;
      if (seq !== expected) {
        node.seqGaps++;
        problems.push(`seq ${seq} after ${node.seq} (${expected} expected)`);
      }
      node.seq = seq;
    }
    if (deviceId !== undefined) {
      let device = node.devices.get(deviceId);
      if (!device) {
        device = {
          deviceId,
          state: 'offline',
          births: 0,
          messages: 0,
          metrics: 0,
          values: new Map(),
          lastAt: 0,
        };
        node.devices.set(deviceId, device);
      }
      if (type === 'DBIRTH') {
        device.state = 'online';
        device.births++;
        device.values.clear();
      } else if (type === 'DDEATH') device.state = 'offline';
      else if (type === 'DDATA' && device.state !== 'online' && node.state === 'online')
        problems.push(`DDATA of ${deviceId} without a DBIRTH`);
      device.messages++;
      device.metrics += metrics.length;
      device.lastAt = at;
      for (const m of metrics) device.values.set(m.name, m.value);
    }
    node.messages++;
    node.metrics += metrics.length;
    node.lastAt = at;
    this.counts[type] = (this.counts[type] ?? 0) + 1;
    if (problems.length > 0) this.#problems++;
    this.emit('message', {
      at,
      topic,
      type,
      groupId: parsed.groupId,
      edgeNodeId: parsed.edgeNodeId,
      deviceId,
      seq,
      timestamp: toNumber(payload?.timestamp),
      metrics,
      problems,
    });
  }
}
