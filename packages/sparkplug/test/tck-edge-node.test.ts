// The normative statements of Sparkplug B 3.0 that apply to an edge node and its devices, one named test
// each (the statement's tck-id in brackets), observed from an independent MQTT.js subscriber on a real
// broker: aedes in this process, and Mosquitto as a child process. With aedes the CONNECT, SUBSCRIBE and
// PUBLISH packets of the edge node are also seen as the broker received them.
//
// One scenario per broker runs in beforeAll; each test asserts one statement on what was recorded:
//   births → 300+ DATA (seq wraps) → DDEATH → rebirth request → DCMD/NCMD (good and malformed)
//   → connection cut (the will NDEATH) → reconnect (bdSeq + 1) → close (NDEATH, DISCONNECT)

import { BDSEQ_METRIC, type EdgeCommand, EdgeNode, REBIRTH_METRIC } from '@labwire/sparkplug';
import { DataType, decodePayload, encodePayload, type Metric, type Payload } from '@labwire/sparkplug/codec';
import { FaultProxy } from '@labwire/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AedesBroker, mosquittoAvailable, startAedes, startMosquitto, type TestBroker } from './brokers';
import { type Observed, Observer } from './observer';

const GROUP = 'Plant 1';
const NODE = 'edge-7';
const WAIT = 15_000;

interface Run {
  broker: TestBroker;
  aedes: AedesBroker | undefined;
  obs: Observer;
  commands: EdgeCommand[];
  commandErrors: Error[];
  /** Index in obs.messages where each phase started. */
  phase: Record<string, number>;
  node: EdgeNode;
  clientId: string;
}

function seqOf(m: Observed): number | undefined {
  return m.payload.seq === undefined ? undefined : Number(m.payload.seq);
}

function metricNamed(p: Payload, name: string): Metric | undefined {
  return p.metrics.find((m) => m.name === name);
}

