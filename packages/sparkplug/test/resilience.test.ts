// The session under failure: the broker killed and restarted mid-run (0 DDATA lost, replayed as
// historical, seq continuous, bdSeq rules kept), the store-and-forward overflow policies, refused
// connections (bdSeq per CONNECT, backoff without storms), deadlines, AbortSignal and close().

import net from 'node:net';
import { AbortedError, ClosedError, TimeoutError } from '@labwire/framing';
import { BDSEQ_METRIC, BufferOverflowError, EdgeNode, type EdgeNodeOptions } from '@labwire/sparkplug';
import { DataType, decodePayload } from '@labwire/sparkplug/codec';
import { FaultProxy } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/session/backoff';
import { type AedesBroker, startAedes, startMosquitto, type TestBroker } from './brokers';
import { type Observed, Observer } from './observer';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

function node(url: string, extra: Partial<EdgeNodeOptions> = {}): EdgeNode {
  const n = new EdgeNode({ brokerUrl: url, groupId: 'g', edgeNodeId: 'e', ...extra });
  cleanups.push(() => n.close({ timeoutMs: 2_000 }));
  return n;
}

/** Waits until the observer has reconnected and subscribed: it receives a probe STATE message. */
async function observerBack(url: string, obs: Observer): Promise<void> {
  const mqtt = (await import('mqtt')).default;
  const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    const before = obs.states.length;
    for (let i = 0; i < 400 && obs.states.length === before; i++) {
      await probe.publishAsync('spBv1.0/STATE/probe', JSON.stringify({ online: true, timestamp: i }), {
        qos: 1,
      });
      await sleep(50);
    }
    if (obs.states.length === before) throw new Error('the observer did not come back');
  } finally {
    await probe.endAsync(true);
  }
}

describe.each(['aedes', 'mosquitto'] as const)('broker killed and restarted mid-run (%s)', (kind) => {
  it('0 DDATA lost (stored ones replayed as historical), seq continuous per session, bdSeq one per CONNECT', async () => {
    const broker: TestBroker = kind === 'aedes' ? await startAedes() : await startMosquitto();
    cleanups.push(() => broker.close());
    const obs = await Observer.start(broker.url, { reconnectPeriod: 20 });
    cleanups.push(() => obs.close());
    // The edge node reaches the broker through a proxy that is kept shut after the restart until the
    // observer has subscribed again, so that the observer sees the whole second session.
    const proxy = await FaultProxy.start({ target: { port: broker.port } });
    cleanups.push(() => proxy.close());
    const n = node(`mqtt://127.0.0.1:${proxy.port}`, {
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      confirmIntervalMs: 50,
    });
    n.defineDevice('d', [{ name: 'counter', datatype: DataType.UInt32, value: 0 }]);
    await n.start({ timeoutMs: 10_000 });

    const outcomes: Array<{ value: number; outcome: string; state: string }> = [];
    let value = 0;
    const feed = async (count: number) => {
      for (let i = 0; i < count; i++) {
        value++;
        outcomes.push({ value, outcome: n.updateDevice('d', [{ name: 'counter', value }]), state: n.state });
        await sleep(3);
      }
    };
    await feed(150);
    await broker.kill(); // SIGKILL for Mosquitto
    const stopping = proxy.stop();
    await feed(150); // while the broker is down (and while the node notices)
    await stopping;
    await broker.restart();
    await observerBack(broker.url, obs);
    await proxy.restart();
    await feed(150);
    await until('every value at the observer', () => {
      const seen = new Set(obs.of('DDATA').flatMap((m) => m.payload.metrics.map((x) => x.value)));
      return outcomes.every((o) => seen.has(o.value));
    });

    const ddata = obs.of('DDATA');
    const seen = new Map<unknown, Observed[]>();
    for (const m of ddata)
      for (const x of m.payload.metrics) seen.set(x.value, [...(seen.get(x.value) ?? []), m]);
    // 0 lost
    expect(outcomes.filter((o) => !seen.has(o.value))).toEqual([]);
    // Everything fed while not online came back as historical
    for (const o of outcomes.filter((x) => x.outcome === 'stored')) {
      expect(seen.get(o.value)!.every((m) => m.payload.metrics[0]!.isHistorical === true)).toBe(true);
    }
    expect(outcomes.some((o) => o.outcome === 'stored')).toBe(true);
    // A value may arrive twice only as live + historical replay of an unconfirmed send, never twice live.
    for (const [, ms] of seen)
      expect(ms.filter((m) => !m.payload.metrics[0]!.isHistorical).length).toBeLessThanOrEqual(1);

    // seq: 0 at each NBIRTH, then +1 per message with no gap, in every session the observer saw whole.
    const sessions: Observed[][] = [];
    for (const m of obs.messages) {
      if (m.type === 'NBIRTH') sessions.push([]);
      sessions.at(-1)?.push(m);
    }
    expect(sessions).toHaveLength(2);
    const second = sessions[1]!;
    for (const [i, m] of second.entries()) expect(m.payload.seq).toBe(i % 256);
    // The first session may lose its tail with the broker, never a message in the middle.
    const first = sessions[0]!;
    for (const [i, m] of first.entries()) expect(m.payload.seq).toBe(i % 256);

    // bdSeq: one per CONNECT (failed attempts while the broker was down included).
    const attempts = n.stats.connects + n.stats.connectFailures;
    expect(n.stats.connectFailures).toBeGreaterThanOrEqual(0);
    const bd = obs.of('NBIRTH').map((m) => m.payload.metrics.find((x) => x.name === BDSEQ_METRIC)!.value);
    expect(bd).toEqual([0, (attempts - 1) & 0xff]);
    await n.close();
    await obs.waitFor('NDEATH', 1);
    expect(obs.of('NDEATH')[0]!.payload.metrics[0]!.value).toBe(bd[1]);
  }, 60_000);
});

