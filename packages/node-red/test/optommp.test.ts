// The OptoMMP nodes in the real Node-RED runtime against simulated groov EPICs on loopback.

import { EpicSimulator, SimulatedFleet } from '@labwire/optommp/simulator';
import { sleep, waitFor } from '@labwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { MmpDevice } from '../src/optommp/device';
import type { NodeMessage } from '../src/red';
import {
  collect,
  coreNode,
  helper,
  labwireModules,
  nextMessage,
  node,
  onTab,
  roundTrip,
  statusOf,
  waitForStatus,
} from './red';

const RACK = {
  modules: [
    { slot: 0, kind: 'digital-output' as const, channels: 8 },
    { slot: 2, kind: 'analog-input' as const, channels: 64, drift: false },
    { slot: 3, kind: 'analog-output' as const, channels: 8 },
  ],
};

let sim: EpicSimulator;
let modules: Awaited<ReturnType<typeof labwireModules>>;
const catchNode = coreNode('common/25-catch.js');

beforeAll(async () => {
  modules = await labwireModules();
  sim = await EpicSimulator.start({ rack: RACK, maxBlockBytes: 4096, udp: true });
  await helper.startServer();
});

afterEach(async () => {
  await helper.unload();
});

afterAll(async () => {
  await helper.stopServer();
  await sim.close();
});

function device(extra: Record<string, unknown> = {}) {
  return {
    id: 'dev',
    type: 'labwire-mmp-device',
    name: 'epic',
    host: '127.0.0.1',
    port: sim.port,
    transport: 'tcp',
    timeout: 1000,
    window: 1,
    maxBlockBytes: 4096,
    ...extra,
  };
}

function load(nodes: object[], dev: object = device()) {
  return helper.load([modules.optommp, catchNode], onTab([dev, ...nodes]));
}

