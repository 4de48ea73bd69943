// Primary host application awareness (Sparkplug B 3.0 §5.9 and the STATE topic): the edge node waits for
// the configured host's STATE online=true before its birth, ignores stale STATE messages, and ends its
// session (NDEATH, disconnect, start over on the next broker) when the host goes offline.
// Real brokers (aedes and Mosquitto), the host played by a plain MQTT.js client publishing retained STATE.

import { BDSEQ_METRIC, EdgeNode } from '@labwire/sparkplug';
import { DataType } from '@labwire/sparkplug/codec';
import { FaultProxy } from '@labwire/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startAedes, startMosquitto, type TestBroker } from './brokers';
import { Observer } from './observer';

const HOST = 'scada-1';
const STATE = `spBv1.0/STATE/${HOST}`;

async function host(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, clean: true });
  c.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

function state(c: MqttClient, online: boolean, timestamp: number): Promise<unknown> {
  // Host applications publish STATE at QoS 1, retained (§4.2 / tck-id-host-topic-phid-birth-qos, -retain).
  return c.publishAsync(STATE, JSON.stringify({ online, timestamp }), { qos: 1, retain: true });
}

/** Waits for a node event, or fails after `ms`. */
function next<T>(node: EdgeNode, event: 'birth' | 'hostState' | 'disconnect', ms = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    node.once(event, ((v: T) => {
      clearTimeout(t);
      resolve(v);
    }) as never);
  });
}

