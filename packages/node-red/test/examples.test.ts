// The example flows in examples/ (what Node-RED offers under Import > Examples) run as shipped in the real
// runtime against the embedded simulators: their debug nodes are swapped for helper nodes that record, and
// their inject nodes are triggered from here. The one fixed port (6341, PyMoDAQ's default) is replaced by
// a free ephemeral one.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from '@labwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { NodeMessage } from '../src/red';
import { collect, coreNode, helper, labwireModules, node, roundTrip, waitForStatus } from './red';

const EXAMPLES = path.join(import.meta.dirname, '..', 'examples');
const core = [
  'common/20-inject.js',
  'common/25-catch.js',
  'function/10-switch.js',
  'function/15-change.js',
].map(coreNode);
let modules: Awaited<ReturnType<typeof labwireModules>>;

beforeAll(async () => {
  modules = await labwireModules();
  await helper.startServer();
});

afterEach(async () => {
  await helper.unload();
});

afterAll(async () => {
  await helper.stopServer();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Loads an example; returns the messages its error debug node ("errors") receives. */
async function loadExample(name: string, rewrite: (n: Record<string, unknown>) => void = () => {}) {
  const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >[];
  for (const n of flow) {
    if (n.type === 'debug') n.type = 'helper';
    rewrite(n);
  }
  await helper.load([modules.optommp, modules.pymodaq, modules.cmdTcp, ...core], flow);
  return collect('errors-out');
}

describe('examples', () => {
  test('every example is a flow of known node types on one tab, with no address but loopback', () => {
    const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Record<
        string,
        unknown
      >[];
      expect(
        flow.filter((n) => n.type === 'tab'),
        file,
      ).toHaveLength(1);
      for (const n of flow) {
        if (typeof n.host === 'string') expect(n.host, `${file} ${String(n.id)}`).toBe('127.0.0.1');
        if (typeof n.conf === 'string') expect(n.simulate, `${file} ${String(n.id)}`).toBe(true);
      }
    }
  });

  test('OptoMMP: scan, read and write a simulated EPIC', async () => {
    const errors = await loadExample('optommp-scan-simulated-epic');
    const scanned = collect('scan-out');
    await waitForStatus('scan', (s) => s.text === 'connected');
    const read = await roundTrip('read-now', {}, 'read-out');
    expect(typeof read.payload).toBe('number');
    expect((await roundTrip('write-now', {}, 'write-out')).payload).toBe(42);
    await waitFor(() => scanned.length > 0, { timeoutMs: 10_000, message: 'a scan message' });
    expect(Object.keys(scanned[0]!.payload as object)).toHaveLength(64);
    expect(errors).toEqual([]);
  });

  test('cmd_tcp: identity, set and read back', async () => {
    const errors = await loadExample('cmd-tcp-simulated-instrument');
    await waitForStatus('idn', (s) => s.fill === 'green');
    expect((await roundTrip('ask-idn', {}, 'idn-out')).payload).toMatch(/^LABWIRE,TCPBUS-SIM,/);
    expect((await roundTrip('set-volt', {}, 'volt-out')).payload).toBe('1.250000E+00');
    expect(errors).toEqual([]);
  });

  test('PyMoDAQ: move, position and image from the simulated stage and camera', async () => {
    const errors = await loadExample('pymodaq-drive-simulated-instruments');
    await waitForStatus('move', (s) => s.text?.includes('1 act. 1 det.') === true);
    expect((await roundTrip('go', {}, 'move-out', 20_000)).payload).toBe(2.5);
    expect((await roundTrip('where', {}, 'where-out')).payload).toBe(2.5);
    const image = (await roundTrip('snap', {}, 'grab-out')).payload as {
      data: { dim: string; data: number[][][] }[];
    };
    expect(image.data[0]!.dim).toBe('Data2D');
    expect(image.data[0]!.data[0]!.length).toBeGreaterThan(1);
    expect(errors).toEqual([]);
  });

  test('PyMoDAQ: a flow as a remote actuator answers the moves it is sent', async () => {
    const port = await freePort();
    const errors = await loadExample('pymodaq-flow-as-remote-actuator', (n) => {
      if (n.port === 6341) n.port = port;
    });
    const requests = collect('requests');
    await waitForStatus('act', (s) => s.fill === 'green');
    await waitForStatus('move', (s) => s.fill === 'green');
    const done: NodeMessage = await roundTrip('go', {}, 'move-out');
    expect(done.payload).toBe(7);
    expect(requests.map((r) => [r.topic, r.payload])).toContainEqual(['move_abs', 7]);
    expect(node('act')).toBeDefined();
    expect(errors).toEqual([]);
  });
});
