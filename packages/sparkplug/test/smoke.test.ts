import { DataType, EdgeNode } from '@labwire/sparkplug';
import { afterEach, expect, it } from 'vitest';
import { startAedes, type TestBroker } from './brokers';
import { Observer } from './observer';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('smoke: birth, data, close', async () => {
  const broker: TestBroker = await startAedes();
  cleanups.push(() => broker.close());
  const obs = await Observer.start(broker.url);
  cleanups.push(() => obs.close());
  const node = new EdgeNode({ brokerUrl: broker.url, groupId: 'g', edgeNodeId: 'e' });
  cleanups.push(() => node.close());
  node.defineDevice('d1', [{ name: 'a', datatype: DataType.Int8, value: -1 }]);
  await node.start({ timeoutMs: 5000 });
  node.updateDevice('d1', [{ name: 'a', value: -5 }]);
  await obs.waitFor('DDATA');
  await node.close();
  await obs.waitFor('NDEATH');
  console.log(obs.messages.map((m) => `${m.topic} q${m.qos} r${m.retain} ${JSON.stringify(m.payload, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`).join('\n'));
  expect(obs.of('DDATA')[0]!.payload.metrics[0]!.value).toBe(-5);
});
