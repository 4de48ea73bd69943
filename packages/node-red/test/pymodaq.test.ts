// The PyMoDAQ nodes in the real Node-RED runtime: a flow as a remote actuator and detector of a
// PymodaqServer (every wire generation), and a flow driving instruments through the server node, with the
// simulated stage and camera on loopback.

import net from 'node:net';
import { PymodaqActuator, PymodaqServer, type PymodaqServerClient, SimulatedStage } from '@labwire/pymodaq';
import { GENERATIONS, type Position, resolveProfile } from '@labwire/pymodaq/codec';
import { sleep, waitFor } from '@labwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { NodeMessage } from '../src/red';
import {
  collect,
  coreNode,
  errorsOf,
  helper,
  labwireModules,
  nextMessage,
  node,
  onTab,
  roundTrip,
  statuses,
  statusOf,
  unprintableIn,
  waitForStatus,
} from './red';

let modules: Awaited<ReturnType<typeof labwireModules>>;
const catchNode = coreNode('common/25-catch.js');
const servers: PymodaqServer[] = [];

beforeAll(async () => {
  modules = await labwireModules();
  await helper.startServer();
});

afterEach(async () => {
  await helper.unload();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await helper.stopServer();
});

async function server(protocol: string, role: 'actuator' | 'detector' | 'both' = 'both') {
  const s = new PymodaqServer({ protocol, role, port: 0 });
  servers.push(s);
  const { port } = await s.listen();
  return { server: s, port };
}

function load(nodes: object[]) {
  return helper.load([modules.pymodaq, catchNode], onTab(nodes));
}

/** Answers every request the instrument node sends with `answer(request)` (a flow that echoes back). */
function answerRequests(
  requests: string,
  instrument: string,
  answer: (msg: NodeMessage) => unknown,
): NodeMessage[] {
  const seen: NodeMessage[] = [];
  node(requests).on('input', (msg: NodeMessage) => {
    seen.push(msg);
    if (msg._pymodaq !== undefined) node(instrument).receive({ ...msg, payload: answer(msg) });
  });
  return seen;
}