async function waitState(node: EdgeNode, state: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (node.state !== state) {
    if (Date.now() > until) throw new Error(`state ${node.state}, not ${state}, after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(['aedes', 'mosquitto'] as const)('primary host on %s', (kind) => {
  async function setup() {
    const broker: TestBroker = kind === 'aedes' ? await startAedes() : await startMosquitto();
    cleanups.push(() => broker.close());
    const obs = await Observer.start(broker.url);
    cleanups.push(() => obs.close());
    const h = await host(broker.url);
    cleanups.push(() => h.endAsync(true));
    // Two broker URLs (two proxies to the same broker), to see the edge node move to the next one.
    const a = await FaultProxy.start({ target: { port: broker.port } });
    const b = await FaultProxy.start({ target: { port: broker.port } });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const node = new EdgeNode({
      brokerUrl: [`mqtt://127.0.0.1:${a.port}`, `mqtt://127.0.0.1:${b.port}`],
      groupId: 'g',
      edgeNodeId: 'e',
      primaryHostId: HOST,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    cleanups.push(() => node.close());
    node.defineDevice('d', [{ name: 'v', datatype: DataType.Int32, value: 1 }]);
    return { broker, obs, h, a, b, node };
  }

  it('[tck-id-message-flow-edge-node-birth-publish-phid-wait] [tck-id-operational-behavior-edge-node-birth-sequence-wait] [tck-id-message-flow-edge-node-birth-publish-phid-wait-online] no birth while the host is offline; NBIRTH once it is online', async () => {
    const { obs, h, node } = await setup();
    await state(h, false, 1000);
    const seen = next<{ online: boolean }>(node, 'hostState');
    void node.start().catch(() => {});
    expect((await seen).online).toBe(false);
    // The retained STATE may come before or after the SUBACK: wait for the state, not for an order.
    await waitState(node, 'waiting-for-host');
    // Updates while waiting are stored, not published.
    expect(node.updateDevice('d', [{ name: 'v', value: 5 }])).toBe('stored');
    expect(obs.messages).toHaveLength(0);
    await state(h, true, 2000);
    await node.waitOnline({ timeoutMs: 10_000 });
    await obs.waitFor('DDATA', 1);
    expect(obs.messages.map((m) => m.type)).toEqual(['NBIRTH', 'DBIRTH', 'DDATA']);
    // The stored update follows the births, marked historical.
    expect(obs.of('DDATA')[0]!.payload.metrics[0]).toMatchObject({ value: 5, isHistorical: true });
  });

  it('[tck-id-message-flow-edge-node-birth-publish-phid-wait-id] only the configured host id counts', async () => {
    const { obs, h, node } = await setup();
    await h.publishAsync('spBv1.0/STATE/other-host', JSON.stringify({ online: true, timestamp: 5000 }), {
      qos: 1,
      retain: true,
    });
    await state(h, false, 1000);
    const first = next(node, 'hostState');
    void node.start().catch(() => {});
    await first;
    await waitState(node, 'waiting-for-host');
    // Another host comes online (live), then ours says offline again: messages from one publisher
    // arrive in order, so when ours is seen the other host's has been too (had it been delivered).
    const second = next<{ timestamp: number }>(node, 'hostState');
    await h.publishAsync('spBv1.0/STATE/other-host', JSON.stringify({ online: true, timestamp: 6000 }), {
      qos: 1,
    });
    await state(h, false, 1001);
    expect((await second).timestamp).toBe(1001);
    expect(node.state).toBe('waiting-for-host');
    expect(node.stats.births).toBe(0);
    expect(obs.messages).toHaveLength(0);
    await h.publishAsync('spBv1.0/STATE/other-host', '', { qos: 1, retain: true });
  });

  it('[tck-id-message-flow-edge-node-birth-publish-phid-wait-timestamp] [tck-id-operational-behavior-edge-node-termination-host-offline-timestamp] a STATE older than the last one is ignored (a stale offline does not end the session)', async () => {
    const { obs, h, node } = await setup();
    await state(h, true, 5000);
    await node.start({ timeoutMs: 10_000 });
    // Listening before publishing: the node may see the STATE before the publisher sees its PUBACK.
    const again = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no hostState of timestamp 5000 within 10000 ms')), 10_000);
      const on = (s: { timestamp: number }) => {
        if (s.timestamp !== 5000) return;
        clearTimeout(t);
        node.off('hostState', on);
        resolve();
      };
      node.on('hostState', on);
    });
    await state(h, false, 4000); // older than the online: stale
    await state(h, true, 5000); // a newer-or-equal message, so we know the stale one was processed first
    await again;
    expect(node.state).toBe('online');
    node.updateDevice('d', [{ name: 'v', value: 9 }]);
    await obs.waitFor('DDATA', 1);
    expect(obs.of('NDEATH')).toHaveLength(0);
  });

  it('[tck-id-message-flow-edge-node-birth-publish-phid-offline] [tck-id-operational-behavior-edge-node-termination-host-offline] [tck-id-operational-behavior-edge-node-termination-host-offline-reconnect] [tck-id-operational-behavior-primary-application-state-with-multiple-servers-walk] [tck-id-operational-behavior-primary-application-state-with-multiple-servers-single-server] host offline: NDEATH, disconnect, reconnect to the next broker, birth again when the host is back', async () => {
    const { obs, h, a, b, node } = await setup();
    await state(h, true, 1000);
    await node.start({ timeoutMs: 10_000 });
    expect(a.accepts).toBe(1);
    const disconnected = next(node, 'disconnect');
    await state(h, false, 2000);
    await obs.waitFor('NDEATH', 1);
    await disconnected;
    const ndeath = obs.of('NDEATH')[0]!;
    expect(ndeath.payload.metrics[0]).toMatchObject({ name: BDSEQ_METRIC, value: 0 });
    // Reconnects (to the second URL), but waits: the retained STATE says offline.
    await waitState(node, 'waiting-for-host');
    expect(b.accepts).toBeGreaterThanOrEqual(1);
    // [tck-id-operational-behavior-primary-application-state-with-multiple-servers-single-server]: never two at once
    expect(a.open + b.open).toBe(1);
    await state(h, true, 3000);
    await node.waitOnline({ timeoutMs: 10_000 });
    await obs.waitFor('NBIRTH', 2);
    // New connection, new bdSeq.
    expect(obs.of('NBIRTH')[1]!.payload.metrics[0]).toMatchObject({ name: BDSEQ_METRIC, value: 1 });
  });

  it('a malformed STATE payload is reported and ignored', async () => {
    const { h, node } = await setup();
    const errors: Error[] = [];
    node.on('commandError', (e) => errors.push(e));
    await h.publishAsync(STATE, 'not json', { qos: 1, retain: true });
    void node.start().catch(() => {});
    const until = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(errors[0]).toMatchObject({ code: 'SparkplugCommand' });
    await waitState(node, 'waiting-for-host');
    await h.publishAsync(STATE, '', { qos: 1, retain: true });
  });
});
