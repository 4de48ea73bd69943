// The cmd_tcp nodes in the real Node-RED runtime against the bus's InstrumentSim on loopback.

import { InstrumentSim } from '@labwire/bus/simulator';
import { waitFor } from '@labwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { NodeMessage } from '../src/red';
import {
  collect,
  coreNode,
  errorsOf,
  helper,
  labwireModules,
  node,
  onTab,
  roundTrip,
  statusOf,
  unprintableIn,
  waitForStatus,
} from './red';

let sim: InstrumentSim;
let modules: Awaited<ReturnType<typeof labwireModules>>;
const catchNode = coreNode('common/25-catch.js');

beforeAll(async () => {
  modules = await labwireModules();
  sim = await InstrumentSim.start({ serial: 'NR-0001' });
  await helper.startServer();
});

afterEach(async () => {
  await helper.unload();
});

afterAll(async () => {
  await helper.stopServer();
  await sim.close();
});

function call(id: string, op: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    type: 'labwire-cmdtcp',
    link: 'link',
    op,
    data: '',
    eot: '',
    count: '',
    timeout: '',
    wires: [['out']],
    ...extra,
  };
}

function load(nodes: object[], conf = sim.confString(',timeout=2'), simulate = false) {
  return helper.load(
    [modules.cmdTcp, catchNode],
    onTab([
      { id: 'link', type: 'labwire-cmdtcp-link', conf, simulate },
      ...nodes,
      { id: 'out', type: 'helper' },
    ]),
  );
}