describe('a flow as a remote PyMoDAQ actuator', () => {
  test.each(GENERATIONS)(
    'generation %s: moves and position queries go through the flow',
    async (generation) => {
      const { server: s, port } = await server(generation, 'actuator');
      await load([
        {
          id: 'act',
          type: 'labwire-pymodaq-actuator',
          protocol: generation,
          host: '127.0.0.1',
          port,
          units: 'deg',
          positionQuery: 'last',
          initialPosition: 0,
          timeout: 10,
          answerTimeout: 10,
          wires: [['req']],
        },
        { id: 'req', type: 'helper' },
      ]);
      const requests = answerRequests('req', 'act', (msg) =>
        msg.topic === 'move_abs' ? (msg.payload as number) + 0.001 : undefined,
      );
      await s.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
      await waitForStatus('act', (st) => st.fill === 'green');
      expect(statusOf('act')?.text).toContain(`(${generation})`);

      const reached = await s.moveAbs(12.5);
      expect(reached.value).toBeCloseTo(12.501, 9);
      const moved = await s.moveRel(2); // the flow answers without a number: "reached the target"
      expect(moved.value).toBeCloseTo(14.501, 9);
      expect((await s.getActuatorValue()).value).toBeCloseTo(14.501, 9);
      expect(requests.map((r) => [r.topic, r.payload])).toEqual([
        ['move_abs', 12.5],
        ['move_rel', 2],
      ]);
      if (generation === 'C4' || generation === 'D') expect(requests[0]!.units).toBe('deg');

      // The flow tells where the stage is: position queries are answered with it.
      node('act').receive({ payload: -3 });
      await waitFor(async () => (await s.getActuatorValue()).value === -3);
    },
  );

  test('positions asked from the flow; stop_motion ends the running move', async () => {
    const { server: s, port } = await server('D', 'actuator');
    await load([
      {
        id: 'act',
        type: 'labwire-pymodaq-actuator',
        protocol: '5.0',
        port,
        host: '127.0.0.1',
        positionQuery: 'flow',
        answerTimeout: 10,
        wires: [['req']],
      },
      { id: 'req', type: 'helper' },
    ]);
    const seen: NodeMessage[] = [];
    node('req').on('input', (msg: NodeMessage) => {
      seen.push(msg);
      if (msg.topic === 'get_actuator_value') node('act').receive({ ...msg, payload: 42 });
      // move_abs is left unanswered: the stage is "still moving".
    });
    await s.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
    expect((await s.getActuatorValue()).value).toBe(42);

    const move = s.moveAbs(100);
    await waitFor(() => seen.some((m) => m.topic === 'move_abs'));
    await s.stopMotion();
    const position: Position = await move; // move_done comes although the flow never answered
    expect(position.value).toBe(42);
    await waitFor(() => seen.some((m) => m.topic === 'stop_motion'));
  });

  test('an unanswered move is reported to Catch with its request; PyMoDAQ still gets move_done', async () => {
    const { server: s, port } = await server('C4', 'actuator');
    await load([
      {
        id: 'act',
        type: 'labwire-pymodaq-actuator',
        protocol: 'C4',
        port,
        host: '127.0.0.1',
        initialPosition: 7,
        answerTimeout: 0.2,
        wires: [['req']],
      },
      { id: 'req', type: 'helper' },
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await s.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
    const caught = nextMessage('caught');
    const position = await s.moveAbs(1);
    expect(position.value).toBe(7);
    const msg = await caught;
    expect(msg.topic).toBe('move_abs');
    expect(msg.payload).toBe(1);
    expect((msg.error as { message: string }).message).toMatch(/did not answer move_abs/);
    // A late answer is dropped with a warning, never taken for the next request.
    node('act').receive({ ...msg, payload: 1 });
  });

  test('reconnects when the server comes later, and after it restarts', async () => {
    const probe = new PymodaqServer({ protocol: 'D', port: 0 });
    const { port } = await probe.listen();
    await probe.close();
    await load([
      { id: 'act', type: 'labwire-pymodaq-actuator', protocol: 'D', port, host: '127.0.0.1', wires: [[]] },
    ]);
    await waitForStatus('act', (st) => st.fill === 'yellow');
    const s = new PymodaqServer({ protocol: 'D', port });
    servers.push(s);
    await s.listen();
    await waitForStatus('act', (st) => st.fill === 'green', 15_000);
    await s.close();
    await waitForStatus('act', (st) => st.fill === 'yellow');
    const again = new PymodaqServer({ protocol: 'D', port });
    servers.push(again);
    await again.listen();
    await waitForStatus('act', (st) => st.fill === 'green', 15_000);
    await again.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
    expect(again.clients.map((c) => c.type)).toEqual(['ACTUATOR']);
  });
});

describe('a flow as a remote PyMoDAQ detector', () => {
  test.each(['B', 'C4', 'D'])(
    'generation %s: grabs answered by the flow, data pushed unasked',
    async (generation) => {
      const { server: s, port } = await server(generation, 'detector');
      await load([
        {
          id: 'det',
          type: 'labwire-pymodaq-detector',
          name: 'spectrometer',
          protocol: generation,
          port,
          host: '127.0.0.1',
          answerTimeout: 10,
          wires: [['req']],
        },
        { id: 'req', type: 'helper' },
      ]);
      answerRequests('req', 'det', (msg) =>
        msg.payload === '1D'
          ? [1, 2, 3]
          : msg.payload === '2D'
            ? [
                [1, 2],
                [3, 4],
              ]
            : [0.5, 1.5],
      );
      await s.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const one = await s.grab('1D');
      expect(one.data[0]!.data[0]!.toNumbers()).toEqual([1, 2, 3]);
      const two = await s.grab('2D');
      expect(two.data[0]!.data[0]!.shape).toEqual([2, 2]);
      expect(two.data[0]!.data[0]!.toNumbers()).toEqual([1, 2, 3, 4]);
      const zero = await s.grab('0D'); // two numbers: two 0D channels (gen A/B: one DataFromPlugins each)
      expect(zero.data.flatMap((d) => d.data.map((a) => a.toNumbers()))).toEqual([[0.5], [1.5]]);

      const pushed = new Promise<{ solicited: boolean; values: number[] }>((resolve) =>
        s.once('data', (e) =>
          resolve({ solicited: e.solicited, values: e.data.data[0]!.data[0]!.toNumbers() }),
        ),
      );
      node('det').receive({ payload: [9, 8] });
      expect(await pushed).toEqual({ solicited: false, values: [9, 8] });
    },
  );

  test('data the flow cannot give is reported with its message', async () => {
    const { server: s, port } = await server('D', 'detector');
    await load([
      { id: 'det', type: 'labwire-pymodaq-detector', protocol: 'D', port, host: '127.0.0.1', wires: [[]] },
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await s.waitForClient('GRABBER', { timeoutMs: 10_000 });
    const caught = await roundTrip('det', { payload: [[1, 2], [3]], topic: 'bad' }, 'caught');
    expect(caught.topic).toBe('bad');
    expect((caught.error as { message: string }).message).toMatch(/row 1 does not have 2 values/);
  });
});

describe('driving instruments through the server node', () => {
  test('the simulated stage and camera: move, query, grab, stop', async () => {
    await load([
      {
        id: 'srv',
        type: 'labwire-pymodaq-server',
        protocol: '4.4.5',
        role: 'both',
        host: '127.0.0.1',
        port: 0,
        simulateStage: true,
        simulateCamera: true,
        units: 'mm',
      },
      {
        id: 'cmd',
        type: 'labwire-pymodaq-command',
        server: 'srv',
        command: 'topic',
        dim: '',
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ]);
    await waitForStatus('cmd', (st) => st.text?.includes('1 act. 1 det.') === true);
    expect(statusOf('cmd')).toMatchObject({ fill: 'green', shape: 'dot' });
    const moved = await roundTrip('cmd', { topic: 'move_abs', payload: 1.5 }, 'out');
    expect(moved).toMatchObject({ topic: 'move_abs', payload: 1.5, units: 'mm' });
    const rel = await roundTrip('cmd', { topic: 'move_rel', payload: -0.5 }, 'out');
    expect(rel.payload).toBe(1);
    expect((await roundTrip('cmd', { topic: 'get_actuator_value' }, 'out')).payload).toBe(1);

    const grabbed = await roundTrip('cmd', { topic: 'grab', dim: '2D' }, 'out');
    const data = grabbed.payload as { data: { dim: string; data: number[][][] }[] };
    expect(data.data[0]!.dim).toBe('Data2D');
    expect(data.data[0]!.data[0]).toHaveLength(24);
    expect(data.data[0]!.data[0]![0]).toHaveLength(32);
    const zero = await roundTrip('cmd', { topic: 'grab', dim: '0D' }, 'out');
    expect(typeof (zero.payload as { data: { data: unknown[] }[] }).data[0]!.data[0]).toBe('number');

    // A long move, stopped half way: it ends short of its target.
    const got = collect('out');
    node('cmd').receive({ topic: 'move_abs', payload: 100 });
    await sleep(100);
    node('cmd').receive({ topic: 'stop_motion' });
    const stopped = await waitFor(() => got.find((m) => m.topic === 'move_abs'));
    expect(got.map((m) => m.topic)).toEqual(['stop_motion', 'move_abs']);
    expect(stopped.payload as number).toBeGreaterThan(1);
    expect(stopped.payload as number).toBeLessThan(100);
  });

  test('an instrument of our own connects to the server node; errors go to Catch', async () => {
    await load([
      {
        id: 'srv',
        type: 'labwire-pymodaq-server',
        protocol: 'D',
        role: 'actuator',
        host: '127.0.0.1',
        port: 0,
      },
      {
        id: 'cmd',
        type: 'labwire-pymodaq-command',
        server: 'srv',
        command: 'move_abs',
        timeout: 5,
        wires: [['out']],
      },
      {
        id: 'grab',
        type: 'labwire-pymodaq-command',
        server: 'srv',
        command: 'grab',
        dim: '1D',
        wires: [['out']],
      },
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      { id: 'out', type: 'helper' },
    ]);
    await waitForStatus('cmd', (st) => st.text?.includes('no instrument') === true);
    // Nobody connected yet.
    const none = await roundTrip('cmd', { payload: 1, topic: 'first' }, 'caught');
    expect(none.topic).toBe('first');
    expect((none.error as { message: string }).message).toMatch(/no .*ACTUATOR|actuator/i);

    const address = (node('srv') as unknown as { handle: { state: { address: { port: number } } } }).handle
      .state.address;
    const stage = new SimulatedStage({ speed: 1000, units: 'um' });
    const actuator = new PymodaqActuator({
      protocol: 'D',
      port: address.port,
      units: 'um',
      handlers: stage.handlers(),
    });
    try {
      await actuator.connect();
      await waitForStatus('cmd', (st) => st.fill === 'green');
      expect((await roundTrip('cmd', { payload: '2' }, 'out')).payload).toBe(2);
      const clients: PymodaqServerClient[] = (node('srv') as unknown as { handle: { server: PymodaqServer } })
        .handle.server.clients;
      expect(clients.map((c) => c.units)).toEqual(['um']);
      // A detector command to an actuator-only server: refused, reported with the message.
      const refused = await roundTrip('grab', { topic: 'g' }, 'caught');
      expect(refused.topic).toBe('g');
      // A target that is not a number.
      const bad = await roundTrip('cmd', { payload: 'far' }, 'caught');
      expect((bad.error as { message: string }).message).toMatch(/expected a number/);
    } finally {
      await actuator.close();
    }
  });

  test('a port already taken: the server node says so', async () => {
    const { port } = await server('D');
    await load([
      { id: 'srv', type: 'labwire-pymodaq-server', protocol: 'D', host: '127.0.0.1', port },
      { id: 'cmd', type: 'labwire-pymodaq-command', server: 'srv', command: 'move_home', wires: [[]] },
    ]);
    const st = await waitForStatus('cmd', (x) => x.fill === 'red');
    expect(st.text).toMatch(/EADDRINUSE|in use/i);
  });
});

describe('settings and hostile peers', () => {
  test('settings refused at deploy name the field', async () => {
    await load([
      {
        id: 'gen',
        type: 'labwire-pymodaq-actuator',
        protocol: 'E',
        host: '127.0.0.1',
        port: 6341,
        wires: [[]],
      },
      {
        id: 'port',
        type: 'labwire-pymodaq-detector',
        protocol: 'D',
        host: '127.0.0.1',
        port: 70_000,
        wires: [[]],
      },
      { id: 'srv', type: 'labwire-pymodaq-server', protocol: 'D', role: 'viewer', port: 0 },
      { id: 'cmd', type: 'labwire-pymodaq-command', server: 'srv', command: 'grab', wires: [[]] },
      { id: 'orphan', type: 'labwire-pymodaq-command', server: '', command: 'grab', wires: [[]] },
    ]);
    expect(statusOf('gen')).toMatchObject({ fill: 'red', shape: 'ring' });
    expect(errorsOf('gen').map(([e]) => String(e))).toEqual([expect.stringMatching(/^settings: .*\bE\b/)]);
    expect(errorsOf('port').map(([e]) => String(e))).toEqual([
      'settings: port: must be at most 65535, got 70000',
    ]);
    expect(errorsOf('srv').map(([e]) => String(e))).toEqual([
      'settings: role: expected one of both, actuator, detector, got "viewer"',
    ]);
    expect(statusOf('cmd')?.text).toMatch(/^error server: role: expected one of/);
    expect(errorsOf('orphan').map(([e]) => String(e))).toEqual([
      expect.stringMatching(/no server configured/),
    ]);
  });

  test('a peer sending an unknown command with control characters: escaped in status and log, link dropped', async () => {
    // A hostile "server" speaking generation C4: after the client's hello it sends a command name with
    // ESC sequences, a C1 control and a right-to-left override.
    const profile = resolveProfile('C4');
    const evil = '\x1b[2J\x85evil\u202eexe.txt';
    const sockets = new Set<net.Socket>();
    const hostile = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write(profile.encodeCommand(evil)));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const port = (hostile.address() as net.AddressInfo).port;
    try {
      await load([
        { id: 'act', type: 'labwire-pymodaq-actuator', protocol: 'C4', host: '127.0.0.1', port, wires: [[]] },
      ]);
      const errors = await waitFor(() => {
        const e = errorsOf('act').map(([x]) => String(x));
        return e.length > 0 ? e : undefined;
      });
      expect(errors[0]).toMatch(/^PyMoDAQ link: unknown PyMoDAQ command/);
      expect(errors[0]).toContain('\\u202e');
      for (const text of [...errors, ...statuses('act').map((st) => st.text ?? '')]) {
        expect(unprintableIn(text)).toEqual([]);
      }
      const down = await waitForStatus(
        'act',
        (st) => st.fill === 'yellow' && /unknown|command/.test(st.text ?? ''),
      );
      expect(down.text!.length).toBeLessThanOrEqual(90);
    } finally {
      await helper.unload();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
    }
  });
});
