// `pymodaq bridge`, `pymodaq probe`, and `pymodaq client` facing a server that rejects its handshake
// (issue 16). Real servers and instruments on loopback; the CLI runs in-process with captured output.

import { PymodaqActuator, PymodaqDetector, PymodaqServer, SimulatedStage } from '@labwire/pymodaq';
import { dataFromPlugins, dataToExport, NdArray } from '@labwire/pymodaq/codec';
import { LoopbackServer, waitFor } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { runPymodaq } from '../src/cli';

function capture() {
  const chunks: string[] = [];
  return { write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(protocol: string, role: 'actuator' | 'detector') {
  const s = new PymodaqServer({ protocol, role, port: 0 });
  const { port } = await s.listen();
  cleanup.push(() => s.close());
  return { server: s, port };
}

/** Starts `pymodaq <argv>` with a stop signal; resolves once its first line is out. */
async function start(argv: string[]) {
  const stop = new AbortController();
  const stdout = capture();
  const stderr = capture();
  const run = runPymodaq(argv, { stdout, stderr, signal: stop.signal });
  cleanup.push(async () => {
    stop.abort();
    await run;
  });
  await waitFor(() => stdout.text().includes('\n') || undefined, { timeoutMs: 10_000 });
  return { stop, run, stdout, stderr };
}

/** Anything a terminal acts on: C0 (line feeds aside), DEL, C1, bidi and zero-width controls. */
const RAW_CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

describe('pymodaq bridge', () => {
  it('bridges C4 instruments to a D server until stopped; prints the events', async () => {
    const { server: s, port: serverPort } = await server('D', 'actuator');
    const b = await start([
      'bridge',
      '--client-protocol',
      '4.4',
      '--server-protocol',
      '5.0',
      '--server',
      `127.0.0.1:${serverPort}`,
      '--port',
      '0',
    ]);
    const m = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(b.stdout.text());
    expect(m).not.toBeNull();
    const stage = new SimulatedStage({ speed: 10_000, units: 'mm' });
    const actuator = new PymodaqActuator({
      protocol: 'C4',
      port: Number(m![1]),
      units: 'mm',
      reconnect: false,
      handlers: stage.handlers(),
    });
    cleanup.push(() => actuator.close());
    await actuator.connect({ timeoutMs: 10_000 });
    await s.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
    expect(await s.moveAbs(3)).toEqual({ value: 3, units: 'mm' });
    await actuator.close();
    await waitFor(() => b.stdout.text().includes('left (Quit)') || undefined, { timeoutMs: 10_000 });
    b.stop.abort();
    expect(await b.run).toBe(0);
    const out = b.stdout.text();
    expect(out).toContain(
      `bridge: C4 (PyMoDAQ 4.4.x) instruments -> D (PyMoDAQ 5.x) server at 127.0.0.1:${serverPort}`,
    );
    expect(out).not.toContain('reconnecting');
    expect(out).toMatch(/\+ c1 ACTUATOR 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/c1 ACTUATOR linked to the server 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/bridge closed \(messages to the server [1-9]/);
  });

  it('escapes what instruments send: names, units and type strings reach the terminal as escapes', async () => {
    const { port: serverPort } = await server('A', 'detector');
    const b = await start([
      'bridge',
      '--client-protocol',
      'D',
      '--server-protocol',
      'A',
      '--server',
      `127.0.0.1:${serverPort}`,
      '--port',
      '0',
    ]);
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(b.stdout.text())![1]);
    const detector = new PymodaqDetector({
      protocol: 'D',
      port,
      reconnect: false,
      handlers: { grab: () => dataToExport({ name: 'x', data: [] }) },
    });
    cleanup.push(() => detector.close());
    await detector.connect({ timeoutMs: 10_000 });
    await waitFor(() => b.stdout.text().includes('linked to the server') || undefined, { timeoutMs: 10_000 });
    // A name and a unit that would recolour the terminal, reverse the line, and start a C1 sequence.
    const evil = '\u001b]0;owned\u0007\u001b[2J\u202e\u009b31m';
    const data = dataToExport({
      name: 'tcp',
      data: [
        dataFromPlugins({
          name: `cam${evil}`,
          units: `V${evil}`,
          data: [NdArray.fromValues([1, 2], { dtype: '<f8', shape: [2] })],
        }),
      ],
    });
    await detector.push(data);
    await waitFor(() => b.stdout.text().includes('Translation') || undefined, { timeoutMs: 10_000 });
    // And a type string of the same kind from a raw connection (refused).
    const { connect } = await import('node:net');
    const raw = connect({ host: '127.0.0.1', port });
    raw.on('error', () => {});
    const type = Buffer.from(`GRABBER${evil}`, 'utf8');
    const frame = Buffer.alloc(4);
    frame.writeUInt32BE(type.length);
    raw.write(Buffer.concat([frame, type]));
    cleanup.push(async () => raw.destroy());
    await waitFor(() => b.stdout.text().includes('! refused') || undefined, { timeoutMs: 10_000 });
    b.stop.abort();
    await b.run;
    const out = b.stdout.text();
    expect(RAW_CONTROL.test(out.replace(/\n/g, ''))).toBe(false);
    expect(out).toContain('\\u{202e}');
    expect(out).toContain('\\x9b31m');
  });

  it('--json (the program option): one JSON object per line', async () => {
    const { port: serverPort } = await server('C4', 'detector');
    const b = await start([
      '--json',
      'bridge',
      '--client-protocol',
      'B',
      '--server-protocol',
      'C4',
      '--server',
      `127.0.0.1:${serverPort}`,
      '--port',
      '0',
    ]);
    const first = JSON.parse(b.stdout.text().split('\n')[0]!) as { event: string; port: number };
    expect(first).toMatchObject({ event: 'listening', clientProtocol: 'B', serverProtocol: 'C4' });
    const detector = new PymodaqDetector({
      protocol: 'B',
      port: first.port,
      reconnect: false,
      handlers: { grab: () => dataToExport({ name: 'x', data: [] }) },
    });
    cleanup.push(() => detector.close());
    await detector.connect({ timeoutMs: 10_000 });
    await waitFor(() => b.stdout.text().includes('serverConnected') || undefined, { timeoutMs: 10_000 });
    b.stop.abort();
    expect(await b.run).toBe(0);
    const events = b.stdout
      .text()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(['listening', 'client', 'serverConnected', 'clientClosed', 'closed']);
  });

  it('usage errors exit 2: a bridge to itself, a bad endpoint, a missing or unknown protocol', async () => {
    const run = async (argv: string[]) => {
      const stderr = capture();
      const code = await runPymodaq(argv, { stdout: capture(), stderr, env: {} });
      return { code, stderr: stderr.text() };
    };
    const base = ['bridge', '--client-protocol', 'B', '--server-protocol', 'D'];
    const itself = await run([...base, '--server', '127.0.0.1:6341']);
    expect(itself).toMatchObject({ code: 2 });
    expect(itself.stderr).toContain('pymodaq: the bridge would connect to itself');
    const anyAddress = await run([...base, '--server', 'localhost', '--host', '0.0.0.0', '--allow-remote']);
    expect(anyAddress.code).toBe(2);
    expect(anyAddress.stderr).toContain('connect to itself');
    expect((await run([...base, '--server', 'host:99999', '--port', '0'])).code).toBe(2);
    expect((await run(['bridge', '--server-protocol', 'D', '--server', '127.0.0.1:1'])).code).toBe(2);
    const unknown = await run([
      'bridge',
      '--client-protocol',
      'E',
      '--server-protocol',
      'D',
      '--server',
      '127.0.0.1:1',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--client-protocol');
    const json = await run(['--json', ...base, '--server', '127.0.0.1:6341']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { kind: 'usage' } });
    for (const r of [itself, unknown, json]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--host: a non-loopback address needs --allow-remote, and then prints the warning', async () => {
    const { port: serverPort } = await server('D', 'actuator');
    const argv = [
      'bridge',
      '--client-protocol',
      'C4',
      '--server-protocol',
      'D',
      '--server',
      `127.0.0.1:${serverPort}`,
      '--port',
      '0',
      '--host',
      '0.0.0.0',
    ];
    const refused = capture();
    const listening = capture();
    expect(await runPymodaq(argv, { stdout: listening, stderr: refused, env: {} })).toBe(2);
    expect(refused.text()).toContain(
      'refusing to listen on 0.0.0.0: not a loopback address. Pass --allow-remote',
    );
    expect(listening.text()).toBe('');
    const b = await start([...argv, '--allow-remote']);
    expect(b.stdout.text()).toMatch(/^listening on 0\.0\.0\.0:\d+\n/);
    expect(b.stderr.text()).toContain(
      'pymodaq: warning: listening on 0.0.0.0, which is not a loopback address',
    );
    b.stop.abort();
    expect(await b.run).toBe(0);
  });

  it('a port in use is a failure at run time (exit 1), said in one line', async () => {
    const { port: busy } = await server('C4', 'actuator');
    const { port: serverPort } = await server('D', 'actuator');
    const stderr = capture();
    const code = await runPymodaq(
      [
        'bridge',
        '--client-protocol',
        'C4',
        '--server-protocol',
        'D',
        '--server',
        `127.0.0.1:${serverPort}`,
        '--port',
        String(busy),
      ],
      { stdout: capture(), stderr, env: {} },
    );
    expect(code).toBe(1);
    expect(stderr.text()).toBe(
      `pymodaq: cannot listen on 127.0.0.1:${busy}: the port is in use (EADDRINUSE)\n`,
    );
  });
});

describe('pymodaq probe', () => {
  it('names the generation and the protocol option to use; --json gives the evidence', async () => {
    const { port } = await server('C4', 'detector');
    const stdout = capture();
    expect(
      await runPymodaq(['probe', `127.0.0.1:${port}`, '--wait', '600'], { stdout, stderr: capture() }),
    ).toBe(0);
    expect(stdout.text()).toContain('a detector (DAQ_Viewer) server speaking A-C');
    expect(stdout.text()).toMatch(/\n {2}D ACTUATOR +refused: closed after \d+ ms\n/);
    expect(stdout.text()).toContain('use: --protocol C4 (or C3, C2, C1, B, A');
    const json = capture();
    expect(
      await runPymodaq(['--json', 'probe', `127.0.0.1:${port}`, '--wait', '600'], {
        stdout: json,
        stderr: capture(),
      }),
    ).toBe(0);
    const result = JSON.parse(json.text()) as { verdict: string; generations: string[]; steps: unknown[] };
    expect(result.verdict).toBe('pymodaq');
    expect(result.steps).toHaveLength(4);
  });

  it('a peer that greets with control characters: not PyMoDAQ (exit 1), shown escaped', async () => {
    const peer = await LoopbackServer.start(({ socket }) => {
      socket.write('\u001b]0;owned\u0007\u001b[2J hello\r\n');
    });
    cleanup.push(() => peer.close());
    const stdout = capture();
    expect(
      await runPymodaq(['probe', `127.0.0.1:${peer.port}`, '--wait', '600'], { stdout, stderr: capture() }),
    ).toBe(1);
    expect(stdout.text()).toContain('the peer spoke first');
    expect(RAW_CONTROL.test(stdout.text().replace(/\n/g, ''))).toBe(false);
  });
});

describe('pymodaq client against a server that rejects its handshake', () => {
  it('says so once, with the generations to try, and exits 1', async () => {
    const { server: s, port } = await server('C4', 'actuator');
    const stderr = capture();
    const stdout = capture();
    const stop = new AbortController();
    cleanup.push(async () => stop.abort());
    const code = await runPymodaq(['client', 'actuator', '--protocol', '5.0', '--port', String(port)], {
      stdout,
      stderr,
      signal: stop.signal,
      env: {},
    });
    expect(code).toBe(1);
    const said = stderr.text().match(/rejected the handshake/g) ?? [];
    expect(said).toHaveLength(1);
    expect(stderr.text()).toMatch(/^pymodaq: HandshakeRejected: the PyMoDAQ server rejected the handshake/);
    expect(stderr.text()).toContain('try C4 (PyMoDAQ 4.4)');
    expect(stdout.text()).not.toContain('reconnecting');
    expect(s.clients).toHaveLength(0);
  });

  it('--json: the rejection is one JSON error object with the generations to try', async () => {
    const { port } = await server('B', 'detector');
    const stderr = capture();
    const stop = new AbortController();
    cleanup.push(async () => stop.abort());
    const code = await runPymodaq(
      ['--json', 'client', 'detector', '--protocol', 'D', '--port', String(port)],
      { stdout: capture(), stderr, signal: stop.signal, env: {} },
    );
    expect(code).toBe(1);
    const lines = stderr.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const error = (
      JSON.parse(lines[0]!) as { error: { kind: string; code: string; suggestedGenerations: string[] } }
    ).error;
    expect(error.kind).toBe('failure');
    expect(error.code).toBe('HandshakeRejected');
    expect(error.suggestedGenerations[0]).toBe('C4');
  });
});
