// `mmp scan`, `mmp probe` and `mmp --udp` against simulated devices on loopback: in-process through
// runMmp (output captured, a terminal simulated), and the built program (dist/main.js) for what only a
// real process shows (Ctrl-C, exit status, pipes).

import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { float32Shortest } from '@labwire/cli-kit';
import { builtMain, runApp, startApp } from '@labwire/cli-kit/testing';
import { decodePacket } from '@labwire/optommp/codec';
import { EpicDevice, EpicSimulator, SimulatedFleet } from '@labwire/optommp/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMmp } from '../src/cli';

const appDir = path.resolve(import.meta.dirname, '..');
const noStack = /\n\s+at /;

function capture(tty?: { columns: number; rows: number }) {
  const chunks: string[] = [];
  return {
    isTTY: tty !== undefined,
    columns: tty?.columns,
    rows: tty?.rows,
    write: (s: string) => chunks.push(s),
    text: () => chunks.join(''),
  };
}

async function mmp(
  argv: string[],
  options: { tty?: { columns: number; rows: number }; signal?: AbortSignal } = {},
) {
  const stdout = capture(options.tty);
  const stderr = capture();
  const code = await runMmp(argv, { stdout, stderr, signal: options.signal, env: {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** What a terminal shows of a line: without the cursor and erase sequences the table uses. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to remove them
const plain = (line: string) => line.replace(/\x1b\[(\d+A|2K|2J|J|H)/g, '').replace(/\r/g, '');

let fleet: SimulatedFleet;
let dir: string;
/** A port where nothing listens. */
let deadPort: number;

beforeAll(async () => {
  fleet = await SimulatedFleet.start({ count: 3 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mmp-scan-'));
  const gone = await EpicSimulator.start();
  deadPort = gone.port;
  await gone.close();
});
afterAll(async () => {
  await fleet.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const at = path.join(dir, name);
  await fs.writeFile(at, text);
  return at;
}

/** Two live devices (two groups on the first), and one where nothing listens. */
function fleetYaml(extra = ''): string {
  return `
defaults: { timeoutMs: 1000, connectTimeoutMs: 1000 }
devices:
  - name: epic-0
    host: 127.0.0.1
    port: ${fleet.ports[0]}
    groups:
      - name: fast
        periodMs: 20
        points:
          - { kind: analog, module: 2, channel: 0, name: pressure }
          - { kind: digital, module: 0, channel: 1 }
          - { kind: int32, index: 3 }
      - name: slow
        periodMs: 60
        points: [{ kind: uptime }]
  - name: epic-1
    host: 127.0.0.1
    port: ${fleet.ports[1]}
    groups:
      - { name: module, periodMs: 20, points: [{ kind: analog-module, module: 2, channels: 4 }] }
${extra}`;
}

const deadDevice = () => `
  - name: dead
    host: 127.0.0.1
    port: ${deadPort}
    groups:
      - { name: g, periodMs: 20, points: [{ kind: uptime }] }
`;

interface Line {
  type: string;
  device?: string;
  group?: string;
  sequence?: number;
  values?: Record<string, unknown>;
  state?: string;
  cause?: { code?: string; message: string };
  devices?: Record<string, { scans: number; groups: Record<string, { scans: number }> }>;
  scans?: number;
}

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

describe('mmp scan: JSON lines', () => {
  it('--count: each group reports its first n scans, float32 at float32 precision; statistics last; exit 1 names the device that never answered', async () => {
    const at = await file('fleet.yaml', fleetYaml(deadDevice()));
    const r = await mmp(['scan', at, '--count', '3']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^mmp: ScanIncomplete: 1 of 3 device\(s\) never delivered a scan: dead \(.*refused/,
    );
    expect(r.stderr).not.toMatch(noStack);
    const out = lines(r.stdout);
    const sequences = (device: string, group: string) =>
      out
        .filter((l) => l.type === 'values' && l.device === device && l.group === group)
        .map((l) => l.sequence);
    // Slots 0, 1 and 2 of every group, each reported once (a slot missed on a busy machine is not).
    for (const [device, group] of [
      ['epic-0', 'fast'],
      ['epic-0', 'slow'],
      ['epic-1', 'module'],
    ] as const) {
      const seen = sequences(device, group);
      expect(seen.length, `${device}/${group}`).toBeGreaterThanOrEqual(1);
      expect(seen).toEqual([...new Set(seen)].sort());
      for (const k of seen) expect([0, 1, 2]).toContain(k);
    }
    const first = out.find((l) => l.type === 'values' && l.group === 'fast')!;
    expect(Object.keys(first.values!)).toEqual(['pressure', 'digital 0/1', 'int32[3]']);
    expect(typeof first.values!['digital 0/1']).toBe('boolean');
    // A float32 shown as the shortest decimal that is the same float32 (never 17 digits).
    const pressure = first.values!.pressure as number;
    expect(float32Shortest(pressure)).toBe(pressure);
    expect(Math.fround(pressure)).not.toBe(pressure); // the float64 widening would print more digits
    expect(Object.keys(out.find((l) => l.group === 'module')!.values!)).toEqual([
      'analog 2/0',
      'analog 2/1',
      'analog 2/2',
      'analog 2/3',
    ]);
    // The device that never answered is heard of, with its typed cause.
    const dead = out.find((l) => l.type === 'health' && l.device === 'dead')!;
    expect(dead).toMatchObject({ state: 'reconnecting', cause: { code: 'ConnectRefused' } });
    const stats = out.at(-1)!;
    expect(stats.type).toBe('stats');
    // Times to the µs, not to the last bit of a float64.
    expect(r.stdout.trim().split('\n').at(-1)).not.toMatch(/\d\.\d{4,}/);
    // Every group went through its three slots before the run stopped.
    for (const d of ['epic-0', 'epic-1']) {
      for (const g of Object.values(stats.devices![d]!.groups) as Record<string, number>[]) {
        expect(g.scans! + g.missed! + g.failed! + g.skipped!).toBeGreaterThanOrEqual(3);
      }
    }
    expect(stats.devices!.dead!.scans).toBe(0);
    // --json: the same lines, and the failure as a JSON error on stderr.
    const j = await mmp(['--json', 'scan', at, '--count', '1']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { kind: 'failure', code: 'ScanIncomplete' } });
    expect(JSON.parse(j.stderr).error.message).toContain('dead (');
    expect(lines(j.stdout).at(-1)!.type).toBe('stats');
  });

  it('every device answering: exit 0; --json gives JSON lines on a terminal too; --duration stops it', async () => {
    const at = await file(
      'fleet.json',
      JSON.stringify({
        devices: [
          {
            name: 'only',
            host: '127.0.0.1',
            port: fleet.ports[2],
            groups: [{ name: 'g', periodMs: 10, points: [{ kind: 'uptime' }] }],
          },
        ],
      }),
    );
    const r = await mmp(['--json', 'scan', at, '--count', '3'], { tty: { columns: 80, rows: 24 } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = lines(r.stdout);
    const seen = out.filter((l) => l.type === 'values').map((l) => l.sequence!);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(out.at(-1)).toMatchObject({ type: 'stats', devices: { only: { failed: 0 } } });
    const d = await mmp(['scan', at, '--duration', '200']);
    expect(d.code, d.stderr).toBe(0);
    expect(lines(d.stdout).at(-1)!.type).toBe('stats');
  });

  it('stops when the signal aborts (Ctrl-C in main.ts) and still prints the statistics', async () => {
    const at = await file('abort.yaml', fleetYaml());
    const ac = new AbortController();
    const stdout = {
      isTTY: false,
      chunks: [] as string[],
      write(s: string) {
        this.chunks.push(s);
        if (s.includes('"type":"values"')) ac.abort();
      },
    };
    const code = await runMmp(['scan', at], { stdout, stderr: capture(), signal: ac.signal, env: {} });
    expect(code).toBe(0);
    expect(lines(stdout.chunks.join('')).at(-1)!.type).toBe('stats');
  });
});

describe('mmp scan: faults show in the health lines and the statistics', () => {
  /** `killed` answers one request at a time; `dropper` gets three pipelined requests a scan and drops all but the first. */
  const faultFleet = (ports: readonly number[]) => `
defaults: { timeoutMs: 300, connectTimeoutMs: 1000 }
devices:
  - name: killed
    host: 127.0.0.1
    port: ${ports[0]}
    groups: [{ name: g, periodMs: 40, points: [{ kind: uptime }] }]
  - name: dropper
    host: 127.0.0.1
    port: ${ports[1]}
    window: 4
    groups:
      - name: g
        periodMs: 40
        # Three blocks a scan: the status area, module 2's analog points, the scratch pad.
        points: [{ kind: uptime }, { kind: analog, module: 2, channel: 0 }, { kind: int32, index: 3 }]
`;

  it('JSON lines: a device killed and restarted goes reconnecting, then ok; a device that drops pipelined requests falls back to window 1 and scans', async () => {
    await using faulty = await SimulatedFleet.start({
      count: 2,
      // The dropper's answers take 20 ms: a scan's later requests always arrive while the first waits.
      perDevice: (i) => (i === 1 ? { pipelining: 'first-only', latencyMs: 20 } : {}),
    });
    const at = await file('faults.yaml', faultFleet(faulty.ports));
    const ac = new AbortController();
    const chunks: string[] = [];
    const seen: string[] = [];
    let restarting: Promise<unknown> | undefined;
    const stdout = {
      isTTY: false,
      write(t: string) {
        chunks.push(t);
        const l = JSON.parse(t) as Line;
        if (l.type !== 'health') return;
        seen.push(`${l.device} ${l.state}`);
        // Killed once it answered; started again once the scanner noticed.
        if (l.device === 'killed' && l.state === 'ok' && restarting === undefined) {
          restarting = faulty.stop(0);
        } else if (l.device === 'killed' && l.state === 'reconnecting' && restarting !== undefined) {
          restarting = restarting.then(() => faulty.start(0));
        }
        const okAgain = seen.filter((x) => x === 'killed ok').length >= 2;
        if (okAgain && seen.includes('dropper ok')) ac.abort();
      },
    };
    const code = await runMmp(['scan', at], { stdout, stderr: capture(), signal: ac.signal, env: {} });
    await restarting;
    expect(code, seen.join(', ')).toBe(0);
    const out = lines(chunks.join(''));
    const killed = out.filter((l) => l.type === 'health' && l.device === 'killed');
    expect(killed.map((l) => l.state)).toEqual(expect.arrayContaining(['ok', 'reconnecting']));
    expect(killed.at(-1)!.state).toBe('ok');
    const down = killed.find((l) => l.state === 'reconnecting' && l.cause !== undefined)!;
    // A connection error (lost, reset, refused while it was down), not a timeout or a NAK.
    expect(down.cause!.code).toMatch(/^(ConnectRefused|ConnectFailed|ConnectionLost|Reset|Closed|Eof)$/);
    // The dropper: first a scan that timed out (pipelined requests never answered), then ok at window 1.
    const dropper = out.filter((l) => l.type === 'health' && l.device === 'dropper');
    expect(dropper.some((l) => l.cause?.code === 'Timeout')).toBe(true);
    expect(dropper.at(-1)!.state).toBe('ok');
    const stats = out.at(-1) as Line & {
      devices: Record<
        string,
        { windowFallbacks: number; failed: number; scans: number; health: { window: number } }
      >;
    };
    expect(stats.type).toBe('stats');
    expect(stats.devices.dropper).toMatchObject({ windowFallbacks: 1, health: { window: 1 } });
    expect(stats.devices.dropper!.failed).toBeGreaterThan(0);
    expect(stats.devices.dropper!.scans).toBeGreaterThan(0);
    expect(stats.devices.killed!.failed).toBeGreaterThan(0);
    expect(stats.devices.killed!.windowFallbacks).toBe(0);
  });

  it('on a terminal: the statistics say that pipelining was given up on the device', async () => {
    await using faulty = await SimulatedFleet.start({
      count: 2,
      // The dropper's answers take 20 ms: a scan's later requests always arrive while the first waits.
      perDevice: (i) => (i === 1 ? { pipelining: 'first-only', latencyMs: 20 } : {}),
    });
    const at = await file('faults-tty.yaml', faultFleet(faulty.ports));
    const ac = new AbortController();
    const chunks: string[] = [];
    const stdout = {
      isTTY: true,
      columns: 100,
      rows: 20,
      write(t: string) {
        chunks.push(t);
        if (/\ndropper +ok /.test(plain(t))) ac.abort();
      },
    };
    const code = await runMmp(['scan', at], { stdout, stderr: capture(), signal: ac.signal, env: {} });
    expect(code).toBe(0);
    const text = chunks.join('');
    const after = plain(text.slice(text.lastIndexOf('\x1b[J') + 3));
    expect(after).toMatch(/\ndropper: one request at a time now \(pipelined requests failed\)/);
    expect(after).not.toMatch(/\nkilled: /);
  });
});

describe('mmp scan: a reader that falls behind or goes away', () => {
  it('lines beyond 8 MiB unread are dropped and counted; the statistics are still written', async () => {
    const at = await file('slow.yaml', fleetYaml());
    const chunks: string[] = [];
    // A pipe whose reader stopped reading: node's stream reports the bytes it holds.
    const stdout = { isTTY: false, writableLength: 9 * 1024 * 1024, write: (t: string) => chunks.push(t) };
    const code = await runMmp(['scan', at, '--count', '2'], { stdout, stderr: capture(), env: {} });
    expect(code).toBe(0);
    const out = lines(chunks.join(''));
    expect(out).toHaveLength(1);
    expect(out[0]!.type).toBe('stats');
    expect((out[0] as { linesDropped?: number }).linesDropped).toBeGreaterThanOrEqual(3);
  });
});

describe('mmp scan: a live table on a terminal', () => {
  it('fits the width and the height, redraws in place, escapes names, shows devices that are not ok first, then the statistics', async () => {
    const many = Array.from(
      { length: 8 },
      (_, i) => `
  - name: "extra-${i}"
    host: 127.0.0.1
    port: ${fleet.ports[2]}
    groups: [{ name: g, periodMs: 20, points: [{ kind: analog-module, module: 2, channels: 24 }] }]`,
    ).join('');
    const evil = `
  - name: "evil\\x1b[31m\\u202e"
    host: 127.0.0.1
    port: ${fleet.ports[2]}
    groups: [{ name: g, periodMs: 20, points: [{ kind: uptime, name: "up\\x1b]0;owned\\x07" }] }]`;
    const at = await file('table.yaml', fleetYaml(deadDevice() + evil + many));
    for (const [columns, rows] of [
      [100, 10],
      [60, 8],
    ] as const) {
      const r = await mmp(['scan', at, '--duration', '700'], { tty: { columns, rows } });
      expect(r.code).toBe(1); // the dead device
      const text = r.stdout;
      // Drawn more than once, each time over the previous table (cursor up), line by line.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the cursor-up sequence is the point
      expect(text).toMatch(/\x1b\[\d+A/);
      expect(text).toContain('\x1b[2K');
      // Nothing from the file or the network acts on the terminal: only our own sequences remain.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no raw control character may remain
      expect(plain(text)).not.toMatch(/[\x00-\x09\x0b-\x1f\u202e]/);
      expect(text).toContain('evil\\x1b[31m\\u{202e}');
      for (const line of text.split('\n')) expect(plain(line).length, line).toBeLessThanOrEqual(columns);
      // Each drawing stays within the terminal's height (the cursor line stays free: no scrolling).
      const tables = text.split('\x1b[J').slice(0, -1);
      for (const t of tables) expect(t.split('\n').length - 1).toBeLessThanOrEqual(rows - 1);
      const last = plain(tables.at(-1)!).split('\n');
      // The device that is not ok comes first and says why; what does not fit is counted.
      expect(last[2]).toMatch(/^dead\s+reconnecting/);
      expect(last[2]).toContain('ConnectRefused');
      expect(last.find((l) => /^… \d+ more device\(s\)/.test(l))).toBeDefined();
      // Then the statistics, fitted too.
      const after = plain(text.slice(text.lastIndexOf('\x1b[J') + 3));
      expect(after).toContain('statistics after');
      expect(after).toMatch(/\(fleet\)/);
      expect(after).toMatch(/dead: reconnecting: ConnectRefused/);
    }
  });
});

describe('mmp scan: the terminal is resized while the table runs', () => {
  it('clears the screen once instead of moving up over lines the terminal may have re-wrapped; then fits the new width', async () => {
    const at = await file('resize.yaml', fleetYaml());
    const chunks: string[] = [];
    const stdout = {
      isTTY: true,
      columns: 120,
      rows: 20,
      write(t: string) {
        chunks.push(t);
        if (t.includes('\x1b[J')) this.columns = 50; // narrower after the first drawing
      },
    };
    const code = await runMmp(['scan', at, '--duration', '800'], { stdout, stderr: capture(), env: {} });
    expect(code).toBe(0);
    const text = chunks.join('');
    const clear = text.indexOf('\x1b[H\x1b[2J');
    expect(clear).toBeGreaterThan(0);
    expect(text.indexOf('\x1b[H\x1b[2J', clear + 1)).toBe(-1); // once: the width changed once
    expect(
      Math.max(
        ...text
          .slice(0, clear)
          .split('\n')
          .map((l) => plain(l).length),
      ),
    ).toBeGreaterThan(50);
    for (const line of text.slice(clear).split('\n'))
      expect(plain(line).length, line).toBeLessThanOrEqual(50);
  });
});

describe('mmp scan: the fleet file is checked first', () => {
  it('bad fields: exit 2 with the path of each; --json lists them', async () => {
    const at = await file(
      'bad.yaml',
      `
devices:
  - name: a
    host: 127.0.0.1
    port: 70000
    groups:
      - { name: g, periodMs: 0, points: [{ kind: analog, module: 2, channel: 99 }] }
`,
    );
    const r = await mmp(['scan', at]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`fleet file ${at} is invalid`);
    expect(r.stderr).toContain('devices[0].port');
    expect(r.stderr).toContain('devices[0].groups[0].periodMs');
    expect(r.stderr).toContain('devices[0].groups[0].points[0].channel');
    expect(r.stderr).not.toMatch(noStack);
    const j = await mmp(['--json', 'scan', at]);
    expect(j.code).toBe(2);
    const error = JSON.parse(j.stderr).error;
    expect(error).toMatchObject({ kind: 'usage', code: 'FleetFileInvalid' });
    expect(error.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(['devices[0].port', 'devices[0].groups[0].periodMs']),
    );
  });

  it('a syntax error names the line; a missing file, device options and a bad --count are usage errors too', async () => {
    const syntax = await file('syntax.yaml', 'devices:\n  - name: [unclosed\n');
    const s = await mmp(['scan', syntax]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/line 2|at line/);
    const json = await file('syntax.json', '{"devices": [');
    expect((await mmp(['scan', json])).code).toBe(2);
    const missing = await mmp(['scan', path.join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read fleet file');
    const good = await file('good.yaml', fleetYaml());
    const host = await mmp(['--host', '127.0.0.1', 'scan', good]);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('--host does not apply to scan');
    expect((await mmp(['--udp', 'scan', good])).code).toBe(2);
    expect((await mmp(['scan', good, '--count', '0'])).code).toBe(2);
  });
});

describe('mmp probe', () => {
  it('a device that answers pipelined requests in order: safe, rates, a recommended window', async () => {
    await using sim = await EpicSimulator.start({ latencyMs: 5 });
    const r = await mmp(['--port', String(sim.port), 'probe', '--windows', '1,8', '--requests', '16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pipelining on 127\.0\.0\.1:\d+: safe \(8 of 8/);
    expect(r.stdout).toMatch(/\n\s+1\s+\d+\s+\d+ %\n\s+8\s+\d+\s+100 %\n/);
    expect(r.stdout).toMatch(/recommended window: 8/);
    const j = JSON.parse(
      (await mmp(['--json', '--port', String(sim.port), 'probe', '--windows', '1,8', '--requests', '16']))
        .stdout,
    );
    expect(j).toMatchObject({ endpoint: `127.0.0.1:${sim.port}`, ok: true, recommendedWindow: 8 });
    expect(j.rates.map((x: { window: number }) => x.window)).toEqual([1, 8]);
  });

  it('a device that drops pipelined requests: NOT safe, why, window 1 (exit 0: the question was answered)', async () => {
    await using sim = await EpicSimulator.start({ pipelining: 'first-only' });
    const r = await mmp(['--port', String(sim.port), '--timeout', '300', 'probe']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('NOT safe (1 of 8 pipelined requests answered)');
    expect(r.stdout).toContain('  - 7 of 8 pipelined requests were not answered within 300 ms');
    expect(r.stdout).toContain('recommended window: 1');
  });

  it('a device that answers out of order: NOT safe, says so, window 1; --json says which check failed', async () => {
    await using sim = await EpicSimulator.start({ pipelining: 'out-of-order' });
    const r = await mmp(['--port', String(sim.port), '--timeout', '2000', 'probe', '--burst', '16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^pipelining on 127\.0\.0\.1:\d+: NOT safe \(16 of 16 pipelined requests answered\)/,
    );
    expect(r.stdout).toContain('  - the replies came back in another order than the requests went out');
    expect(r.stdout).toContain('recommended window: 1');
    expect(r.stdout).not.toContain('reads/s');
    const j = await mmp([
      '--json',
      '--port',
      String(sim.port),
      '--timeout',
      '2000',
      'probe',
      '--burst',
      '16',
    ]);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      inOrder: false,
      rightLabels: true,
      answered: 16,
      recommendedWindow: 1,
      rates: [],
    });
  });

  it('usage: no UDP, windows 1..32', async () => {
    expect((await mmp(['--udp', 'probe'])).code).toBe(2);
    const bad = await mmp(['probe', '--windows', '1,64']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a window must be an integer 1..32');
  });
});

/** A UDP device that answers from the device model, with a hook to mangle or repeat answers. */
async function udpDevice(answer: (request: Uint8Array, response: Uint8Array) => Uint8Array[]) {
  const device = new EpicDevice();
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.on('message', (msg, from) => {
    const request = new Uint8Array(msg);
    for (const datagram of answer(request, device.handle(decodePacket(request))))
      socket.send(datagram, from.port, from.address);
  });
  return {
    port: socket.address().port,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The answer with the next transaction label: what a device that mislabels sends. */
function relabel(response: Uint8Array): Uint8Array {
  const bad = Uint8Array.from(response);
  bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2;
  return bad;
}

describe('mmp --udp: dropped datagrams are counted and explained, never "nothing received"', () => {
  it('a device that answers with wrong labels: the timeout says how many datagrams came and why they were dropped', async () => {
    await using dev = await udpDevice((_q, res) => [relabel(res)]);
    const r = await mmp(['--udp', '--port', String(dev.port), '--timeout', '300', 'uptime']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /timed out after 300 ms: 1 datagram arrived and was dropped: 1 with another transaction label \(last 2, awaiting 1\)/,
    );
    expect(r.stderr).not.toContain('nothing received');
    const j = await mmp(['--json', '--udp', '--port', String(dev.port), '--timeout', '300', 'uptime']);
    expect(JSON.parse(j.stderr).error).toMatchObject({
      code: 'Timeout',
      dropped: { wrongLabel: 1, undecodable: 0, awaitedLabel: 1 },
    });
  });

  it('a silent device: "no datagram arrived"; nothing listening: said in words', async () => {
    await using dev = await udpDevice(() => []);
    const r = await mmp(['--udp', '--port', String(dev.port), '--timeout', '200', 'uptime']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('timed out after 200 ms: no datagram arrived');
    const refused = await mmp(['--udp', '--port', String(deadPort), '--timeout', '500', 'uptime']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('port unreachable: nothing listens there');
  });

  it('a command that succeeded although a datagram was dropped says so on stderr', async () => {
    // Every answer sent twice: the copy of the first arrives while the second request waits (or before).
    await using dev = await udpDevice((_q, res) => [res, res]);
    const r = await mmp([
      '--udp',
      '--port',
      String(dev.port),
      'scratchpad',
      'get',
      'int64',
      '0',
      '--count',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('int64[0] = 0\nint64[1] = 0\n');
    expect(r.stderr).toMatch(
      /^mmp: note: 1 datagram arrived over UDP and was dropped: 1 (with another transaction label|while no request was waiting)/,
    );
  });
});

describe('the built program (dist/main.js)', () => {
  it('mmp scan: Ctrl-C (SIGINT) stops cleanly: exit 0, the statistics as the last line', async () => {
    const at = await file('built.yaml', fleetYaml());
    const app = startApp(builtMain(appDir), ['scan', at]);
    try {
      const first = JSON.parse(await app.firstLine()) as Line;
      expect(['values', 'health']).toContain(first.type);
    } finally {
      const end = await app.stop('SIGINT');
      expect(end, app.stderr()).toEqual({ code: 0, signal: null });
    }
    const out = lines(app.stdout());
    expect(out.at(-1)).toMatchObject({ type: 'stats' });
    expect(out.at(-1)!.scans).toBeGreaterThan(0);
    expect(app.stderr()).toBe('');
  });

  it('mmp scan | head -1: the reader goes away; the scan stops quietly, exit 0, no EPIPE stack', async () => {
    const at = await file('pipe.yaml', fleetYaml());
    const app = startApp(builtMain(appDir), ['scan', at]);
    try {
      await app.firstLine();
      app.child.stdout!.destroy(); // as `head -1` exits: the next write gets EPIPE
      expect(await app.exited, app.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      await app.stop('SIGKILL');
    }
    expect(app.stderr()).toBe('');
  });

  it('mmp probe --json and mmp --udp on a mislabelling device', async () => {
    await using sim = await EpicSimulator.start();
    const p = await runApp(builtMain(appDir), [
      '--json',
      '--port',
      String(sim.port),
      'probe',
      '--windows',
      '1,2',
      '--requests',
      '8',
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(p.stdout)).toMatchObject({ ok: true, inOrder: true, rightLabels: true });
    await using dev = await udpDevice((_q, res) => [relabel(res)]);
    const u = await runApp(builtMain(appDir), [
      '--udp',
      '--port',
      String(dev.port),
      '--timeout',
      '300',
      'uptime',
    ]);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('1 datagram arrived and was dropped: 1 with another transaction label');
    expect(u.stderr).not.toMatch(noStack);
  });
});