/** Waits until a live DDATA carrying `value` in its first metric has arrived. */
async function waitValue(obs: Observer, value: number): Promise<void> {
  const until = Date.now() + WAIT;
  const seen = () =>
    obs.of('DDATA').some((m) => !m.payload.metrics[0]!.isHistorical && m.payload.metrics[0]!.value === value);
  while (!seen()) {
    if (Date.now() > until) throw new Error(`no DDATA with ${value}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function hostClient(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, clean: true });
  c.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

async function scenario(kind: 'aedes' | 'mosquitto'): Promise<Run> {
  const broker = kind === 'aedes' ? await startAedes() : await startMosquitto();
  const aedes = kind === 'aedes' ? (broker as AedesBroker) : undefined;
  const obs = await Observer.start(broker.url);
  const host = await hostClient(broker.url);
  // The edge node reaches the broker through a proxy, so that its connection can be cut (the will).
  const proxy = await FaultProxy.start({ target: { port: broker.port } });
  const clientId = `tck-${kind}`;
  const node = new EdgeNode({
    brokerUrl: `mqtt://127.0.0.1:${proxy.port}`,
    groupId: GROUP,
    edgeNodeId: NODE,
    clientId,
    metrics: [
      { name: 'Properties/Hardware', datatype: DataType.String, value: 'labwire' },
      { name: 'Outputs/Enable', datatype: DataType.Boolean, value: false },
      { name: 'Uptime', datatype: DataType.UInt64, value: 0 },
    ],
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
  });
  const commands: EdgeCommand[] = [];
  const commandErrors: Error[] = [];
  node.on('command', (c) => commands.push(c));
  node.on('commandError', (e) => commandErrors.push(e));
  node.defineDevice('d1', [
    { name: 'Inputs/Int8', datatype: DataType.Int8, value: -1 },
    { name: 'Inputs/Int64', datatype: DataType.Int64, value: -1 },
    { name: 'Inputs/UInt64', datatype: DataType.UInt64, value: 2n ** 60n + 1n },
    {
      name: 'Inputs/Temperature',
      datatype: DataType.Double,
      value: 21.5,
      properties: { engUnit: { type: DataType.String, value: '°C' } },
    },
    { name: 'Inputs/Null', datatype: DataType.Float },
    { name: 'Inputs/Counts', datatype: DataType.Int32Array, value: [-1, 2, 3] },
    { name: 'Outputs/Setpoint', datatype: DataType.Double, value: 0 },
  ]);
  node.defineDevice('d2', [{ name: 'Level', datatype: DataType.UInt16, value: 7 }]);
  const phase: Record<string, number> = {};
  const run: Run = { broker, aedes, obs, commands, commandErrors, phase, node, clientId };

  phase.birth = obs.messages.length;
  await node.start({ timeoutMs: WAIT });
  await obs.waitFor('DBIRTH', 2);

  // DATA: enough messages for seq to wrap past 255.
  phase.data = obs.messages.length;
  for (let i = 0; i < 300; i++) {
    if (i % 3 === 2) node.updateDevice('d2', [{ name: 'Level', value: i }]);
    else
      node.updateDevice('d1', [
        { name: 'Inputs/Temperature', value: 20 + i / 10 },
        { name: 'Inputs/Int8', value: -(i % 128) },
      ]);
  }
  node.updateNode([{ name: 'Uptime', value: 2n ** 63n }]);
  await obs.waitFor('NDATA', 1);

  phase.ddeath = obs.messages.length;
  node.deviceDeath('d2');
  await obs.waitFor('DDEATH', 1);

  // Rebirth request from a host.
  phase.rebirth = obs.messages.length;
  host.publish(
    `spBv1.0/${GROUP}/NCMD/${NODE}`,
    Buffer.from(
      encodePayload({
        timestamp: Date.now(),
        metrics: [{ name: REBIRTH_METRIC, datatype: DataType.Boolean, value: true }],
      }),
    ),
    { qos: 0 },
  );
  await obs.waitFor('NBIRTH', 2);
  await obs.waitFor('DBIRTH', 3);
  node.updateDevice('d1', [{ name: 'Inputs/Temperature', value: 990.5 }]);

  // Commands: a DCMD by alias (as hosts write after learning the aliases), an NCMD by name, garbage.
  phase.commands = obs.messages.length;
  const setpointAlias = obs
    .of('DBIRTH', 'd1')
    .at(-1)!
    .payload.metrics.find((m) => m.name === 'Outputs/Setpoint')!.alias!;
  host.publish(
    `spBv1.0/${GROUP}/DCMD/${NODE}/d1`,
    Buffer.from(
      encodePayload({
        timestamp: Date.now(),
        metrics: [{ alias: setpointAlias, datatype: DataType.Double, value: 42.5 }],
      }),
    ),
  );
  host.publish(
    `spBv1.0/${GROUP}/NCMD/${NODE}`,
    Buffer.from(
      encodePayload({
        timestamp: Date.now(),
        metrics: [{ name: 'Outputs/Enable', datatype: DataType.Boolean, value: true }],
      }),
    ),
  );
  host.publish(`spBv1.0/${GROUP}/DCMD/${NODE}/d1`, Buffer.from([0x12, 0xff, 0xff, 0x01]));
  host.publish(`spBv1.0/${GROUP}/DCMD/${NODE}/nope`, Buffer.from(encodePayload({ metrics: [] })));
  const until = Date.now() + WAIT;
  while ((commands.length < 2 || commandErrors.length < 2) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 10));
  node.updateDevice('d1', [{ name: 'Inputs/Temperature', value: 1000.5 }]); // still running after garbage
  await waitValue(obs, 1000.5);

  // Cut the edge node's TCP connection without DISCONNECT: the broker publishes the will (NDEATH).
  phase.cut = obs.messages.length;
  proxy.resetAll();
  await obs.waitFor('NDEATH', 1);
  await obs.waitFor('NBIRTH', 3);
  await obs.waitFor('DBIRTH', 4);
  node.updateDevice('d1', [{ name: 'Inputs/Temperature', value: 1010.5 }]);
  await waitValue(obs, 1010.5);

  // Intentional close: NDEATH, then DISCONNECT.
  phase.close = obs.messages.length;
  await node.close();
  await obs.waitFor('NDEATH', 2);
  host.end(true);
  await proxy.close();
  return run;
}

const brokers: Array<'aedes' | 'mosquitto'> = ['aedes', 'mosquitto'];
if (!mosquittoAvailable())
  throw new Error('mosquitto is not installed (apt-get install mosquitto; .ci/run installs it)');

