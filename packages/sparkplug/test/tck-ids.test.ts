// Sparkplug ids (§4.1): uniqueness of device ids within an edge node, device ids shared across edge
// nodes, and the case-sensitivity advice (SHOULD NOT: reported through the logger, not refused).

import { EdgeNode } from '@labwire/sparkplug';
import { DataType } from '@labwire/sparkplug/codec';
import { afterEach, expect, it } from 'vitest';
import { startAedes } from './brokers';
import { Observer } from './observer';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function recorder() {
  const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const logger = {
    debug() {},
    info() {},
    warn(message: string, fields?: Record<string, unknown>) {
      warnings.push({ message, ...(fields ? { fields } : {}) });
    },
    error() {},
  };
  return { warnings, logger };
}

it('[tck-id-case-sensitivity-sparkplug-ids] [tck-id-case-sensitivity-metric-names] ids and metric names that differ only in case are reported', () => {
  const { warnings, logger } = recorder();
  const node = new EdgeNode({ brokerUrl: 'mqtt://127.0.0.1:1', groupId: 'g', edgeNodeId: 'e', logger });
  cleanups.push(() => node.close());
  node.defineDevice('Pump', [
    { name: 'Speed', datatype: DataType.Double },
    { name: 'speed', datatype: DataType.Double },
  ]);
  node.defineDevice('pump', [{ name: 'x', datatype: DataType.Double }]);
  expect(warnings.map((w) => w.message)).toEqual([
    'sparkplug: metric names differ only in case',
    'sparkplug: device ids differ only in case',
  ]);
});

it('[tck-id-topic-structure-namespace-unique-device-id] [tck-id-topic-structure-namespace-duplicate-device-id-across-edge-node] a device id is unique within an edge node (re-declaring replaces it) and may repeat on another edge node', async () => {
  const broker = await startAedes();
  cleanups.push(() => broker.close());
  const obs = await Observer.start(broker.url);
  cleanups.push(() => obs.close());
  const a = new EdgeNode({ brokerUrl: broker.url, groupId: 'g', edgeNodeId: 'a' });
  const b = new EdgeNode({ brokerUrl: broker.url, groupId: 'g', edgeNodeId: 'b' });
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  a.defineDevice('pump', [{ name: 'x', datatype: DataType.Int8, value: 1 }]);
  b.defineDevice('pump', [{ name: 'x', datatype: DataType.Int8, value: 2 }]);
  await a.start({ timeoutMs: 10_000 });
  await b.start({ timeoutMs: 10_000 });
  a.defineDevice('pump', [{ name: 'y', datatype: DataType.Int8, value: 3 }]);
  expect(a.deviceIds()).toEqual(['pump']);
  const births = await obs.waitFor('DBIRTH', 3);
  expect(births.map((m) => [m.topic, m.payload.metrics[0]!.name, m.payload.metrics[0]!.value])).toEqual([
    ['spBv1.0/g/DBIRTH/a/pump', 'x', 1],
    ['spBv1.0/g/DBIRTH/b/pump', 'x', 2],
    ['spBv1.0/g/DBIRTH/a/pump', 'y', 3],
  ]);
});

it('[tck-id-payloads-alias-uniqueness] aliases stay unique in the session: a removed device does not free its aliases, a re-declared metric keeps its alias', async () => {
  const broker = await startAedes();
  cleanups.push(() => broker.close());
  const obs = await Observer.start(broker.url);
  cleanups.push(() => obs.close());
  const node = new EdgeNode({ brokerUrl: broker.url, groupId: 'g', edgeNodeId: 'e' });
  cleanups.push(() => node.close());
  node.defineDevice('old', [{ name: 'x', datatype: DataType.Int8, value: 1 }]);
  await node.start({ timeoutMs: 10_000 });
  node.removeDevice('old');
  node.defineDevice('new', [{ name: 'y', datatype: DataType.Int8, value: 2 }]);
  node.defineDevice('new', [
    { name: 'z', datatype: DataType.Int8, value: 3 },
    { name: 'y', datatype: DataType.Int16, value: 4 },
  ]);
  const births = await obs.waitFor('DBIRTH', 3);
  await obs.waitFor('DDEATH', 1);
  const alias = (i: number, name: string) => births[i]!.payload.metrics.find((m) => m.name === name)!.alias;
  expect(alias(1, 'y')).not.toBe(alias(0, 'x'));
  expect(alias(2, 'y')).toBe(alias(1, 'y'));
  expect(new Set([alias(0, 'x'), alias(1, 'y'), alias(2, 'z')]).size).toBe(3);
  expect(node.deviceIds()).toEqual(['new']);
});