describe('store-and-forward overflow policies', () => {
  // What reached the broker after the restart is read from aedes itself (its PUBLISH log), so the
  // assertions do not depend on a subscriber reconnecting before the edge node does.
  async function offlineNode(policy: 'drop-oldest' | 'drop-newest' | 'reject') {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const n = node(broker.url, {
      clientId: 'sf',
      storeAndForward: { maxMetrics: 5, overflow: policy },
      reconnect: { minDelayMs: 200, initialDelayMs: 250, maxDelayMs: 300 },
    });
    n.defineDevice('d', [{ name: 'x', datatype: DataType.Int16, value: 0 }]);
    await n.start({ timeoutMs: 10_000 });
    await broker.kill();
    await until('offline', () => n.state === 'offline');
    return { broker, n };
  }

  /** Restarts the broker; returns the payloads the edge node published after the restart, by type. */
  async function afterRestart(broker: AedesBroker, n: EdgeNode, expectDdata: () => number) {
    const from = broker.events.length;
    await broker.restart();
    await n.waitOnline({ timeoutMs: 10_000 });
    const published = (type: string) =>
      broker.events
        .slice(from)
        .filter((e) => e.clientId === 'sf' && e.publish?.topic.includes(`/${type}/`))
        .map((e) => decodePayload(e.publish!.payload, { datatypes: () => DataType.Int16 }));
    await until(
      'births and replay at the broker',
      () => published('DBIRTH').length === 1 && published('DDATA').length >= expectDdata(),
    );
    return published;
  }

  async function replayed(broker: AedesBroker, n: EdgeNode): Promise<unknown[]> {
    const published = await afterRestart(broker, n, () => Math.max(1, n.stats.replayed));
    for (const p of published('DDATA')) expect(p.metrics[0]!.isHistorical).toBe(true);
    return published('DDATA').map((p) => p.metrics[0]!.value);
  }

  it('drop-oldest keeps the newest updates and reports what it dropped', async () => {
    const { broker, n } = await offlineNode('drop-oldest');
    const overflow: number[] = [];
    n.on('overflow', (o) => overflow.push(o.dropped));
    for (let i = 1; i <= 8; i++) expect(n.updateDevice('d', [{ name: 'x', value: -i }])).toBe('stored');
    expect(n.stats).toMatchObject({ stored: 5, dropped: 3 });
    expect(overflow).toEqual([1, 1, 1]);
    expect(await replayed(broker, n)).toEqual([-4, -5, -6, -7, -8]);
  });

  it('drop-newest keeps the oldest updates', async () => {
    const { broker, n } = await offlineNode('drop-newest');
    const outcomes = Array.from({ length: 8 }, (_, i) =>
      n.updateDevice('d', [{ name: 'x', value: -(i + 1) }]),
    );
    expect(outcomes).toEqual([
      'stored',
      'stored',
      'stored',
      'stored',
      'stored',
      'dropped',
      'dropped',
      'dropped',
    ]);
    expect(await replayed(broker, n)).toEqual([-1, -2, -3, -4, -5]);
  });

  it('reject throws BufferOverflowError and keeps what it has', async () => {
    const { broker, n } = await offlineNode('reject');
    for (let i = 1; i <= 5; i++) n.updateDevice('d', [{ name: 'x', value: i }]);
    expect(() => n.updateDevice('d', [{ name: 'x', value: 6 }])).toThrow(BufferOverflowError);
    expect(await replayed(broker, n)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stored values that no longer fit a re-declared metric are dropped at replay; the birth completes', async () => {
    const { broker, n } = await offlineNode('drop-oldest');
    n.updateDevice('d', [{ name: 'x', value: -1 }]);
    n.defineDevice('d', [{ name: 'x', datatype: DataType.Boolean, value: true }]);
    const published = await afterRestart(broker, n, () => 0);
    expect(n.stats).toMatchObject({ replayed: 0, stored: 0 });
    expect(published('DBIRTH')[0]!.metrics[0]).toMatchObject({ datatype: DataType.Boolean, value: true });
    expect(published('DDATA')).toEqual([]);
  });

  it('storeAndForward: false drops updates while offline', async () => {
    const n = node('mqtt://127.0.0.1:1', { storeAndForward: false, reconnect: { minDelayMs: 1_000 } });
    n.defineDevice('d', [{ name: 'x', datatype: DataType.Int16, value: 0 }]);
    expect(n.updateDevice('d', [{ name: 'x', value: 1 }])).toBe('dropped');
  });
});

describe('connecting', () => {
  it('a refusing broker: every CONNECT has the next bdSeq, attempts spaced by the growing backoff (no storm)', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    let refuse = true;
    const connects: Array<{ at: number; bdSeq: unknown }> = [];
    broker.broker.preConnect = (_client, packet, callback) => {
      const will = (packet as unknown as { will: { payload: Buffer } }).will;
      connects.push({ at: performance.now(), bdSeq: decodePayload(will.payload).metrics[0]!.value });
      callback(refuse ? new Error('refused by the test') : null, !refuse);
    };
    const failures: Error[] = [];
    const n = node(broker.url, { reconnect: { initialDelayMs: 100, maxDelayMs: 400 }, random: () => 0.999 });
    n.on('disconnect', (e) => failures.push(e!));
    const started = n.start({ timeoutMs: 10_000 });
    await until('4 attempts', () => connects.length >= 4);
    // Delays 99, 199, 399 ms (full jitter at its ceiling): never faster than the window.
    const gaps = connects.slice(1, 4).map((c, i) => c.at - connects[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(95);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeGreaterThanOrEqual(395);
    refuse = false;
    await started;
    expect(connects.map((c) => c.bdSeq).slice(0, 5)).toEqual([0, 1, 2, 3, 4].slice(0, connects.length));
    expect(failures.every((e) => (e as { code?: string }).code === 'MqttConnect')).toBe(true);
    expect(n.stats.connectFailures).toBe(connects.length - 1);
  });

  it('backoffDelay: full jitter within [min, min(max, initial·2^n))', () => {
    expect(backoffDelay(0, {}, () => 0)).toBe(0);
    expect(backoffDelay(0, {}, () => 0.999999)).toBe(99);
    expect(backoffDelay(3, { initialDelayMs: 100, maxDelayMs: 500 }, () => 0.999999)).toBe(499);
    expect(backoffDelay(50, { initialDelayMs: 100, maxDelayMs: 10_000 }, () => 0.5)).toBe(5_000);
    expect(backoffDelay(2, { minDelayMs: 300, initialDelayMs: 100 }, () => 0)).toBe(300);
  });

  it('a silent peer (accepts TCP, never answers CONNECT): connect deadline, typed error, retried', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    });
    const port = (server.address() as net.AddressInfo).port;
    const n = node(`mqtt://127.0.0.1:${port}`, {
      connectTimeoutMs: 200,
      reconnect: { initialDelayMs: 50, maxDelayMs: 50 },
    });
    const errors: Error[] = [];
    n.on('disconnect', (e) => errors.push(e!));
    void n.start({ timeoutMs: 60_000 }).catch(() => {});
    await until('two timed-out attempts', () => errors.length >= 2);
    expect(errors[0]).toMatchObject({ code: 'MqttConnect' });
    expect(String((errors[0] as Error).message)).toMatch(/timed out after 200 ms/);
  });

  it('start(): deadline → TimeoutError, AbortSignal → AbortedError, close() → ClosedError; the session is then closed', async () => {
    const n = node('mqtt://127.0.0.1:1', {
      reconnect: { minDelayMs: 50, initialDelayMs: 60, maxDelayMs: 100 },
    });
    n.defineDevice('d', [{ name: 'x', datatype: DataType.Int16 }]);
    await expect(n.start({ timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const aborted = n.waitOnline({ signal: ac.signal, timeoutMs: 60_000 });
    ac.abort(new Error('user'));
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const pending = n.waitOnline({ timeoutMs: 60_000 });
    const closed = n.close();
    await expect(pending).rejects.toBeInstanceOf(ClosedError);
    await closed;
    expect(n.state).toBe('closed');
    expect(() => n.updateDevice('d', [{ name: 'x', value: 1 }])).toThrow(ClosedError);
    await expect(n.start()).rejects.toBeInstanceOf(ClosedError);
    await expect(n.close()).resolves.toBeUndefined(); // idempotent
  });

  it('usage errors: unknown device or metric, reserved names, duplicate metrics, bad values', () => {
    const n = node('mqtt://127.0.0.1:1');
    expect(() => n.updateDevice('nope', [])).toThrow(/unknown device/);
    n.defineDevice('d', [{ name: 'x', datatype: DataType.UInt8 }]);
    expect(() => n.updateDevice('d', [{ name: 'y', value: 1 }])).toThrow(/not declared in the birth/);
    expect(() => n.updateDevice('d', [{ name: 'x', value: 256 }])).toThrow(/\[0, 255\]/);
    expect(() => n.defineDevice('e', [{ name: 'bdSeq', datatype: DataType.Int64 }])).toThrow(/reserved/);
    expect(() =>
      n.defineDevice('e', [
        { name: 'a', datatype: DataType.Int8 },
        { name: 'a', datatype: DataType.Int8 },
      ]),
    ).toThrow(/twice/);
    expect(() => n.defineDevice('e', [{ name: 'a', datatype: DataType.Int8, value: 'x' }])).toThrow(
      /expected an integer/,
    );
    n.deviceDeath('d');
    expect(() => n.updateDevice('d', [{ name: 'x', value: 1 }])).toThrow(/dead/);
  });
});

describe('MQTT 5 on Mosquitto', () => {
  it('[tck-id-principles-persistence-clean-session-50] [tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt50] births over MQTT 5; close() is a DISCONNECT with reason 0x04 and the broker delivers the NDEATH will', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const obs = await Observer.start(broker.url);
    cleanups.push(() => obs.close());
    const n = node(broker.url, { protocolVersion: 5 });
    n.defineDevice('d', [{ name: 'x', datatype: DataType.Int64, value: -(2n ** 62n) }]);
    await n.start({ timeoutMs: 10_000 });
    await obs.waitFor('DBIRTH', 1);
    expect(obs.of('DBIRTH')[0]!.payload.metrics[0]!.value).toBe(-(2n ** 62n));
    await n.close();
    const [ndeath] = await obs.waitFor('NDEATH', 1);
    expect(ndeath!.qos).toBe(1);
    expect(ndeath!.payload.metrics[0]).toMatchObject({ name: BDSEQ_METRIC, value: 0 });
  });
});

describe('commands', () => {
  it('a retained NCMD (stale, and re-delivered by every re-subscription) is ignored and reported', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const obs = await Observer.start(broker.url);
    cleanups.push(() => obs.close());
    const host = await import('mqtt').then((m) => m.default.connectAsync(broker.url));
    cleanups.push(() => host.endAsync(true));
    const { REBIRTH_METRIC } = await import('@labwire/sparkplug');
    const { encodePayload } = await import('@labwire/sparkplug/codec');
    await host.publishAsync(
      'spBv1.0/g/NCMD/e',
      Buffer.from(
        encodePayload({ metrics: [{ name: REBIRTH_METRIC, datatype: DataType.Boolean, value: true }] }),
      ),
      { qos: 1, retain: true },
    );
    const n = node(broker.url, { confirmIntervalMs: 20 });
    const errors: Error[] = [];
    n.on('commandError', (e) => errors.push(e));
    n.defineDevice('d', [{ name: 'x', datatype: DataType.Int8, value: 0 }]);
    await n.start({ timeoutMs: 10_000 });
    // Keep DATA flowing so the delivery barrier (a re-SUBSCRIBE of NCMD) runs several times.
    for (let i = 0; i < 3; i++) {
      const before = n.stats.confirmations;
      n.updateDevice('d', [{ name: 'x', value: i }]);
      await until('a confirmation', () => n.stats.confirmations > before);
    }
    // Delivered on the first subscription and again after barriers; never acted upon.
    await until('the retained NCMD seen three times', () => errors.length >= 3);
    expect(obs.of('NBIRTH')).toHaveLength(1);
    expect(n.stats.births).toBe(1);
    expect(errors[0]).toMatchObject({ code: 'SparkplugCommand' });
    await host.publishAsync('spBv1.0/g/NCMD/e', '', { qos: 1, retain: true });
  });
});