describe.each(brokers)('edge node on %s', (kind) => {
  let run: Run;
  beforeAll(async () => {
    run = await scenario(kind);
  }, 60_000);
  afterAll(async () => {
    await run?.obs.close();
    await run?.broker.close();
  });

  const all = () => run.obs.messages;
  const births = () => run.obs.of('NBIRTH');
  const edgeEvents = () => run.aedes!.events.filter((e) => e.clientId === run.clientId);
  // Statements only the broker can see (CONNECT flags, SUBSCRIBE QoS, publish order): aedes only.
  const onAedes = (name: string, fn: () => void) => {
    if (kind === 'aedes') it(name, fn);
  };

  // --- topics (§4) -------------------------------------------------------------------------------------

  it('[tck-id-topic-structure] [tck-id-topic-structure-namespace-a] [tck-id-message-flow-edge-node-birth-publish-nbirth-payload] [tck-id-message-flow-device-birth-publish-dbirth-payload] every topic is spBv1.0/group_id/message_type/edge_node_id[/device_id], every payload Sparkplug B protobuf', () => {
    expect(run.obs.decodeErrors).toEqual([]);
    for (const m of all()) {
      expect(m.topic).toMatch(
        new RegExp(`^spBv1\\.0/${GROUP}/(N(BIRTH|DEATH|DATA)/${NODE}|D(BIRTH|DEATH|DATA)/${NODE}/d[12])$`),
      );
    }
  });

  it('[tck-id-topic-structure-namespace-device-id-associated-message-types] [tck-id-topic-structure-namespace-device-id-non-associated-message-types] device_id only on DBIRTH, DDEATH, DDATA, DCMD', () => {
    for (const m of all()) {
      const parts = m.topic.split('/');
      expect(parts.length).toBe(m.type.startsWith('D') ? 5 : 4);
    }
  });

  it('[tck-id-topic-structure-namespace-valid-group-id] [tck-id-topic-structure-namespace-valid-edge-node-id] [tck-id-topic-structure-namespace-valid-device-id] ids with +, / or # are refused', () => {
    expect(() => new EdgeNode({ brokerUrl: run.broker.url, groupId: 'a/b', edgeNodeId: 'e' })).toThrow(
      /group_id/,
    );
    expect(() => new EdgeNode({ brokerUrl: run.broker.url, groupId: 'g', edgeNodeId: 'e+' })).toThrow(
      /edge_node_id/,
    );
    const n = new EdgeNode({ brokerUrl: run.broker.url, groupId: 'g', edgeNodeId: 'e' });
    expect(() => n.defineDevice('d#', [])).toThrow(/device_id/);
  });

  it('[tck-id-topics-nbirth-topic] [tck-id-message-flow-edge-node-birth-publish-nbirth-topic] NBIRTH topic', () => {
    expect(births()[0]!.topic).toBe(`spBv1.0/${GROUP}/NBIRTH/${NODE}`);
  });

  it('[tck-id-topics-nbirth-mqtt] [tck-id-payloads-nbirth-qos] [tck-id-payloads-nbirth-retain] [tck-id-message-flow-edge-node-birth-publish-nbirth-qos] [tck-id-message-flow-edge-node-birth-publish-nbirth-retained] NBIRTH at QoS 0, not retained', () => {
    for (const b of births()) expect([b.qos, b.retain]).toEqual([0, false]);
    if (run.aedes)
      for (const e of edgeEvents().filter((x) => x.publish?.topic.includes('/NBIRTH/')))
        expect([e.publish!.qos, e.publish!.retain]).toEqual([0, false]);
  });

  it('[tck-id-topics-nbirth-seq-num] [tck-id-payloads-nbirth-seq] [tck-id-payloads-sequence-num-req-nbirth] [tck-id-message-flow-edge-node-birth-publish-nbirth-payload-seq] NBIRTH seq is 0', () => {
    for (const b of births()) expect(b.payload.seq).toBe(0);
  });

  it('[tck-id-topics-nbirth-timestamp] [tck-id-payloads-nbirth-timestamp] [tck-id-payloads-timestamp-in-UTC] [tck-id-payloads-metric-timestamp-in-UTC] NBIRTH carries a UTC ms timestamp of its sending; metric timestamps are UTC ms too', () => {
    for (const b of births()) expect(Math.abs(Number(b.payload.timestamp) - b.at)).toBeLessThan(5_000);
    for (const m of all()) {
      for (const x of m.payload.metrics)
        if (x.timestamp !== undefined) expect(Math.abs(Number(x.timestamp) - m.at)).toBeLessThan(5_000);
    }
  });

  it('[tck-id-topics-nbirth-metric-reqs] [tck-id-topics-nbirth-metrics] [tck-id-operational-behavior-data-publish-nbirth] [tck-id-payloads-metric-datatype-req] NBIRTH has every node metric with name, datatype and current value', () => {
    const names = births()[0]!.payload.metrics.map((m) => m.name);
    expect(names).toEqual([BDSEQ_METRIC, REBIRTH_METRIC, 'Properties/Hardware', 'Outputs/Enable', 'Uptime']);
    for (const m of births()[0]!.payload.metrics) {
      expect(m.datatype).toBeDefined();
      expect(m).toHaveProperty('value');
    }
    // The rebirth carries the current value (set by NDATA in between): 2^63 as a bigint, exact.
    expect(metricNamed(births()[1]!.payload, 'Uptime')!.value).toBe(2n ** 63n);
  });

  it('[tck-id-topics-nbirth-bdseq-included] [tck-id-payloads-nbirth-bdseq] [tck-id-message-flow-edge-node-birth-publish-nbirth-payload-bdSeq] NBIRTH has bdSeq as Int64', () => {
    for (const b of births()) {
      const bd = metricNamed(b.payload, BDSEQ_METRIC)!;
      expect(bd.datatype).toBe(DataType.Int64);
      expect(typeof bd.value).toBe('number');
    }
  });

  it('[tck-id-topics-nbirth-bdseq-increment] bdSeq starts at 0 and goes up by one per new CONNECT', () => {
    expect(births().map((b) => metricNamed(b.payload, BDSEQ_METRIC)!.value)).toEqual([0, 0, 1]);
    if (run.aedes) {
      const wills = edgeEvents()
        .filter((e) => e.kind === 'connect')
        .map((e) => decodePayload(e.connect!.will!.payload).metrics[0]!.value);
      expect(wills).toEqual([0, 1]);
    }
  });

  it('[tck-id-topics-nbirth-bdseq-matching] [tck-id-payloads-nbirth-bdseq-repeat] [tck-id-payloads-ndeath-bdseq] NBIRTH bdSeq equals the will bdSeq of its CONNECT', () => {
    // The will of the first connection was delivered when it was cut: same bdSeq as the NBIRTHs before.
    const will = run.obs.of('NDEATH')[0]!;
    expect(metricNamed(will.payload, BDSEQ_METRIC)!.value).toBe(
      metricNamed(births()[0]!.payload, BDSEQ_METRIC)!.value,
    );
    // The explicit NDEATH of close() matches the NBIRTH of the second connection.
    const last = run.obs.of('NDEATH')[1]!;
    expect(metricNamed(last.payload, BDSEQ_METRIC)!.value).toBe(
      metricNamed(births()[2]!.payload, BDSEQ_METRIC)!.value,
    );
  });

  it('[tck-id-topics-nbirth-rebirth-metric] [tck-id-payloads-nbirth-rebirth-req] [tck-id-operational-behavior-data-commands-rebirth-name] [tck-id-operational-behavior-data-commands-rebirth-datatype] [tck-id-operational-behavior-data-commands-rebirth-value] NBIRTH has Node Control/Rebirth, Boolean, false', () => {
    for (const b of births()) {
      expect(metricNamed(b.payload, REBIRTH_METRIC)).toMatchObject({
        datatype: DataType.Boolean,
        value: false,
      });
    }
  });

  it('[tck-id-operational-behavior-data-commands-rebirth-name-aliases] Node Control/Rebirth has no alias (the other metrics have one)', () => {
    for (const b of births()) {
      expect(metricNamed(b.payload, REBIRTH_METRIC)!.alias).toBeUndefined();
      expect(metricNamed(b.payload, 'Uptime')!.alias).toBeDefined();
    }
  });

  it('[tck-id-topics-ndata-topic] [tck-id-topics-ndata-mqtt] [tck-id-payloads-ndata-qos] [tck-id-payloads-ndata-retain] NDATA topic, QoS 0, not retained', () => {
    const nd = run.obs.of('NDATA');
    expect(nd.length).toBeGreaterThan(0);
    for (const m of nd) {
      expect(m.topic).toBe(`spBv1.0/${GROUP}/NDATA/${NODE}`);
      expect([m.qos, m.retain]).toEqual([0, false]);
    }
  });

  it('[tck-id-topics-ndata-timestamp] [tck-id-payloads-ndata-timestamp] [tck-id-topics-ndata-payload] [tck-id-payloads-ndata-seq] NDATA has a timestamp, a seq and the changed metric', () => {
    const m = run.obs.of('NDATA')[0]!;
    expect(m.payload.timestamp).toBeDefined();
    expect(m.payload.seq).toBeDefined();
    expect(m.payload.metrics).toHaveLength(1);
    expect(run.obs.nameOf(m.payload.metrics[0]!.alias)).toBe('Uptime');
    expect(m.payload.metrics[0]!.value).toBe(2n ** 63n);
  });

  it('[tck-id-topics-dbirth-topic] [tck-id-message-flow-device-birth-publish-dbirth-topic] [tck-id-message-flow-device-birth-publish-dbirth-match-edge-node-topic] DBIRTH topic under the NBIRTH group and edge node', () => {
    for (const m of run.obs.of('DBIRTH'))
      expect(m.topic).toMatch(new RegExp(`^spBv1\\.0/${GROUP}/DBIRTH/${NODE}/d[12]$`));
  });

  it('[tck-id-topics-dbirth-mqtt] [tck-id-payloads-dbirth-qos] [tck-id-payloads-dbirth-retain] [tck-id-message-flow-device-birth-publish-dbirth-qos] [tck-id-message-flow-device-birth-publish-dbirth-retained] DBIRTH QoS 0, not retained', () => {
    for (const m of run.obs.of('DBIRTH')) expect([m.qos, m.retain]).toEqual([0, false]);
  });

  it('[tck-id-topics-dbirth-timestamp] [tck-id-payloads-dbirth-timestamp] [tck-id-payloads-dbirth-seq] DBIRTH has timestamp and seq', () => {
    for (const m of run.obs.of('DBIRTH')) {
      expect(m.payload.timestamp).toBeDefined();
      expect(m.payload.seq).toBeDefined();
    }
  });

  it('[tck-id-topics-dbirth-metric-reqs] [tck-id-topics-dbirth-metrics] [tck-id-operational-behavior-data-publish-dbirth] every device metric with name, datatype and value, exact', () => {
    const d1 = run.obs.of('DBIRTH', 'd1')[0]!.payload;
    expect(d1.metrics.map((m) => [m.name, m.datatype, m.value])).toEqual([
      ['Inputs/Int8', DataType.Int8, -1],
      ['Inputs/Int64', DataType.Int64, -1],
      ['Inputs/UInt64', DataType.UInt64, 2n ** 60n + 1n],
      ['Inputs/Temperature', DataType.Double, 21.5],
      ['Inputs/Null', DataType.Float, null],
      ['Inputs/Counts', DataType.Int32Array, [-1, 2, 3]],
      ['Outputs/Setpoint', DataType.Double, 0],
    ]);
    expect(d1.metrics[3]!.properties).toEqual({ engUnit: { type: DataType.String, value: '°C' } });
  });

  it('[tck-id-operational-behavior-data-publish-nbirth-values] [tck-id-operational-behavior-data-publish-dbirth-values] a null current value is is_null with no value', () => {
    const raw = run.obs.of('DBIRTH', 'd1')[0]!.raw;
    // metric "Inputs/Null": datatype 9 (20 09) then is_null (38 01), and no float_value field (0x65) follows
    const hex = Buffer.from(raw).toString('hex');
    const at = hex.indexOf(Buffer.from('Inputs/Null').toString('hex'));
    const rest = hex.slice(at);
    expect(rest).toMatch(/^[0-9a-f]+?2009(18[0-9a-f]+?)?3801/);
    expect(run.obs.of('DBIRTH', 'd1')[0]!.payload.metrics[4]!.value).toBeNull();
  });

  it('[tck-id-topics-ddata-topic] [tck-id-topics-ddata-mqtt] [tck-id-payloads-ddata-qos] [tck-id-payloads-ddata-retain] DDATA topic, QoS 0, not retained', () => {
    for (const m of run.obs.of('DDATA')) {
      expect(m.topic).toMatch(new RegExp(`^spBv1\\.0/${GROUP}/DDATA/${NODE}/d[12]$`));
      expect([m.qos, m.retain]).toEqual([0, false]);
    }
  });

  it('[tck-id-topics-ddata-timestamp] [tck-id-payloads-ddata-timestamp] [tck-id-payloads-ddata-seq] [tck-id-topics-ddata-payload] DDATA has timestamp, seq and the changed metrics, signed values exact', () => {
    const dd = run.obs.of('DDATA', 'd1');
    for (const m of dd) {
      expect(m.payload.timestamp).toBeDefined();
      expect(m.payload.seq).toBeDefined();
    }
    const second = dd[1]!.payload.metrics.map((m) => [run.obs.nameOf(m.alias), m.value]);
    expect(second).toEqual([
      ['Inputs/Temperature', 20.1],
      ['Inputs/Int8', -1],
    ]);
  });

  it('[tck-id-topics-ddeath-topic] [tck-id-topics-ddeath-mqtt] [tck-id-payloads-ddeath-timestamp] [tck-id-payloads-ddeath-seq] [tck-id-payloads-ddeath-seq-number] [tck-id-operational-behavior-device-ddeath] DDEATH when a device is lost: topic, QoS 0, timestamp, seq', () => {
    const m = run.obs.of('DDEATH')[0]!;
    expect(m.topic).toBe(`spBv1.0/${GROUP}/DDEATH/${NODE}/d2`);
    expect([m.qos, m.retain]).toEqual([0, false]);
    expect(m.payload.timestamp).toBeDefined();
    expect(m.payload.seq).toBeDefined();
  });

  it('[tck-id-payloads-sequence-num-always-included] [tck-id-payloads-sequence-num-incrementing] [tck-id-topics-ndata-seq-num] [tck-id-topics-ddata-seq-num] [tck-id-topics-dbirth-seq] [tck-id-topics-ddeath-seq-num] [tck-id-payloads-dbirth-seq-inc] [tck-id-payloads-ndata-seq-inc] [tck-id-payloads-ddata-seq-inc] [tck-id-payloads-ddeath-seq-inc] [tck-id-message-flow-device-birth-publish-dbirth-payload-seq] seq +1 per message, 255 → 0, from each NBIRTH', () => {
    let expected: number | undefined;
    let wrapped = false;
    for (const m of all()) {
      if (m.type === 'NDEATH') {
        expect(m.payload.seq).toBeUndefined();
        continue;
      }
      const s = seqOf(m)!;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(255);
      if (m.type === 'NBIRTH') expected = 0;
      expect(s).toBe(expected);
      if (s === 255) wrapped = true;
      expected = (s + 1) % 256;
    }
    expect(wrapped).toBe(true);
  });

  it('[tck-id-topics-ndeath-topic] [tck-id-topics-ndeath-payload] [tck-id-topics-ndeath-seq] [tck-id-payloads-ndeath-seq] NDEATH: topic, only bdSeq, no seq', () => {
    for (const m of run.obs.of('NDEATH')) {
      expect(m.topic).toBe(`spBv1.0/${GROUP}/NDEATH/${NODE}`);
      expect(m.payload.metrics.map((x) => x.name)).toEqual([BDSEQ_METRIC]);
      expect(m.payload.seq).toBeUndefined();
    }
  });

  it('[tck-id-payloads-ndeath-will-message] [tck-id-payloads-ndeath-will-message-qos] [tck-id-payloads-ndeath-will-message-retain] [tck-id-message-flow-edge-node-birth-publish-will-message] [tck-id-message-flow-edge-node-birth-publish-will-message-topic] [tck-id-message-flow-edge-node-birth-publish-will-message-qos] [tck-id-message-flow-edge-node-birth-publish-will-message-will-retained] [tck-id-message-flow-edge-node-birth-publish-will-message-payload] the will is NDEATH at QoS 1, not retained, Sparkplug-encoded', () => {
    // As delivered by the broker when the connection was cut (subscriber at QoS 1 gets min(1, will QoS)).
    const will = run.obs.of('NDEATH')[0]!;
    expect([will.qos, will.retain]).toEqual([1, false]);
    if (run.aedes) {
      for (const c of edgeEvents().filter((e) => e.kind === 'connect')) {
        expect(c.connect!.will).toMatchObject({
          topic: `spBv1.0/${GROUP}/NDEATH/${NODE}`,
          qos: 1,
          retain: false,
        });
        expect(decodePayload(c.connect!.will!.payload).metrics[0]).toMatchObject({
          name: BDSEQ_METRIC,
          datatype: DataType.Int64,
        });
      }
    }
  });

  it('[tck-id-message-flow-edge-node-birth-publish-will-message-payload-bdSeq] the will carries bdSeq (Int64), one more per CONNECT', () => {
    const bd = run.obs.of('NDEATH').map((m) => m.payload.metrics[0]!);
    for (const m of bd) expect(m.datatype).toBe(DataType.Int64);
    expect(bd.map((m) => m.value)).toEqual([0, 1]);
  });

  onAedes('[tck-id-principles-persistence-clean-session-311] CONNECT with Clean Session (MQTT 3.1.1)', () => {
    for (const c of edgeEvents().filter((e) => e.kind === 'connect')) {
      expect(c.connect).toMatchObject({ clean: true, protocolVersion: 4 });
    }
  });

  onAedes(
    '[tck-id-message-flow-edge-node-ncmd-subscribe] [tck-id-message-flow-device-dcmd-subscribe] NCMD and DCMD subscribed at QoS 1 before the birth',
    () => {
      const ev = edgeEvents();
      const firstBirth = ev.findIndex((e) => e.publish?.topic.includes('/NBIRTH/'));
      const subs = ev.slice(0, firstBirth).flatMap((e) => e.subscriptions ?? []);
      expect(subs).toContainEqual({ topic: `spBv1.0/${GROUP}/NCMD/${NODE}`, qos: 1 });
      expect(subs).toContainEqual({ topic: `spBv1.0/${GROUP}/DCMD/${NODE}/+`, qos: 1 });
    },
  );

  onAedes(
    '[tck-id-principles-birth-certificates-order] [tck-id-message-flow-edge-node-birth-publish-connect] the NBIRTH is the first message published on every connection',
    () => {
      const ev = edgeEvents();
      for (let i = 0; i < ev.length; i++) {
        if (ev[i]!.kind !== 'connect') continue;
        const firstPublish = ev.slice(i + 1).find((e) => e.kind === 'publish');
        expect(firstPublish?.publish?.topic).toBe(`spBv1.0/${GROUP}/NBIRTH/${NODE}`);
      }
    },
  );

  it('[tck-id-payloads-dbirth-order] [tck-id-payloads-ndata-order] [tck-id-payloads-ddata-order] [tck-id-message-flow-device-birth-publish-nbirth-wait] DBIRTHs follow the NBIRTH before any DATA', () => {
    for (let i = 0; i < all().length; i++) {
      if (all()[i]!.type !== 'NBIRTH') continue;
      const born = new Set<string>();
      for (const m of all().slice(i + 1)) {
        if (m.type === 'NBIRTH' || m.type === 'NDEATH') break;
        if (m.type === 'DBIRTH') born.add(m.deviceId!);
        if (m.type === 'DDATA' || m.type === 'DDEATH') expect(born.has(m.deviceId!)).toBe(true);
      }
    }
    // …and every DBIRTH of a birth sequence comes before its first DATA message
    const seq = all()
      .slice(run.phase.birth, run.phase.data + 3)
      .map((m) => m.type);
    expect(seq.slice(0, 3)).toEqual(['NBIRTH', 'DBIRTH', 'DBIRTH']);
  });

  it('[tck-id-operational-behavior-data-commands-rebirth-action-1] [tck-id-operational-behavior-data-commands-rebirth-action-2] [tck-id-operational-behavior-data-commands-rebirth-action-3] rebirth: NBIRTH (same bdSeq) and DBIRTHs, no NDEATH before', () => {
    const after = all().slice(run.phase.rebirth);
    expect(after[0]!.type).toBe('NBIRTH');
    expect(after[1]).toMatchObject({ type: 'DBIRTH', deviceId: 'd1' }); // d2 is dead: no DBIRTH
    expect(
      all()
        .slice(run.phase.rebirth, run.phase.cut)
        .some((m) => m.type === 'NDEATH'),
    ).toBe(false);
    expect(metricNamed(after[0]!.payload, BDSEQ_METRIC)!.value).toBe(
      metricNamed(births()[0]!.payload, BDSEQ_METRIC)!.value,
    );
    // The rebirth's DBIRTH has the current values (the last DDATA before it set Int8 to −(298 % 128)).
    expect(metricNamed(after[1]!.payload, 'Inputs/Int8')!.value).toBe(-(298 % 128));
  });

  it('[tck-id-payloads-alias-birth-requirement] [tck-id-payloads-alias-uniqueness] [tck-id-payloads-name-requirement] births carry name and alias, aliases unique across the edge node', () => {
    const aliases: unknown[] = [];
    for (const m of [births()[0]!, ...run.obs.of('DBIRTH').slice(0, 2)]) {
      for (const x of m.payload.metrics) {
        expect(x.name).toBeDefined();
        if (x.name === BDSEQ_METRIC || x.name === REBIRTH_METRIC) continue;
        expect(x.alias).toBeDefined();
        aliases.push(x.alias);
      }
    }
    expect(new Set(aliases).size).toBe(aliases.length);
  });

  it('[tck-id-payloads-alias-data-cmd-requirement] [tck-id-payloads-metric-datatype-not-req] [tck-id-payloads-name-birth-data-requirement] DATA carries alias only, no name, no datatype, a timestamp per metric', () => {
    for (const m of [...run.obs.of('DDATA'), ...run.obs.of('NDATA')]) {
      for (const x of m.payload.metrics) {
        expect(x.alias).toBeDefined();
        expect(x.name).toBeUndefined();
        expect(x.datatype).toBeUndefined();
        expect(x.timestamp).toBeDefined();
      }
    }
    for (const m of [...births(), ...run.obs.of('DBIRTH')])
      for (const x of m.payload.metrics) expect(x.timestamp).toBeDefined();
  });

  it('[tck-id-operational-behavior-data-publish-nbirth-order] [tck-id-operational-behavior-data-publish-dbirth-order] live metric values keep chronological order', () => {
    const dd = run.obs.of('DDATA', 'd1').filter((m) => !m.payload.metrics.some((x) => x.isHistorical));
    const stamps = dd.flatMap((m) => m.payload.metrics.map((x) => Number(x.timestamp)));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });

  it('[tck-id-operational-behavior-data-commands-dcmd-verb] [tck-id-operational-behavior-data-commands-dcmd-metric-value] [tck-id-operational-behavior-data-commands-ncmd-verb] [tck-id-operational-behavior-data-commands-ncmd-metric-value] NCMD and DCMD decode to typed command events', () => {
    expect(run.commands).toHaveLength(2);
    expect(run.commands[0]).toMatchObject({
      type: 'DCMD',
      deviceId: 'd1',
      metrics: [{ name: 'Outputs/Setpoint', datatype: DataType.Double, value: 42.5 }],
    });
    expect(run.commands[1]).toMatchObject({
      type: 'NCMD',
      metrics: [{ name: 'Outputs/Enable', datatype: DataType.Boolean, value: true }],
    });
  });

  it('[tck-id-operational-behavior-data-commands-ncmd-rebirth-verb] [tck-id-operational-behavior-data-commands-ncmd-rebirth-name] [tck-id-operational-behavior-data-commands-ncmd-rebirth-value] the NCMD Node Control/Rebirth=true is what triggers the rebirth (not a command event)', () => {
    expect(run.commands.some((c) => c.metrics.some((m) => m.name === REBIRTH_METRIC))).toBe(false);
    expect(births().length).toBe(3);
  });

  it('malformed DCMD payloads and commands for unknown devices: typed errors, ignored, the session goes on', () => {
    expect(run.commandErrors.map((e) => (e as unknown as { code: string }).code)).toEqual([
      'SparkplugDecode',
      'SparkplugCommand',
    ]);
    expect(run.obs.of('DDATA', 'd1').some((m) => m.payload.metrics[0]!.value === 1000.5)).toBe(true);
  });

  it('[tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath] [tck-id-payloads-ndeath-will-message-publisher] [tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt311] [tck-id-operational-behavior-edge-node-intentional-disconnect-packet] close(): NDEATH before DISCONNECT', () => {
    const afterClose = all().slice(run.phase.close);
    expect(afterClose.map((m) => m.type)).toEqual(['NDEATH']);
    expect([afterClose[0]!.qos, afterClose[0]!.retain]).toEqual([1, false]);
    if (run.aedes) {
      const last = edgeEvents()
        .filter((e) => e.kind === 'publish')
        .at(-1)!;
      expect(last.publish!.topic).toBe(`spBv1.0/${GROUP}/NDEATH/${NODE}`);
    }
    expect(run.node.state).toBe('closed');
  });
});
