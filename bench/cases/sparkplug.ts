// @labwire/sparkplug benchmarks (issue 15): the library, and the gateway's 100 × 64 × 10 Hz fleet run
// (bench/gateway-fleet.ts: the built labwire-gateway program, through aedes and through Mosquitto):
// - encode / decode of a 64-metric DDATA (alias, timestamp, Double value per metric) against protobufjs
//   encoding / decoding the same message with a plain schema and no checks (the fastest plain-Node way);
// - end-to-end metric updates/s through aedes: EdgeNode.updateDevice → broker → an independent MQTT.js
//   subscriber that decodes every DDATA, against raw MQTT.js publishing the same pre-encoded bytes to a
//   raw subscriber that does not decode (so a ratio near 1 means "at the limit of MQTT.js + aedes");
// - latency p99 (update call → decoded at the subscriber) at the gateway's rate: 100 devices × 64
//   metrics at 10 Hz (64 000 metric updates/s), paced, for 4 s.
// Broker, edge node and subscriber share this process (and its core).

import net from 'node:net';
import { EdgeNode } from '@labwire/sparkplug';
import { DataType, decodePayload, encodePayload, type Metric, MetricCatalog } from '@labwire/sparkplug/codec';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import protobuf from 'protobufjs/light.js';
import { gatewayFleetCases, until } from '../gateway-fleet';
import type { BenchCase } from '../harness';

const METRICS = 64;

// --- codec ----------------------------------------------------------------------------------------------

// Baseline schema: only the fields a DDATA uses, no Sparkplug checks, no value conversion.
const rawRoot = protobuf.Root.fromJSON({
  nested: {
    Payload: {
      fields: {
        timestamp: { type: 'uint64', id: 1 },
        metrics: { rule: 'repeated', type: 'Metric', id: 2 },
        seq: { type: 'uint64', id: 3 },
      },
      nested: {
        Metric: {
          fields: {
            alias: { type: 'uint64', id: 2 },
            timestamp: { type: 'uint64', id: 3 },
            doubleValue: { type: 'double', id: 13 },
          },
        },
      },
    },
  },
});
const RawPayload = rawRoot.lookupType('Payload');

function ddata(i: number): { timestamp: number; seq: number; metrics: Metric[] } {
  const now = 1_700_000_000_000 + i;
  const metrics: Metric[] = new Array(METRICS);
  for (let m = 0; m < METRICS; m++) metrics[m] = { alias: m + 1, timestamp: now, value: m * 1.5 + i };
  return { timestamp: now, seq: i & 0xff, metrics };
}

const lookupDouble = () => DataType.Double;

function opsPerSecond(count: number, fn: (i: number) => void): number {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  return count / ((performance.now() - t0) / 1000);
}

const ENCODE_COUNT = 20_000;
const messages = Array.from({ length: 64 }, (_, i) => ddata(i));
const rawMessages = messages.map((p) => ({
  timestamp: p.timestamp,
  seq: p.seq,
  metrics: p.metrics.map((m) => ({ alias: m.alias, timestamp: m.timestamp, doubleValue: m.value })),
}));
const encoded = messages.map((p) => encodePayload(p, { datatypes: lookupDouble }));

// --- end to end -----------------------------------------------------------------------------------------

