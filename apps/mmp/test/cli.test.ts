import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { builtMain, runApp } from '@labwire/cli-kit/testing';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMmp } from '../src/cli';

function capture(isTTY = false) {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

async function mmp(
  argv: string[],
  options: { tty?: boolean; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {},
) {
  const stdout = capture(options.tty);
  const stderr = capture();
  const code = await runMmp(argv, { stdout, stderr, signal: options.signal, env: options.env ?? {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const appDir = path.resolve(import.meta.dirname, '..');
const version = (
  JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { version: string }
).version;
const noStack = /\n\s+at /;

let sim: EpicSimulator;
let at: string[];
beforeAll(async () => {
  sim = await EpicSimulator.start(vectorDeviceOptions());
  at = ['--host', '127.0.0.1', '--port', String(sim.port)];
});
afterAll(async () => {
  await sim.close();
});

describe('the seeds’ three scripts', () => {
  it('mmp uptime', async () => {
    const r = await mmp([...at, 'uptime']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^uptime \d+ ms \(0 d \d\d:\d\d:\d\d\.\d{3}\)\n$/);
    const j = await mmp([...at, '--json', 'uptime']);
    expect(JSON.parse(j.stdout)).toEqual({ uptimeMs: expect.any(Number) });
  });

  it('mmp digital read / write', async () => {
    expect((await mmp([...at, 'digital', 'read', '0', '5'])).stdout).toBe('module 0 channel 5: on (1)\n');
    const w = await mmp([...at, '--json', 'digital', 'write', '1', '3', '1']);
    expect(JSON.parse(w.stdout)).toEqual({ module: 1, channel: 3, state: true });
    const r = await mmp([...at, '--json', 'digital', 'read', '1', '3']);
    expect(JSON.parse(r.stdout)).toEqual({ module: 1, channel: 3, state: true });
    await mmp([...at, 'digital', 'write', '1', '3', 'off']);
    expect((await mmp([...at, 'digital', 'read', '1', '3'])).stdout).toContain('off (0)');
  });
});

describe('the other commands', () => {
  it('analog read and write', async () => {
    expect((await mmp([...at, 'analog', 'read', '2', '0'])).stdout).toBe(
      'module 2 channel 0: 12.5 (min -1.25, max 99.5)\n',
    );
    expect((await mmp([...at, 'analog', 'write', '3', '1', '4.5'])).code).toBe(0);
    const r = JSON.parse((await mmp([...at, '--json', 'analog', 'read', '3', '1'])).stdout);
    expect(r).toMatchObject({ module: 3, channel: 1, value: 4.5 });
  });

  it('scratchpad get and set: int, float, string, int64, with --count', async () => {
    expect((await mmp([...at, 'scratchpad', 'get', 'int', '3'])).stdout).toBe('int[3] = 4242\n');
    await mmp([...at, 'scratchpad', 'set', 'int', '1022', '-5', '70000', '7']);
    expect(
      JSON.parse((await mmp([...at, '--json', 'scratchpad', 'get', 'int', '1022', '--count', '3'])).stdout),
    ).toEqual({
      type: 'int',
      index: 1022,
      values: [-5, 70000, 7],
    });
    await mmp([...at, 'scratchpad', 'set', 'float', '7', '2.5']);
    expect((await mmp([...at, 'scratchpad', 'get', 'float', '7'])).stdout).toBe('float[7] = 2.5\n');
    await mmp([...at, 'scratchpad', 'set', 'string', '4', 'hi', 'there']);
    expect((await mmp([...at, 'scratchpad', 'get', 'string', '4', '--count', '2'])).stdout).toBe(
      `string[4] = "hi there"\nstring[5] = "${'A'.repeat(65)}"\n`,
    );
    await mmp([...at, 'scratchpad', 'set', 'int64', '2', '-9007199254740993']);
    expect((await mmp([...at, 'scratchpad', 'get', 'int64', '2'])).stdout).toBe(
      'int64[2] = -9007199254740993\n',
    );
    const bad = await mmp([...at, 'scratchpad', 'get', 'bits', '0']);
    expect(bad.code).toBe(2);
  });

  it('status, human and JSON', async () => {
    const h = await mmp([...at, 'status']);
    expect(h.stdout).toMatch(/firmware version\s+R4\.1c/);
    expect(h.stdout).toMatch(/MAC address \(eth1\)\s+00-A0-3D-12-0B-01/);
    const j = JSON.parse((await mmp([...at, '--json', 'status'])).stdout);
    expect(j).toMatchObject({
      memoryMapVersion: 7,
      partNumber: 'GRV-EPIC-PR1',
      eth0: { ipAddress: '10.192.0.152' },
    });
    expect(typeof j.uptimeMs64).toBe('string');
  });

  it('raw read (hex dump) and write', async () => {
    expect((await mmp([...at, 'write', 'F0DA0000', '01020304', '41 42'])).stdout).toBe(
      'wrote 6 byte(s) at F0DA0000\n',
    );
    expect((await mmp([...at, 'read', 'F0DA0000', '6'])).stdout).toBe(
      `F0DA0000  ${'01 02 03 04 41 42'.padEnd(47)}  |....AB|\n`,
    );
    expect(JSON.parse((await mmp([...at, '--json', 'read', '0xF0DA0000', '2'])).stdout)).toEqual({
      address: 'F0DA0000',
      length: 2,
      hex: '0102',
    });
  });

  it('watch: JSON lines when not a terminal, a redrawn table on a terminal', async () => {
    const r = await mmp([
      ...at,
      'watch',
      'digital:0/5',
      'a:2/0=temp',
      'int:3',
      'uptime',
      '--interval',
      '5',
      '--count',
      '3',
    ]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { sequence: number; values: Record<string, unknown> });
    expect(lines.map((l) => l.sequence)).toEqual([0, 1, 2]);
    expect(lines[0]!.values).toEqual({
      'digital 0/5': true,
      temp: 12.5,
      'int32[3]': 4242,
      uptime: expect.any(Number),
    });
    const t = await mmp([...at, 'watch', 'f:7', '--interval', '5', '--count', '2'], { tty: true });
    expect(t.stdout).toContain('\x1b[2K');
    expect(t.stdout).toContain('\x1b[2A'); // the second sample redraws over the first
    const d = await mmp([...at, 'watch', '--interval', '10', '--duration', '60']);
    expect(d.code).toBe(0);
    expect(d.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(1);
    const bad = await mmp([...at, 'watch', 'digital:99']);
    expect(bad.code).toBe(2);
  });

  it('watch stops when the signal aborts', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    // Abort as soon as the first sample is out (SIGINT in main.ts does the same).
    const stdout = {
      isTTY: false,
      write: (s: string) => {
        lines.push(s);
        ac.abort();
      },
    };
    const code = await runMmp([...at, 'watch', '--interval', '10000'], {
      stdout,
      stderr: capture(),
      signal: ac.signal,
    });
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it('decode explains a packet field by field, without a device', async () => {
    const r = await mmp(['decode', '000000500000fffff030010c00040000'], { env: { COLUMNS: '160' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('read block request, tl 0, F030010C (milliseconds since power-up), 4 byte(s)');
    expect(r.stdout).toMatch(/12-13\s+00 04\s+data_length\s+4 byte\(s\) to read/);
    const nak = JSON.parse((await mmp(['--json', 'decode', '00001c60', '000050000000000000000000'])).stdout);
    expect(nak.packets[0].summary).toContain('NAK E005');
    const partial = await mmp(['decode', '0000005000']);
    expect(partial.stdout).toContain('incomplete packet: 5 byte(s), 11 more needed');
    expect((await mmp(['decode', 'xyz'])).code).toBe(2);
  });
});

describe('errors and the embedded simulator', () => {
  it('without --host it starts the embedded simulator and says so on stderr', async () => {
    const r = await mmp(['digital', 'read', '0', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/embedded groov EPIC simulator on 127\.0\.0\.1:\d+/);
    expect(r.stdout).toBe('module 0 channel 0: off (0)\n');
  });

  it('a NAK is exit status 1 with the device code; --json reports it as JSON', async () => {
    const r = await mmp([...at, 'read', 'F0F00000', '4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E005');
    const j = await mmp([...at, '--json', 'read', 'F0F00000', '4']);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { code: 'DeviceNak', deviceCode: 'E005' } });
  });

  it('usage errors are exit status 2 and name the argument', async () => {
    const r = await mmp([...at, 'digital', 'read', '64', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('module must be an integer 0..63');
    expect((await mmp([])).code).toBe(2);
    expect((await mmp(['--help'])).code).toBe(0);
  });

  it('a device that is not there: exit status 1, refused', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await mmp(['--host', '127.0.0.1', '--port', String(port), '--timeout', '500', 'uptime']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('refused');
  });
});

describe('mmp, the built program (dist/main.js through its shebang, no tsx)', () => {
  it('--version, and uptime on the embedded simulator', async () => {
    const main = builtMain(appDir);
    const v = await runApp(main, ['--version']);
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    const r = await runApp(main, ['uptime']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^uptime \d+ ms/);
    expect(r.stderr).toContain('embedded groov EPIC simulator');
  });

  it('exit status 2 and a JSON error for a usage mistake under --json; no stack trace', async () => {
    const r = await runApp(builtMain(appDir), ['--json', 'digital', 'read', '64', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({
      error: { kind: 'usage', code: 'commander.invalidArgument' },
    });
    expect(r.stderr).not.toMatch(noStack);
  });
});

describe('rough edges (issue 13)', () => {
  it('--version prints the package version', async () => {
    expect(await mmp(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('usage errors are JSON under --json, whatever found them', async () => {
    for (const argv of [
      ['--json', 'bogus'],
      ['--json', 'read', 'F0'],
      ['--json', 'decode', 'xyz'],
      ['--json'],
    ]) {
      const r = await mmp(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(JSON.parse(r.stderr).error.kind).toBe('usage');
    }
  });

  it('float32 values at float32 precision: analog read, scratch pad floats, watch, human and JSON', async () => {
    await mmp([...at, 'scratchpad', 'set', 'float', '9', '3.476798']);
    expect((await mmp([...at, 'scratchpad', 'get', 'float', '9'])).stdout).toBe('float[9] = 3.476798\n');
    const j = JSON.parse((await mmp([...at, '--json', 'scratchpad', 'get', 'float', '9'])).stdout);
    expect(j.values).toEqual([3.476798]);
    await mmp([...at, 'analog', 'write', '3', '2', '6.978075']);
    expect((await mmp([...at, 'analog', 'read', '3', '2'])).stdout).toMatch(/: 6\.978075 \(/);
    expect(JSON.parse((await mmp([...at, '--json', 'analog', 'read', '3', '2'])).stdout).value).toBe(
      6.978075,
    );
    const w = await mmp([...at, 'watch', 'float:9', 'a:3/2', '--interval', '5', '--count', '1']);
    expect(JSON.parse(w.stdout).values).toEqual({ 'float32[9]': 3.476798, 'analog 3/2': 6.978075 });
    const t = await mmp([...at, 'watch', 'float:9', '--interval', '5', '--count', '1'], { tty: true });
    expect(t.stdout).toContain('3.476798\n');
    expect(t.stdout).not.toContain('3.4767980575');
  });

  it('--port without --host talks to 127.0.0.1 on that port (no embedded simulator)', async () => {
    const r = await mmp(['--port', String(sim.port), 'scratchpad', 'get', 'int', '3']);
    expect(r).toEqual({ code: 0, stdout: 'int[3] = 4242\n', stderr: '' });
  });

  it('strings from the device are escaped in human output, exact in JSON', async () => {
    await mmp([...at, 'scratchpad', 'set', 'string', '7', 'evil\x1b]0;owned\x07\x1b[2J\u009b']);
    const h = await mmp([...at, 'scratchpad', 'get', 'string', '7']);
    expect(h.stdout).toBe('string[7] = "evil\\x1b]0;owned\\x07\\x1b[2J\\x9b"\n');
    const j = JSON.parse((await mmp([...at, '--json', 'scratchpad', 'get', 'string', '7'])).stdout);
    expect(j.values).toEqual(['evil\x1b]0;owned\x07\x1b[2J\u009b']);
  });

  it('status and decode fit the terminal (or $COLUMNS)', async () => {
    for (const columns of [100, 60]) {
      const env = { COLUMNS: String(columns) };
      const s = await mmp([...at, 'status'], { env });
      const d = await mmp(
        ['decode', '000000500000fffff030010c00040000', '00001c60', '000050000000000000000000'],
        { env },
      );
      for (const text of [s.stdout, d.stdout]) {
        const widest = Math.max(...text.split('\n').map((l) => l.length));
        expect(widest, text).toBeLessThanOrEqual(columns);
      }
      expect(s.stdout).toContain('R4.1c');
    }
  });
});
