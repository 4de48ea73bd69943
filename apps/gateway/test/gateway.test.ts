// The gateway end to end, with real parts only: simulated groov EPIC units (SimulatedFleet, loopback), the
// built labwire-gateway program in a child process, a real broker (aedes in this process, or Debian's
// Mosquitto as a child process), and an independent MQTT.js subscriber decoding what arrives.

import { SimulatedFleet } from '@labwire/optommp/simulator';
import { DataType, encodePayload } from '@labwire/sparkplug/codec';
import { FaultProxy, mosquittoAvailable, startMosquitto, waitFor } from '@labwire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../src/broker';
import { fleetConfig, GatewayProcess, tempDir, writeConfig } from './helpers';
import { type Observed, Observer } from './observer';

interface TestBroker {
  url: string;
  port: number;
  kill(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function startAedes(): Promise<TestBroker> {
  let broker = await startEmbeddedBroker({ port: 0 });
  const port = broker.port;
  return {
    url: broker.url,
    port,
    kill: () => broker.close(),
    async restart() {
      broker = await startEmbeddedBroker({ port });
    },
    close: () => broker.close(),
  };
}

const brokers: Array<[string, () => Promise<TestBroker>]> = [['aedes', startAedes]];
if (mosquittoAvailable()) brokers.push(['mosquitto', () => startMosquitto()]);
else
  it('Mosquitto is installed (Debian package mosquitto; .ci/run installs it)', () => {
    expect(mosquittoAvailable()).toBe(true);
  });

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

/** Every session (from an NBIRTH on) numbers its messages 0, 1, 2, … (mod 256) without a gap. */
function checkSeq(messages: readonly Observed[], edgeNodeId: string): number {
  let expected: number | undefined;
  let sessions = 0;
  for (const m of messages) {
    if (m.edgeNodeId !== edgeNodeId || m.type === 'NDEATH') continue;
    const seq = num(m.payload.seq);
    if (m.type === 'NBIRTH') {
      expect(seq).toBe(0);
      sessions++;
    } else if (expected !== undefined) {
      expect(seq, `${m.type} ${m.deviceId ?? ''} seq`).toBe(expected);
    }
    expected = (seq + 1) & 0xff;
  }
  return sessions;
}

function metric(m: Observed, name: string) {
  const i = m.names.indexOf(name);
  return i < 0 ? undefined : m.payload.metrics[i];
}

describe.each(brokers)('the gateway on %s', (_name, start) => {
  let broker: TestBroker;
  let fleet: SimulatedFleet;
  let observer: Observer;
  let gateway: GatewayProcess | undefined;
  let dir: string;

  beforeEach(async () => {
    broker = await start();
    fleet = await SimulatedFleet.start({ count: 2 });
    observer = await Observer.start(broker.url, { reconnectPeriod: 50 });
    dir = tempDir();
  });

  afterEach(async () => {
    await gateway?.stop('SIGKILL');
    gateway = undefined;
    await observer.close();
    await fleet.close();
    await broker.close();
  });

  it('publishes NBIRTH and a DBIRTH per device, then DDATA by exception, and ends with NDEATH on SIGTERM', async () => {
    const config = writeConfig(dir, fleetConfig(fleet.ports));
    gateway = new GatewayProcess([config, '--broker', broker.url, '--json']);
    const [nbirth] = await observer.waitFor('NBIRTH');
    expect(nbirth!.qos).toBe(0);
    expect(nbirth!.retain).toBe(false);
    expect(metric(nbirth!, 'bdSeq')).toMatchObject({ datatype: DataType.Int64, value: 0 });
    expect(metric(nbirth!, 'Node Control/Rebirth')).toMatchObject({
      datatype: DataType.Boolean,
      value: false,
    });
    expect(metric(nbirth!, 'Gateway/Devices')?.value).toBe(2);
    const births = await observer.waitFor('DBIRTH', 2);
    expect(births.map((b) => b.deviceId).sort()).toEqual(['epic-1', 'epic-2']);
    const birth = births[0]!;
    expect(birth.names).toEqual([
      'AI/0',
      'AI/1',
      'AI/2',
      'AI/3',
      'DO/0',
      'DO/1',
      'DO/2',
      'DO/3',
      'AO/0',
      'DI/0',
      'Uptime',
    ]);
    expect(metric(birth, 'AI/0')?.datatype).toBe(DataType.Float);
    expect(metric(birth, 'DO/0')?.datatype).toBe(DataType.Boolean);
    expect(metric(birth, 'Uptime')?.datatype).toBe(DataType.UInt32);
    expect(birth.payload.metrics.every((m) => m.alias !== undefined && m.timestamp !== undefined)).toBe(true);

    await observer.waitFor('DDATA', 6, { deviceId: 'epic-1' });
    // Report by exception: the outputs do not change, so no DDATA carries them; the drifting analog inputs
    // do; the uptime group (report: every-scan) reports each of its scans, in a DDATA of its own.
    const data = observer.of('DDATA', { deviceId: 'epic-1' });
    expect(data.every((m) => !m.names.some((n) => n.startsWith('DO/')))).toBe(true);
    expect(data.some((m) => m.names.some((n) => n.startsWith('AI/')))).toBe(true);
    expect(data.some((m) => m.names.length === 1 && m.names[0] === 'Uptime')).toBe(true);
    expect(data.every((m) => m.qos === 0 && !m.retain)).toBe(true);
    expect(
      data.every((m) => m.payload.metrics.every((x) => x.name === undefined && x.alias !== undefined)),
    ).toBe(true);

    const r = await gateway.stop('SIGTERM');
    expect(r.code).toBe(0);
    const [ndeath] = await observer.waitFor('NDEATH');
    expect(ndeath!.qos).toBe(1);
    expect(metric(ndeath!, 'bdSeq')?.value).toBe(0);
    expect(checkSeq(observer.messages, 'gw')).toBe(1);
    expect(observer.decodeErrors).toEqual([]);
    expect(gateway.events().at(-1)?.event).toBe('stopped');
  }, 90_000);

  it('a device that drops becomes DDEATH, and DBIRTH when it returns', async () => {
    const config = writeConfig(dir, fleetConfig(fleet.ports));
    gateway = new GatewayProcess([config, '--broker', broker.url, '--json']);
    await observer.waitFor('DBIRTH', 1, { deviceId: 'epic-2' });
    await fleet.stop(1);
    const [death] = await observer.waitFor('DDEATH', 1, { deviceId: 'epic-2' });
    const offline = await gateway.waitEvent(
      (e) => e.event === 'device' && e.state === 'offline',
      'device offline',
    );
    expect(offline).toMatchObject({ deviceId: 'epic-2' });
    expect(String(offline.cause)).toMatch(/^(ConnectionLost|ConnectRefused|Eof|Timeout)/);
    // The other device goes on.
    await observer.waitFor('DDATA', 3, { deviceId: 'epic-1', after: death!.at });
    await fleet.start(1);
    const [rebirth] = await observer.waitFor('DBIRTH', 1, {
      deviceId: 'epic-2',
      after: death!.at,
      timeoutMs: 30_000,
    });
    const between = observer
      .of('DDATA', { deviceId: 'epic-2' })
      .filter((m) => m.at > death!.at && m.at < rebirth!.at);
    expect(between).toEqual([]);
    // A returning device's birth declares every metric, with the values of its first scan since it came
    // back (the other group's points are null until that group is read: a DDATA then brings them).
    expect(rebirth!.names).toHaveLength(11);
    const nulls = rebirth!.payload.metrics.filter((m) => m.value === null).length;
    expect(nulls === 1 || nulls === 10).toBe(true);
    await waitFor(
      () =>
        observer
          .of('DDATA', { deviceId: 'epic-2', after: rebirth!.at })
          .some((m) => m.names.includes(nulls === 1 ? 'Uptime' : 'AI/0')),
      { timeoutMs: 10_000, message: 'the rest of the values' },
    );
    expect(checkSeq(observer.messages, 'gw')).toBe(1);
  }, 90_000);

  it('a DCMD write reaches the device output, and the next DDATA confirms it', async () => {
    const config = writeConfig(dir, fleetConfig(fleet.ports));
    gateway = new GatewayProcess([config, '--broker', broker.url, '--json']);
    await observer.waitFor('DBIRTH', 2);
    const device = () => fleet.device(0)!.device;
    expect(device().getDigital(0, 2)).toBe(0);
    const sentAt = Date.now();
    await observer.client.publishAsync(
      'spBv1.0/Test/DCMD/gw/epic-1',
      Buffer.from(
        encodePayload({
          timestamp: Date.now(),
          metrics: [
            { name: 'DO/2', datatype: DataType.Boolean, value: true },
            { name: 'AO/0', datatype: DataType.Float, value: 7.25 },
          ],
        }),
      ),
    );
    await waitFor(() => device().getDigital(0, 2) === 1 && device().getAnalog(3, 0) === 7.25, {
      timeoutMs: 10_000,
      message: 'the simulated outputs written',
    });
    // For each written metric, the first DDATA after the command that carries it has the new value (the
    // read-back DDATA, or a scan that came in between, which read the same).
    for (const [name, value] of [
      ['DO/2', true],
      ['AO/0', 7.25],
    ] as const) {
      const confirming = await waitFor(
        () => observer.of('DDATA', { deviceId: 'epic-1', after: sentAt }).find((m) => m.names.includes(name)),
        { timeoutMs: 10_000, message: `a DDATA with ${name}` },
      );
      expect(metric(confirming, name)?.value).toBe(value);
    }
    const writes = await waitFor(() => {
      const w = gateway!.events().filter((e) => e.event === 'write');
      return w.length === 2 ? w : undefined;
    });
    expect(writes.map((w) => [w.metric, w.ok, w.confirmed])).toEqual([
      ['DO/2', true, true],
      ['AO/0', true, 7.25],
    ]);
    // The other device was not touched.
    expect(fleet.device(1)!.device.getDigital(0, 2)).toBe(0);
  }, 90_000);

  it('malformed or refused NCMD/DCMD are logged, typed and ignored; the gateway keeps running', async () => {
    const config = writeConfig(dir, fleetConfig(fleet.ports));
    gateway = new GatewayProcess([config, '--broker', broker.url, '--json']);
    await observer.waitFor('DBIRTH', 2);
    const publish = (topic: string, bytes: Uint8Array) =>
      observer.client.publishAsync(topic, Buffer.from(bytes));
    const cmd = (metrics: Parameters<typeof encodePayload>[0]['metrics']) =>
      encodePayload({ timestamp: Date.now(), metrics });
    await publish('spBv1.0/Test/DCMD/gw/epic-1', Uint8Array.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    await publish(
      'spBv1.0/Test/NCMD/gw',
      cmd([{ name: 'Node Control/Rebirth', datatype: DataType.String, value: 'yes' }]),
    );
    await publish('spBv1.0/Test/DCMD/gw/epic-1', cmd([{ name: 'AI/0', datatype: DataType.Float, value: 1 }]));
    await publish('spBv1.0/Test/DCMD/gw/epic-1', cmd([{ name: 'DO/1', datatype: DataType.Float, value: 1 }]));
    await publish(
      'spBv1.0/Test/DCMD/gw/epic-1',
      cmd([{ name: 'no such', datatype: DataType.Boolean, value: true }]),
    );
    await publish(
      'spBv1.0/Test/DCMD/gw/nope',
      cmd([{ name: 'DO/1', datatype: DataType.Boolean, value: true }]),
    );
    await publish(
      'spBv1.0/Test/NCMD/gw',
      cmd([{ name: 'Gateway/Devices', datatype: DataType.UInt32, value: 9 }]),
    );
    const errors = await waitFor(
      () => {
        const e = gateway!.events().filter((x) => x.event === 'command-error');
        return e.length >= 7 ? e : undefined;
      },
      { timeoutMs: 10_000, message: '7 command errors' },
    );
    expect(errors.map((e) => e.code)).toEqual([
      'SparkplugDecode', // not a protobuf payload
      'SparkplugCommand', // Node Control/Rebirth as a String
      'GatewayWriteRefused', // AI/0 is an input
      'SparkplugCommand', // DO/1 is a Boolean, not a Float
      'SparkplugCommand', // no such metric
      'SparkplugCommand', // no such device
      'GatewayWriteRefused', // node metrics are read-only
    ]);
    const warnings = gateway
      .logs()
      .filter((l) => l.level === 'warn' && /command ignored/.test(String(l.message)));
    expect(warnings.length).toBeGreaterThanOrEqual(7);
    // Still running: data flows, a good command works, nothing was written by the bad ones.
    const after = Date.now();
    await observer.waitFor('DDATA', 3, { deviceId: 'epic-1', after });
    expect(fleet.device(0)!.device.getDigital(0, 1)).toBe(0);
    await publish(
      'spBv1.0/Test/DCMD/gw/epic-1',
      cmd([{ name: 'DO/1', datatype: DataType.Boolean, value: true }]),
    );
    await gateway.waitEvent(
      (e) => e.event === 'write' && e.metric === 'DO/1' && e.ok === true,
      'the good write',
    );
    expect(gateway.app.child.exitCode).toBe(null);
    expect(observer.of('NBIRTH')).toHaveLength(1); // no rebirth from the malformed request
  }, 90_000);

  it('broker killed and restarted mid-run: no DDATA lost (historical on replay), seq continuous, bdSeq kept', async () => {
    // The gateway reaches the broker through a proxy, so that it reconnects only once the subscriber is back
    // (a QoS 0 message to a subscriber that is not connected is lost by any broker, and is not the point).
    const proxy = await FaultProxy.start({ target: { port: broker.port } });
    try {
      const clockOnly = fleetConfig(fleet.ports, { periodMs: 50 });
      for (const d of clockOnly.devices as Array<{ groups: unknown[] }>) d.groups.splice(0, 1);
      const config = writeConfig(dir, clockOnly);
      gateway = new GatewayProcess([
        config,
        '--broker',
        `mqtt://127.0.0.1:${proxy.port}`,
        '--json',
        '--verbose',
      ]);
      await observer.waitFor('DDATA', 10, { deviceId: 'epic-2' });

      const killedAt = Date.now();
      await broker.kill();
      await proxy.stop({ reset: true });
      await gateway.waitEvent((e) => e.event === 'disconnect', 'the gateway lost the broker');
      // Scans go on meanwhile: stored for replay (at least 10 scan periods' worth).
      await new Promise((r) => setTimeout(r, 600));
      await broker.restart();
      await waitFor(() => observer.client.connected, { timeoutMs: 10_000, message: 'the subscriber back' });
      await observer.client.subscribeAsync('spBv1.0/#', { qos: 1 });
      const back = Date.now();
      await proxy.restart();
      const [nbirth2] = await observer.waitFor('NBIRTH', 1, { after: back, timeoutMs: 30_000 });
      await observer.waitFor('DDATA', 10, { deviceId: 'epic-2', after: nbirth2!.at });

      const stopAt = Date.now();
      const r = await gateway.stop('SIGTERM');
      expect(r.code).toBe(0);
      // (aedes may also have sent the first session's will when it was killed: the last NDEATH is ours.)
      const [ndeath] = await observer.waitFor('NDEATH', 1, { after: stopAt });
      const stopped = await gateway.waitEvent((e) => e.event === 'stopped', 'stopped');
      const perDevice = stopped.perDevice as Record<string, { updates: number }>;

      // Every uptime value the gateway handed to its session arrived, live or as historical.
      // (Uptime differs in every scan; a value may arrive twice, live and replayed, never not at all.)
      for (const id of ['epic-1', 'epic-2']) {
        const received = new Set(
          observer.of('DDATA', { deviceId: id }).flatMap((m) => m.payload.metrics.map((x) => num(x.value))),
        );
        expect(received.size, `${id}: distinct uptime values in DDATA`).toBe(perDevice[id]!.updates);
      }
      // Replayed after the new births. (Scans that ran before the very first connection are historical in the
      // first session too: only what was stored while the broker was away counts here.)
      const historical = observer
        .of('DDATA', { after: killedAt })
        .filter((m) => m.payload.metrics.some((x) => x.isHistorical));
      expect(historical.length).toBeGreaterThan(0);
      expect(historical.every((m) => m.at >= nbirth2!.at)).toBe(true);

      // seq: 0, 1, 2, … in each session; bdSeq: a new one for the new connection, and the NDEATH ends it.
      expect(checkSeq(observer.messages, 'gw')).toBe(2);
      const [nbirth1] = observer.of('NBIRTH');
      const bd1 = num(metric(nbirth1!, 'bdSeq')?.value);
      const bd2 = num(metric(nbirth2!, 'bdSeq')?.value);
      expect(bd1).toBe(0);
      expect(bd2).not.toBe(bd1);
      expect(num(metric(ndeath!, 'bdSeq')?.value)).toBe(bd2);
      expect(observer.decodeErrors).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 90_000);
});