interface Broker {
  url: string;
  close(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  const broker = await Aedes.createBroker();
  const server = net.createServer({ noDelay: true }, broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

async function connectClient(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, clean: true });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

interface Subscriber {
  client: MqttClient;
  /** Metric updates decoded from DDATA. */
  metrics: number;
  /** Latencies (ms) from the value carried in metric 0 (a performance.now() stamp) to decoding. */
  latencies: number[];
}

async function sparkplugSubscriber(url: string, measureLatency: boolean): Promise<Subscriber> {
  const client = await connectClient(url);
  const catalog = new MetricCatalog();
  const sub: Subscriber = { client, metrics: 0, latencies: [] };
  client.on('message', (topic, raw) => {
    const type = topic.split('/')[2];
    const payload = decodePayload(raw, { datatypes: catalog.datatypes });
    if (type === 'NBIRTH' || type === 'DBIRTH') catalog.learn(payload);
    else if (type === 'DDATA') {
      sub.metrics += payload.metrics.length;
      if (measureLatency) sub.latencies.push(performance.now() - (payload.metrics[0]!.value as number));
    }
  });
  await client.subscribeAsync('spBv1.0/#', { qos: 0 });
  return sub;
}

function defineDevices(node: EdgeNode, devices: number): void {
  for (let d = 0; d < devices; d++) {
    node.defineDevice(
      `dev${d}`,
      Array.from({ length: METRICS }, (_, m) => ({ name: `AI/${m}`, datatype: DataType.Double, value: 0 })),
    );
  }
}

const names = Array.from({ length: METRICS }, (_, m) => `AI/${m}`);
function updates(stamp: number, i: number): Array<{ name: string; value: number }> {
  const out = new Array(METRICS);
  out[0] = { name: names[0]!, value: stamp };
  for (let m = 1; m < METRICS; m++) out[m] = { name: names[m]!, value: i + m / 8 };
  return out;
}

const BURST_MESSAGES = 2_000; // × 64 metrics = 128 000 metric updates
const BURST_DEVICES = 10;

/** Metric updates/s from the first updateDevice to the last DDATA decoded by the subscriber. */
async function sessionBurst(): Promise<number> {
  const broker = await startBroker();
  const sub = await sparkplugSubscriber(broker.url, false);
  const node = new EdgeNode({ brokerUrl: broker.url, groupId: 'bench', edgeNodeId: 'edge' });
  defineDevices(node, BURST_DEVICES);
  await node.start({ timeoutMs: 10_000 });
  const t0 = performance.now();
  for (let i = 0; i < BURST_MESSAGES; i++) {
    node.updateDevice(`dev${i % BURST_DEVICES}`, updates(i, i));
    // Yield now and then so the broker and the subscriber run while we produce (as a real source would).
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await until(() => sub.metrics >= BURST_MESSAGES * METRICS, 60_000, 'all DDATA at the subscriber');
  const rate = (BURST_MESSAGES * METRICS) / ((performance.now() - t0) / 1000);
  await node.close();
  await sub.client.endAsync(true);
  await broker.close();
  return rate;
}

/** The same bytes published by raw MQTT.js (pre-encoded, QoS 0) to a raw subscriber that only counts. */
async function rawBurst(): Promise<number> {
  const broker = await startBroker();
  const subClient = await connectClient(broker.url);
  let received = 0;
  subClient.on('message', () => {
    received++;
  });
  await subClient.subscribeAsync('spBv1.0/#', { qos: 0 });
  const pub = await connectClient(broker.url);
  const bytes = encoded.map((b) => Buffer.from(b));
  const t0 = performance.now();
  for (let i = 0; i < BURST_MESSAGES; i++) {
    pub.publish(`spBv1.0/bench/DDATA/edge/dev${i % BURST_DEVICES}`, bytes[i % bytes.length]!, { qos: 0 });
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await until(() => received >= BURST_MESSAGES, 60_000, 'all raw messages at the subscriber');
  const rate = (BURST_MESSAGES * METRICS) / ((performance.now() - t0) / 1000);
  await pub.endAsync(true);
  await subClient.endAsync(true);
  await broker.close();
  return rate;
}

const PACED_DEVICES = 100;
const PACED_HZ = 10;
const PACED_SECONDS = 4;
let lastPaced: { p50: number; p99: number; rate: number } | undefined;

/** 100 devices × 64 metrics at 10 Hz, each device on its own phase of the 100 ms period. */
async function paced(): Promise<{ p50: number; p99: number; rate: number }> {
  const broker = await startBroker();
  const sub = await sparkplugSubscriber(broker.url, true);
  const node = new EdgeNode({ brokerUrl: broker.url, groupId: 'bench', edgeNodeId: 'edge' });
  defineDevices(node, PACED_DEVICES);
  await node.start({ timeoutMs: 10_000 });
  const tickMs = 10;
  const perTick = (PACED_DEVICES * PACED_HZ * tickMs) / 1000; // devices due per 10 ms tick
  const ticks = (PACED_SECONDS * 1000) / tickMs;
  const t0 = performance.now();
  let sent = 0;
  for (let tick = 0; tick < ticks; tick++) {
    // Schedule on absolute times (no drift); a late tick catches up.
    const due = t0 + tick * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let k = 0; k < perTick; k++) {
      const d = (tick * perTick + k) % PACED_DEVICES;
      node.updateDevice(`dev${d}`, updates(performance.now(), sent));
      sent++;
    }
  }
  await until(() => sub.latencies.length >= sent, 30_000, 'paced DDATA at the subscriber');
  const seconds = (performance.now() - t0) / 1000;
  const sorted = sub.latencies.sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  await node.close();
  await sub.client.endAsync(true);
  await broker.close();
  lastPaced = { p50: q(0.5), p99: q(0.99), rate: (sent * METRICS) / seconds };
  return lastPaced;
}

export const cases: BenchCase[] = [
  {
    name: 'sparkplug.encode-ddata-64',
    metric: 'encodes/s, 64-metric DDATA',
    unit: 'msg/s',
    baselineName: 'protobufjs encode, same message, no checks',
    target: 0.5,
    compare: 'ratio>=',
    baseline: async () => opsPerSecond(ENCODE_COUNT, (i) => RawPayload.encode(rawMessages[i & 63]!).finish()),
    run: async () =>
      opsPerSecond(ENCODE_COUNT, (i) => encodePayload(messages[i & 63]!, { datatypes: lookupDouble })),
  },
  {
    name: 'sparkplug.decode-ddata-64',
    metric: 'decodes/s, 64-metric DDATA',
    unit: 'msg/s',
    baselineName: 'protobufjs decode, same bytes, no checks',
    // Our decode is three passes (structural scan with the hostile-input limits, protobufjs, typed
    // conversion with exact 64-bit values); the baseline is the middle one alone, unchecked.
    target: 0.33,
    compare: 'ratio>=',
    baseline: async () => opsPerSecond(ENCODE_COUNT, (i) => RawPayload.decode(encoded[i & 63]!)),
    run: async () =>
      opsPerSecond(ENCODE_COUNT, (i) => decodePayload(encoded[i & 63]!, { datatypes: lookupDouble })),
  },
  {
    name: 'sparkplug.e2e-aedes-burst',
    metric: 'metric updates/s, updateDevice → aedes → decoding subscriber',
    unit: 'metrics/s',
    baselineName: 'raw MQTT.js, same bytes pre-encoded, subscriber not decoding',
    target: 64_000,
    compare: 'value>=',
    baseline: rawBurst,
    run: sessionBurst,
    runs: 3,
  },
  {
    name: 'sparkplug.e2e-aedes-paced-p99',
    metric: `latency p99, ${PACED_DEVICES} devices × ${METRICS} metrics at ${PACED_HZ} Hz`,
    unit: 'ms',
    baselineName: '(absolute target)',
    target: 50,
    compare: 'value<=',
    run: async () => (await paced()).p99,
    runs: 3,
  },
  {
    name: 'sparkplug.e2e-aedes-paced-rate',
    metric: 'delivered metric updates/s in the paced run',
    unit: 'metrics/s',
    baselineName: '(offered 64 000/s)',
    target: 0.95 * PACED_DEVICES * METRICS * PACED_HZ,
    compare: 'value>=',
    run: async () => (lastPaced ?? (await paced())).rate,
    runs: 1,
    noWarmup: true,
  },
  ...gatewayFleetCases,
];