describe('cmd_tcp calls', () => {
  test('wrnrd_until, write, read_until, wrnrd, expect and the hex forms', async () => {
    await load([
      call('idn', 'wrnrd_until', { data: '*IDN?\\n', eot: '\\n' }),
      call('query', 'wrnrd_until', { eot: '\\r\\n,\\n' }),
      call('write', 'write'),
      call('readline', 'read_until', { eot: '\\n' }),
      call('wrnrd', 'wrnrd', { count: 2 }),
      call('hex', 'wrnrd_until', { hex: true, eot: '\\n' }),
      call('expect', 'expect', { data: '> ' }),
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await waitForStatus('idn', (s) => s.fill === 'green');
    expect(statusOf('idn')?.text).toBe(`connected 127.0.0.1,${sim.port}`);

    expect((await roundTrip('idn', { payload: 'ignored' }, 'out')).payload).toBe(
      'LABWIRE,TCPBUS-SIM,NR-0001,1.0',
    );
    const written = await roundTrip('write', { payload: 'VOLT 1.5\\n' }, 'out');
    expect(written.payload).toBe('VOLT 1.5\\n');
    expect((await roundTrip('query', { payload: 'VOLT?\n' }, 'out')).payload).toBe('1.500000E+00');

    // Two queries in the same turn: each gets its own answer, in order (wrnrd is atomic).
    const got = collect('out');
    node('query').receive({ payload: '*OPC?\\n', topic: 'a' });
    node('query').receive({ payload: 'VOLT?\\n', topic: 'b' });
    await waitFor(() => got.length === 2);
    expect(got.map((m) => [m.topic, m.payload])).toEqual([
      ['a', '1'],
      ['b', '1.500000E+00'],
    ]);

    await roundTrip('write', { payload: '*OPC?\\n' }, 'out');
    expect((await roundTrip('readline', {}, 'out')).payload).toBe('1');
    expect((await roundTrip('wrnrd', { payload: '*OPC?\\n' }, 'out')).payload).toBe('1'); // "1\n": LF stripped

    // *IDN?\n in hex, the answer in hex.
    const hex = await roundTrip('hex', { payload: '2a49444e3f0a' }, 'out');
    expect(Buffer.from(hex.payload as string, 'hex').toString()).toBe('LABWIRE,TCPBUS-SIM,NR-0001,1.0');

    // With the prompt on, the simulator prints "> " after each command: expect waits for it.
    await roundTrip('write', { payload: 'PROMPT ON\\n' }, 'out');
    expect(((await roundTrip('expect', {}, 'out')).payload as Buffer).toString('latin1')).toBe('> ');
    await roundTrip('write', { payload: '*OPC?\\n' }, 'out');
    const consumed = await roundTrip('expect', {}, 'out');
    expect(Buffer.isBuffer(consumed.payload)).toBe(true);
    expect((consumed.payload as Buffer).toString('latin1')).toBe('1\n> ');
  });

  test('a query with no answer times out: Catch gets the message, the next query gets its own answer', async () => {
    await load([
      call('q', 'wrnrd_until', { eot: '\\n', timeout: 0.2 }),
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await waitForStatus('q', (s) => s.fill === 'green');
    // A set command answers nothing.
    const caught = await roundTrip('q', { payload: 'VOLT 2\\n', topic: 'silent' }, 'caught');
    expect(caught.topic).toBe('silent');
    expect((caught.error as { message: string }).message).toMatch(/not responding|timed out/);
    expect(statusOf('q')).toMatchObject({ fill: 'red' });
    expect((await roundTrip('q', { payload: 'VOLT?\\n' }, 'out')).payload).toBe('2.000000E+00');
    expect(statusOf('q')).toMatchObject({ fill: 'green' });
  });

  test('a bad conf_string: cmd_tcp says why, at deploy', async () => {
    await load([call('q', 'wrnrd_until', { eot: '\\n' })], 'tcp(host=127.0.0.1,port=70000)');
    expect(statusOf('q')).toMatchObject({ fill: 'red', shape: 'ring' });
    expect(statusOf('q')?.text).toMatch(/Invalid destination port: 70000/);
    expect(errorsOf('link').map(([e]) => String(e))).toEqual([
      expect.stringMatching(/Invalid destination port/),
    ]);
  });

  test('the peer goes away: calls fail at once with the reason, the link comes back by itself', async () => {
    const own = await InstrumentSim.start();
    const port = own.port;
    await load(
      [
        call('q', 'wrnrd_until', { data: '*OPC?\\n', eot: '\\n' }),
        { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ],
      own.confString(',timeout=1'),
    );
    await waitForStatus('q', (s) => s.fill === 'green');
    expect((await roundTrip('q', {}, 'out')).payload).toBe('1');
    await own.close();
    const down = await waitForStatus('q', (s) => s.fill === 'yellow');
    expect(down.text).toMatch(/^reconnecting/);
    const caught = await roundTrip('q', { topic: 'while down' }, 'caught');
    expect((caught.error as { message: string }).message).toMatch(
      /^LinkDownError: link tcp\(.*\) is down \(next try in \d+ ms\)/,
    );
    const back = await InstrumentSim.start({ port });
    try {
      await waitForStatus('q', (s) => s.fill === 'green', 15_000);
      expect((await roundTrip('q', {}, 'out')).payload).toBe('1');
    } finally {
      await helper.unload();
      await back.close();
    }
  });

  test('the embedded simulator', async () => {
    await load([call('idn', 'wrnrd_until', { data: '*IDN?\\n', eot: '\\n' })], 'tcp(timeout=2)', true);
    await waitForStatus('idn', (s) => s.fill === 'green');
    expect((await roundTrip('idn', {}, 'out')).payload).toMatch(/^LABWIRE,TCPBUS-SIM,/);
  });
});

describe('settings and bad input', () => {
  test('settings refused at deploy name the field; a node without a link says so', async () => {
    await load([
      call('op', 'send'),
      call('timeout', 'wrnrd', { count: 2, timeout: 'soon' }),
      { ...call('orphan', 'write'), link: '' },
    ]);
    expect(statusOf('op')).toMatchObject({ fill: 'red', shape: 'ring' });
    expect(statusOf('op')?.text).toMatch(/^error settings: operation: expected one of write, read, /);
    expect(errorsOf('op').map(([e]) => String(e))).toEqual([
      'settings: operation: expected one of write, read, read_until, wrnrd, wrnrd_until, expect, got "send"',
    ]);
    expect(statusOf('timeout')?.text).toMatch(/^error settings: timeout: expected a number, got "soon"$/);
    expect(errorsOf('timeout').map(([e]) => String(e))).toEqual([
      'settings: timeout: expected a number, got "soon"',
    ]);
    expect(statusOf('orphan')?.text).toMatch(/no link configured/);
    expect(errorsOf('orphan').map(([e]) => String(e))).toEqual([expect.stringMatching(/no link configured/)]);
  });

  test('a message without what the call needs: Catch gets it with the reason, nothing is sent', async () => {
    await load([
      call('read', 'read'),
      call('until', 'read_until'),
      call('write', 'write'),
      call('hexwrite', 'write', { hex: true }),
      call('idn', 'wrnrd_until', { data: '*IDN?\\n', eot: '\\n' }),
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await waitForStatus('read', (s) => s.fill === 'green');
    const cases: [string, NodeMessage, RegExp][] = [
      ['read', { topic: 'no count' }, /bytes: required/],
      ['read', { topic: 'bad count', count: -3 }, /bytes: must be at least 0, got -3/],
      ['until', { topic: 'no eot' }, /eot: required/],
      ['write', { topic: 'object', payload: { a: 1 } }, /payload: expected text or a Buffer/],
      ['hexwrite', { topic: 'odd hex', payload: 'abc' }, /hex|odd|Invalid/i],
    ];
    for (const [id, msg, reason] of cases) {
      const caught = await roundTrip(id, msg, 'caught');
      expect(caught.topic).toBe(msg.topic);
      expect((caught.error as { message: string }).message).toMatch(reason);
      expect((caught.error as { source: { id: string } }).source.id).toBe(id);
    }
    // The link is in step after all that: the next query gets its own answer.
    expect((await roundTrip('idn', {}, 'out')).payload).toBe('LABWIRE,TCPBUS-SIM,NR-0001,1.0');
  });

  test('bytes from the instrument in an error are shown as hex, never printed raw', async () => {
    await load([
      call('write', 'write'),
      call('until', 'read_until', { eot: 'Z', timeout: 0.3 }),
      { id: 'catch', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    await waitForStatus('until', (s) => s.fill === 'green');
    // ESC [ 2 J (clear screen), a right-to-left override, BEL: the instrument echoes them back.
    await roundTrip('write', { payload: 'ECHO \x1b[2J\u202eabc\x07\n' }, 'out');
    const caught = await roundTrip('until', {}, 'caught');
    const message = (caught.error as { message: string }).message;
    expect(message).toMatch(
      /timed out after 300 ms; \d+ byte\(s\) buffered and kept for the next read: 1b 5b 32 4a e2 80 ae/,
    );
    const text = statusOf('until')?.text ?? '';
    expect(text).toMatch(/^error: /);
    expect(text.length).toBeLessThanOrEqual(90);
    expect(unprintableIn(text)).toEqual([]);
  });
});