describe('scan node', () => {
  test('reads a whole 64-channel module with one block read per scan and reports every value', async () => {
    for (let c = 0; c < 64; c++) sim.device.setAnalog(2, c, c / 4);
    let reads = 0;
    const count = (e: { request: { tcode: number; offset: bigint | number } }) => {
      if (e.request.tcode === 5) reads++;
    };
    sim.device.on('request', count as never);
    try {
      await load([
        {
          id: 'scan',
          type: 'labwire-mmp-scan',
          device: 'dev',
          period: 20,
          report: 'every-scan',
          output: 'scan',
          points: [{ kind: 'analog-module', module: 2 }],
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ]);
      const got = collect('out');
      await waitFor(() => got.length >= 5, { timeoutMs: 10_000 });
      // One snapshot, in this turn: the simulator's block reads, the scanner's counts, the messages so far.
      const readsSoFar = reads;
      const stats = (node('dev') as unknown as { device: MmpDevice }).device.scanStats()!;
      const counts = stats.devices.epic!.groups.scan!;
      const msg = got[0]!;
      expect(msg.topic).toBe('epic');
      expect(msg.device).toBe('epic');
      const payload = msg.payload as Record<string, number>;
      expect(Object.keys(payload)).toHaveLength(64);
      expect(payload['analog 2/0']).toBe(0);
      expect(payload['analog 2/63']).toBe(63 / 4);
      // Each message is the scan of one schedule slot, in slot order. A slot the process was too busy to
      // start in time (a loaded machine, the first scan's connect) is skipped and counted as missed: every
      // slot between the first and the last message is either reported or counted.
      const sequences = got.map((m) => m.sequence as number);
      for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!);
      const notReported = sequences.at(-1)! - sequences[0]! + 1 - sequences.length;
      expect(notReported).toBeLessThanOrEqual(counts.missed + counts.failed + counts.skipped);
      // Every message is a completed scan (one may still be on its way to the output).
      expect(got.length).toBeLessThanOrEqual(counts.scans);
      // One block read (tcode 5) per scan: the simulator got one per scan ended, and at most the one of the
      // scan in flight.
      expect(readsSoFar).toBeGreaterThanOrEqual(counts.scans + counts.failed);
      expect(readsSoFar).toBeLessThanOrEqual(counts.scans + counts.failed + 1);
      expect(stats.devices.epic!.requests).toBe(counts.scans + counts.failed);
      expect(statusOf('scan')).toMatchObject({ fill: 'green', shape: 'dot', text: 'connected' });
    } finally {
      sim.device.off('request', count as never);
    }
  });

  test('reports by exception: first everything, then only values that moved beyond the deadband', async () => {
    for (let c = 0; c < 4; c++) sim.device.setAnalog(2, c, 10);
    await load([
      {
        id: 'scan',
        type: 'labwire-mmp-scan',
        device: 'dev',
        period: 10,
        report: 'on-change',
        deadband: '0.5',
        output: 'scan',
        topic: 'tank',
        points: [{ kind: 'analog-module', module: 2, channels: 4, name: 'level' }],
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ]);
    const first = await nextMessage('out');
    expect(first.topic).toBe('tank');
    expect(first.payload).toEqual({ 'level/0': 10, 'level/1': 10, 'level/2': 10, 'level/3': 10 });
    const got = collect('out');
    sim.device.setAnalog(2, 1, 10.25); // within the deadband: nothing
    await sleep(100);
    expect(got).toEqual([]);
    sim.device.setAnalog(2, 2, 11); // beyond
    await waitFor(() => got.length > 0);
    expect(got[0]!.payload).toEqual({ 'level/2': 11 });
  });

  test('one message per value, with the point name in the topic', async () => {
    sim.device.setDigital(0, 1, true);
    await load([
      {
        id: 'scan',
        type: 'labwire-mmp-scan',
        device: 'dev',
        period: 50,
        report: 'on-change',
        output: 'point',
        points: [
          { kind: 'digital', module: 0, channel: 1, name: 'pump' },
          { kind: 'float32', index: 7 },
        ],
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect('out');
    await waitFor(() => got.length >= 2);
    const byTopic = Object.fromEntries(got.map((m) => [m.topic, m.payload]));
    expect(byTopic).toEqual({ pump: true, 'float32[7]': 0 });
  });

  test('bad points: a red status naming the field, and nothing scanned', async () => {
    await load([
      {
        id: 'scan',
        type: 'labwire-mmp-scan',
        device: 'dev',
        period: 100,
        points: [{ kind: 'analog', module: 64, channel: 0 }],
        wires: [[]],
      },
    ]);
    const status = statusOf('scan');
    expect(status).toMatchObject({ fill: 'red', shape: 'ring' });
    expect(status?.text).toContain('points[0].module');
  });
});

describe('read and write nodes', () => {
  const io = (
    id: string,
    type: 'labwire-mmp-read' | 'labwire-mmp-write',
    settings: Record<string, unknown>,
  ) => ({
    id,
    type,
    device: 'dev',
    module: '',
    channel: '',
    index: '',
    count: '',
    slot: '',
    address: '',
    length: '',
    rawType: 'u32',
    ...settings,
    wires: [['out']],
  });

  test('write then read every area, fields from the node or from the message', async () => {
    await load([
      io('wd', 'labwire-mmp-write', { area: 'digital', module: 0, channel: 3 }),
      io('rd', 'labwire-mmp-read', { area: 'digital', module: 0 }),
      io('wa', 'labwire-mmp-write', { area: 'analog', module: 3, channel: 1 }),
      io('ra', 'labwire-mmp-read', { area: 'analog', module: 3, channel: 1 }),
      io('wi', 'labwire-mmp-write', { area: 'int32', index: 1022 }),
      io('ri', 'labwire-mmp-read', { area: 'int32', index: 1022, count: 3 }),
      io('wf', 'labwire-mmp-write', { area: 'float32' }),
      io('rf', 'labwire-mmp-read', { area: 'float32' }),
      io('ws', 'labwire-mmp-write', { area: 'string', slot: 5 }),
      io('rs', 'labwire-mmp-read', { area: 'string', slot: 5 }),
      io('wr', 'labwire-mmp-write', { area: 'raw', address: 'F0D81000', rawType: 'i32' }),
      io('rr', 'labwire-mmp-read', { area: 'raw', address: '0xF0D81000', rawType: 'i32' }),
      io('rh', 'labwire-mmp-read', { area: 'raw', address: 'F0D81000', rawType: 'hex', length: 4 }),
      io('rm', 'labwire-mmp-read', { area: 'analog-module', module: 2, channels: 3 }),
      { id: 'out', type: 'helper' },
    ]);
    const written = await roundTrip('wd', { payload: 'on', topic: 't' }, 'out');
    expect(written).toMatchObject({ payload: 'on', topic: 't' });
    expect(Boolean(sim.device.getDigital(0, 3))).toBe(true);
    expect((await roundTrip('rd', { channel: 3 }, 'out')).payload).toBe(true);
    expect((await roundTrip('rd', { channel: 4 }, 'out')).payload).toBe(false);

    await roundTrip('wa', { payload: 4.5 }, 'out');
    expect((await roundTrip('ra', {}, 'out')).payload).toBe(4.5);

    await roundTrip('wi', { payload: [-1, 70_000, 3] }, 'out'); // crosses areas 1 and 2
    expect((await roundTrip('ri', {}, 'out')).payload).toEqual([-1, 70_000, 3]);

    await roundTrip('wf', { payload: '2.5', index: 9 }, 'out');
    expect((await roundTrip('rf', { index: 9 }, 'out')).payload).toBe(2.5);

    await roundTrip('ws', { payload: 'hi there' }, 'out');
    expect((await roundTrip('rs', {}, 'out')).payload).toBe('hi there');

    await roundTrip('wr', { payload: -2 }, 'out');
    expect((await roundTrip('rr', {}, 'out')).payload).toBe(-2);
    expect((await roundTrip('rh', {}, 'out')).payload).toBe('fffffffe');

    sim.device.setAnalog(2, 0, 1.25);
    sim.device.setAnalog(2, 1, 0);
    sim.device.setAnalog(2, 2, -3);
    expect((await roundTrip('rm', {}, 'out')).payload).toEqual([1.25, 0, -3]);
    expect(statusOf('ra')).toMatchObject({ fill: 'green', text: 'connected' });
  });

  test('errors reach Catch nodes with the message; the status shows the reason', async () => {
    await load([
      io('rr', 'labwire-mmp-read', { area: 'raw', address: '00001000', rawType: 'u32' }),
      io('wd', 'labwire-mmp-write', { area: 'digital', module: 0, channel: 0 }),
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    // An address the device does not have: it answers with rcode 5 (E005).
    const caught = await roundTrip('rr', { payload: 'x', topic: 'q' }, 'caught');
    expect(caught.topic).toBe('q');
    expect((caught.error as { message: string; source: { id: string } }).source.id).toBe('rr');
    expect((caught.error as { message: string }).message).toMatch(/E005/);
    expect(statusOf('rr')).toMatchObject({ fill: 'red' });
    expect(statusOf('rr')?.text).toMatch(/E005/);

    // A payload that is not a state: refused before anything is sent.
    const refused = await roundTrip('wd', { payload: 'maybe' }, 'caught');
    expect((refused.error as { message: string }).message).toMatch(/payload: expected true\/false/);
  });
});

describe('device status', () => {
  test('reconnecting with the reason while the device is away, connected again when it is back', async () => {
    const fleet = await SimulatedFleet.start({ count: 1, rack: RACK });
    try {
      await load(
        [
          {
            id: 'scan',
            type: 'labwire-mmp-scan',
            device: 'dev',
            period: 20,
            points: [{ kind: 'uptime' }],
            wires: [[]],
          },
          {
            id: 'read',
            type: 'labwire-mmp-read',
            device: 'dev',
            area: 'raw',
            address: 'F030010C',
            rawType: 'u32',
            wires: [[]],
          },
        ],
        device({ port: fleet.ports[0] }),
      );
      await waitForStatus('scan', (s) => s.text === 'connected');
      await waitForStatus('read', (s) => s.text === 'connected');
      await fleet.stop(0);
      const down = await waitForStatus('scan', (s) => s.fill === 'yellow');
      expect(down.shape).toBe('ring');
      expect(down.text).toMatch(
        /^reconnecting: connect to 127\.0\.0\.1:\d+ refused|^reconnecting: .*(closed|reset|lost)/,
      );
      const readDown = await waitForStatus('read', (s) => s.fill === 'yellow');
      expect(readDown.text).toMatch(/^reconnecting/);
      await fleet.start(0);
      await waitForStatus('scan', (s) => s.text === 'connected');
      await waitForStatus('read', (s) => s.text === 'connected');
    } finally {
      await helper.unload();
      await fleet.close();
    }
  });

  test('UDP: scans and reads over datagrams', async () => {
    sim.device.setAnalog(2, 5, 7.5);
    await load(
      [
        {
          id: 'scan',
          type: 'labwire-mmp-scan',
          device: 'dev',
          period: 20,
          points: [{ kind: 'analog', module: 2, channel: 5 }],
          wires: [['out']],
        },
        {
          id: 'read',
          type: 'labwire-mmp-read',
          device: 'dev',
          area: 'analog',
          module: 2,
          channel: 5,
          wires: [['rout']],
        },
        { id: 'out', type: 'helper' },
        { id: 'rout', type: 'helper' },
      ],
      device({ transport: 'udp' }),
    );
    expect((await nextMessage('out')).payload).toEqual({ 'analog 2/5': 7.5 });
    expect((await roundTrip('read', {}, 'rout')).payload).toBe(7.5);
    await waitForStatus('read', (s) => s.text === 'connected');
  });

  test('the embedded simulator: a 64-channel module in slot 4', async () => {
    await load(
      [
        {
          id: 'scan',
          type: 'labwire-mmp-scan',
          device: 'dev',
          period: 20,
          points: [{ kind: 'analog-module', module: 4 }],
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ],
      { id: 'dev', type: 'labwire-mmp-device', simulate: true, maxBlockBytes: 4096 },
    );
    const msg: NodeMessage = await nextMessage('out').catch(async () => {
      throw new Error(`no scan; status ${JSON.stringify(statusOf('scan'))}`);
    });
    const values = Object.values(msg.payload as Record<string, number>);
    expect(values).toHaveLength(64);
    expect(values.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  });
});