describe('backpressure', () => {
  it('a broker that stops reading: the write buffer is bounded, live updates are dropped (or rejected) and counted, then flow again', async () => {
    const broker = await startAedes();
    cleanups.push(() => broker.close());
    const n = node(broker.url, { clientId: 'slow', maxBufferedBytes: 64 * 1024, confirmIntervalMs: 0 });
    const values = Array.from({ length: 64 }, (_, i) => ({
      name: `m${i}`,
      datatype: DataType.Double,
      value: 0,
    }));
    n.defineDevice('d', values);
    await n.start({ timeoutMs: 10_000 });
    broker.pauseClient('slow', true);
    const outcomes: string[] = [];
    // Kernel buffers first absorb what is written; keep writing (bounded) until the session refuses.
    for (let i = 0; i < 20_000 && !outcomes.includes('dropped'); i++) {
      outcomes.push(
        n.updateDevice(
          'd',
          values.map((v) => ({ name: v.name, value: i })),
        ),
      );
      if (i % 100 === 99) await sleep(1);
    }
    expect(outcomes.at(-1)).toBe('dropped');
    expect(n.stats.bufferedBytes).toBeGreaterThan(64 * 1024);
    expect(n.stats.bufferedBytes).toBeLessThan(64 * 1024 + 4096); // at most one message over the limit
    expect(n.stats.backpressureDrops).toBe(64);
    broker.pauseClient('slow', false);
    await until('drained', () => n.stats.bufferedBytes === 0);
    expect(
      n.updateDevice(
        'd',
        values.map((v) => ({ name: v.name, value: -1 })),
      ),
    ).toBe('sent');
  });
});
