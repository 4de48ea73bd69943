// The pymodaq app end to end: serve (script and prompt), client, decode, usage errors; one run of the real
// entry point in a child process.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { builtMain, runApp, startApp } from '@labwire/cli-kit/testing';
import {
  GaussianDetector,
  PymodaqActuator,
  PymodaqDetector,
  PymodaqServer,
  SimulatedStage,
} from '@labwire/pymodaq';
import { waitFor } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { runPymodaq } from '../src/cli';

// Three entries copied from @labwire/pymodaq's golden vectors (see fixtures/README.md).
const vectors = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/pymodaq-vectors.json'), 'utf8'),
) as { name: string; hex: string | null }[];
const vector = (name: string) => vectors.find((v) => v.name === name)!.hex!;

function capture() {
  const chunks: string[] = [];
  return { write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

async function pymodaq(argv: string[]) {
  const stdout = capture();
  const stderr = capture();
  const code = await runPymodaq(argv, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The port from the first line, which must be `listening on 127.0.0.1:<port>`. */
async function listeningPort(out: { text(): string }): Promise<number> {
  const first = await waitFor(() => (out.text().includes('\n') ? out.text().split('\n')[0] : undefined), {
    message: 'the first line',
  });
  const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(first);
  expect(m).not.toBeNull();
  return Number(m![1]);
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('pymodaq serve', () => {
  it('runs a script against connected clients and prints what comes back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pymodaq-app-'));
    cleanup.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'script.txt');
    fs.writeFileSync(
      script,
      [
        '# a stage and a camera',
        'wait actuator',
        'move_abs 1.5',
        'move_rel -0.5',
        'get_actuator_value',
        'set_info actuator units um',
        'move_home',
        'wait detector',
        'grab 2D',
        'grab 0D',
        'bogus 1',
        'clients',
      ].join('\n'),
    );
    const stdout = capture();
    const stderr = capture();
    const run = runPymodaq(
      ['serve', '--role', 'both', '--protocol', '5.0', '--port', '0', '--script', script],
      {
        stdout,
        stderr,
      },
    );
    const port = await listeningPort(stdout);
    const stage = new SimulatedStage({ speed: 1000 });
    const actuator = new PymodaqActuator({
      protocol: 'D',
      port,
      units: 'mm',
      reconnect: false,
      handlers: stage.handlers(),
    });
    const detector = new PymodaqDetector({
      protocol: 'D',
      port,
      reconnect: false,
      handlers: new GaussianDetector({ width: 16, height: 12 }).handlers(),
    });
    cleanup.push(
      () => actuator.close(),
      () => detector.close(),
    );
    await actuator.connect();
    await detector.connect();
    const code = await run;
    const out = stdout.text();
    expect(out).toContain('move_done 1.5 mm');
    expect(out).toContain('move_done 1 mm');
    expect(out).toContain('position_is 1 mm');
    expect(out).toContain('move_done 0 um');
    expect(out).toMatch(/gaussian: CH00 Data2D <f8 \[12x16\] counts min .* max .* mean/);
    expect(out).toMatch(/gaussian: CH00 Data0D <f8 \[1\] counts \[/);
    expect(out).toMatch(/c\d ACTUATOR 127\.0\.0\.1:\d+ units=um/);
    expect(out.trimEnd().endsWith('server closed')).toBe(true);
    expect(stderr.text()).toContain('unknown command "bogus"');
    expect(code).toBe(1);
    expect(stage.position).toBe(0);
  });

  it('reads commands from a prompt until quit', async () => {
    const stdin = new PassThrough();
    const stdout = capture();
    const stderr = capture();
    const run = runPymodaq(
      ['serve', '--role', 'detector', '--protocol', 'B', '--port', '0', '--timeout', '300'],
      {
        stdout,
        stderr,
        stdin,
      },
    );
    const port = await listeningPort(stdout);
    const detector = new PymodaqDetector({
      protocol: 'B',
      port,
      reconnect: false,
      handlers: new GaussianDetector({ width: 8, height: 4 }).handlers(),
    });
    cleanup.push(() => detector.close());
    await detector.connect();
    stdin.write('grab 1D\n');
    await waitFor(() => stdout.text().includes('Data1D'), { message: 'the grab result' });
    // B carries no dim: an array of one dimension arrives as Data1D.
    expect(stdout.text()).toMatch(/Data1D <f8 \[8\]/);
    stdin.write('move_abs 1\n');
    await waitFor(() => stderr.text().includes('error'), { message: 'an error for move_abs' });
    stdin.write('quit\n');
    expect(await run).toBe(1);
    // A detector server has no actuator to wait for.
    expect(stderr.text()).toContain('a detector server has no actuator clients');
  });
});

describe('pymodaq client', () => {
  it.each(['A', 'C4'])('runs a simulated stage (gen %s) until stopped, then says Quit', async (protocol) => {
    const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const stop = new AbortController();
    const stdout = capture();
    const stderr = capture();
    const run = runPymodaq(
      [
        'client',
        'actuator',
        '--protocol',
        protocol,
        '--port',
        String(port),
        '--speed',
        '1000',
        '--units',
        'deg',
      ],
      { stdout, stderr, signal: stop.signal },
    );
    await server.waitForClient('ACTUATOR');
    expect((await server.moveAbs(12)).value).toBe(12);
    expect(server.clients[0]!.units).toBe('deg');
    await waitFor(() => stdout.text().includes('move_done 12 deg'));
    const left = new Promise<string>((resolve) => server.once('clientClosed', (e) => resolve(e.reason)));
    stop.abort();
    expect(await run).toBe(0);
    expect(await left).toBe('Quit');
  });

  it('runs a gaussian camera that answers 0D/1D/2D', async () => {
    const server = new PymodaqServer({ protocol: 'D', port: 0, role: 'detector' });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const stop = new AbortController();
    const run = runPymodaq(
      ['client', 'detector', '--protocol', 'D', '--port', String(port), '--width', '20', '--height', '10'],
      { stdout: capture(), stderr: capture(), signal: stop.signal },
    );
    await server.waitForClient('GRABBER');
    const shapes = [];
    for (const dim of ['0D', '1D', '2D'] as const) {
      shapes.push([...(await server.grab(dim)).data[0]!.data[0]!.shape]);
    }
    expect(shapes).toEqual([[1], [20], [10, 20]]);
    stop.abort();
    expect(await run).toBe(0);
  });
});

describe('pymodaq decode', () => {
  it('explains a gen D move_abs sequence as JSON', async () => {
    const r = await pymodaq(['decode', '--protocol', 'D', vector('v5_seq_move_abs')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { generation: string; messages: { part: string; value: unknown }[] };
    expect(j.generation).toBe('D');
    expect(j.messages[0]!.value).toBe('move_abs');
    expect(JSON.stringify(j.messages[1]!.value)).toContain('DataActuator');
  });

  it('explains a gen C4 Done + DataToExport, hex with spaces', async () => {
    const hex = vector('v4_seq_done_dte').replace(/(..)/g, '$1 ');
    const r = await pymodaq(['decode', '--protocol', '4.4', hex]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { messages: { part: string }[]; fields: unknown[] };
    expect(j.messages.map((m) => m.part)).toEqual(['command', 'detector']);
    expect(j.fields.length).toBeGreaterThan(10);
  });

  it('reports bad hex, truncated frames and usage errors', async () => {
    const bad = await pymodaq(['decode', '--protocol', 'D', 'zz']);
    expect(bad.code).toBe(2); // a usage mistake, like every other bad argument
    expect(bad.stderr).toMatch(/bad hex/i);
    const truncated = await pymodaq(['decode', '--protocol', 'D', vector('v5_int').slice(0, 20)]);
    expect(truncated.code).toBe(1);
    expect(JSON.parse(truncated.stdout).error).toBeDefined();
    expect((await pymodaq(['decode', vector('v5_int')])).code).toBe(2);
    expect((await pymodaq(['serve', '--protocol', 'D'])).code).toBe(2);
    expect((await pymodaq(['client', 'stage', '--protocol', 'D'])).code).toBe(2);
    expect((await pymodaq(['decode', '--protocol', 'E', '00'])).code).toBe(2);
    expect((await pymodaq(['--help'])).code).toBe(0);
  });
});

const appDir = path.resolve(import.meta.dirname, '..');
const noStack = /\n\s+at /;

describe('the built program (dist/main.js through its shebang, no tsx)', () => {
  it('prints `listening on 127.0.0.1:<port>` first and quits on request', async () => {
    const app = startApp(
      builtMain(appDir),
      ['serve', '--role', 'detector', '--protocol', 'D', '--port', '0'],
      {
        stdin: 'pipe',
      },
    );
    cleanup.push(async () => {
      await app.stop('SIGKILL');
    });
    expect(await app.firstLine()).toMatch(/^listening on 127\.0\.0\.1:\d+$/);
    app.child.stdin!.end('clients\nquit\n');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.stdout()).toContain('no clients');
    expect(app.stdout()).toContain('server closed');
  });

  it('--version, and decode from the bin', async () => {
    const main = builtMain(appDir);
    const version = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')).version;
    expect(await runApp(main, ['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const r = await runApp(main, ['decode', '--protocol', 'D', vector('v5_seq_move_abs')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).messages[0].value).toBe('move_abs');
  });
});

describe('rough edges (issue 13)', () => {
  it('decode names every field, the framing ones included', async () => {
    const d = JSON.parse((await pymodaq(['decode', '--protocol', 'D', vector('v5_seq_move_abs')])).stdout);
    const names = (d.fields as { field: string }[]).map((f) => f.field);
    expect(names.filter((n) => n === '')).toEqual([]);
    expect(names.slice(0, 5)).toEqual([
      'messages[0].frame_length',
      'messages[0].type',
      'messages[0].value',
      'messages[1].frame_length',
      'messages[1].type',
    ]);
    const c = JSON.parse((await pymodaq(['decode', '--protocol', '4.4', vector('v4_seq_done_dte')])).stdout);
    expect((c.fields as { field: string }[]).map((f) => f.field).slice(0, 3)).toEqual([
      'command',
      'detector.class',
      'DataToExport.timestamp',
    ]);
  });

  it('serve: a non-loopback --host, a busy port and a missing script fail in one line, no stack', async () => {
    const remote = await pymodaq(['serve', '--role', 'actuator', '--protocol', 'D', '--host', '0.0.0.0']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain(
      'refusing to listen on 0.0.0.0: not a loopback address. Pass --allow-remote',
    );
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => busy.close(resolve)));
    const port = (busy.address() as net.AddressInfo).port;
    const inUse = await pymodaq(['serve', '--role', 'actuator', '--protocol', 'D', '--port', String(port)]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toBe(
      `pymodaq: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)\n`,
    );
    const missing = await pymodaq([
      'serve',
      '--role',
      'both',
      '--protocol',
      'D',
      '--script',
      '/nonexistent/x',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the script /nonexistent/x: no such file');
    const json = await pymodaq(['--json', 'serve', '--protocol', 'D']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error.kind).toBe('usage');
    for (const r of [remote, inUse, missing, json]) expect(r.stderr).not.toMatch(noStack);
  });

  it('the console on a terminal: events above the prompt, Ctrl-C cancels a command, Ctrl-D leaves; client strings escaped', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    const stderr = capture();
    const run = runPymodaq(
      ['serve', '--role', 'actuator', '--protocol', 'D', '--port', '0', '--timeout', '60000'],
      { stdout, stderr, stdin, terminal: true, env: {} },
    );
    await waitFor(() => out.includes('pymodaq> '), { message: 'the prompt' });
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    stdin.write('move_abs 1\r'); // waits up to 60 s for an actuator
    await waitFor(() => out.includes('move_abs 1'));
    stdin.write('\x03');
    await waitFor(() => stderr.text().includes('cancelled (Ctrl-C)'), { message: 'the cancel' });
    stdin.write('cli');
    // A client connects while "cli" is half typed: its line appears above the prompt, "cli" stays.
    const actuator = new PymodaqActuator({
      protocol: 'D',
      port,
      units: 'mm\x1b[2J\u009b',
      reconnect: false,
      handlers: new SimulatedStage({ speed: 1000 }).handlers(),
    });
    cleanup.push(() => actuator.close());
    await actuator.connect();
    await waitFor(() => /\+ client c1 ACTUATOR/.test(out), { message: 'the client event' });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI sequences start with ESC
    const plain = () => out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    await waitFor(() => plain().endsWith('pymodaq> cli'), { message: 'the redrawn line' });
    stdin.write('ents\r');
    await waitFor(() => /c1 ACTUATOR 127\.0\.0\.1:\d+ units=mm\\x1b\[2J\\x9b/.test(out), {
      message: 'clients',
    });
    stdin.write('\x04');
    expect(await run).toBe(1); // the cancelled command counts as a failure
    expect(out).toContain('server closed');
    expect(out.includes('\x1b[2J')).toBe(false); // the client's own escape sequence never got through
  });
});
