// tcpbus as a user meets it: the built program (dist/main.js through its shebang, no tsx), and
// runTcpbus in-process for the shell's keys (a PassThrough stands in for the terminal; Ctrl-C is 0x03,
// Ctrl-D 0x04, Enter CR) and the rough edges of issue 13.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { TcpBus } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import { builtMain, runApp, startApp } from '@labwire/cli-kit/testing';
import { waitFor } from '@labwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTcpbus } from '../src/cli';

const appDir = path.resolve(import.meta.dirname, '..');
const version = (
  JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { version: string }
).version;
const noStack = /\n\s+at /;

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  return { stream, text: () => text };
}

async function tcpbus(argv: string[], stdin?: NodeJS.ReadableStream) {
  const stdout = capture();
  const stderr = capture();
  const code = await runTcpbus(argv, { stdout: stdout.stream, stderr: stderr.stream, stdin, env: {} });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

let sim: InstrumentSim;
beforeAll(async () => {
  sim = await InstrumentSim.start();
});
afterAll(async () => {
  await sim.close();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('tcpbus, the built program', () => {
  it('`tcpbus sim --port 0` prints where it listens first, serves the bus, stops on SIGTERM', async () => {
    const app = startApp(builtMain(appDir), ['sim', '--port', '0']);
    try {
      const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(await app.firstLine());
      expect(m).not.toBeNull();
      const bus = new TcpBus({ defaultTimeoutMs: 5_000 });
      try {
        bus.init(1, `tcp(host=127.0.0.1,port=${m![1]})`);
        await bus.config(1);
        expect(await bus.wrnrdUntil(1, '*IDN?\\n', '\\n')).toBe('LABWIRE,TCPBUS-SIM,0001,1.0');
      } finally {
        await bus.close();
      }
    } finally {
      expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });

  it('--version, --help, and a script piped on stdin', async () => {
    const main = builtMain(appDir);
    expect(await runApp(main, ['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await runApp(main, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tcpbus');
    const piped = await runApp(main, [], {
      input: `init_tcp 1 ${sim.confString(',timeout=2')}\nconfig_tcp 1\nwrnrd_until_tcp 1 *IDN?\\n \\n\n`,
    });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toBe(`1 1\n1 127.0.0.1,${sim.port}\n1 LABWIRE,TCPBUS-SIM,0001,1.0\n`);
  });

  it('user mistakes: one line, the right exit status, never a stack trace', async () => {
    const main = builtMain(appDir);
    const missing = await runApp(main, ['--script', '/nonexistent/commands.tcpbus']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^tcpbus: cannot read the script \/nonexistent\/commands\.tcpbus: no such file\n/,
    );
    const remote = await runApp(main, ['sim', '--host', '0.0.0.0']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(
      /refusing to listen on 0\.0\.0\.0: not a loopback address\. Pass --allow-remote/,
    );
    const busy = await runApp(main, ['sim', '--port', String(sim.port)]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(
      `tcpbus: cannot listen on 127.0.0.1:${sim.port}: the port is in use (EADDRINUSE)\n`,
    );
    const bogus = await runApp(main, ['--bogus']);
    expect(bogus.code).toBe(2);
    const json = await runApp(main, ['--json', 'sim', '--port', 'x']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({
      error: { kind: 'usage', code: 'commander.invalidArgument' },
    });
    for (const r of [missing, remote, busy, bogus, json]) expect(r.stderr).not.toMatch(noStack);
  });
});

describe('rough edges (issue 13)', () => {
  it('a closed port says "refused"', async () => {
    const port = await freePort();
    const input = new PassThrough();
    input.end(`init_tcp 1 tcp(host=127.0.0.1,port=${port},timeout=2)\nconfig_tcp 1\n`);
    const out = await tcpbus([], input);
    expect(out.stdout).toBe(
      `1 1\n0 tcp: Error connecting to 127.0.0.1:${port} <- connection refused (nothing listens there)\n`,
    );
  });

  it('--strict stops at the first failure with exit status 1; --json prints JSON lines', async () => {
    const input = new PassThrough();
    input.end('config_tcp 7\ninit_tcp 7 tcp(host=127.0.0.1,port=1)\n');
    const strict = await tcpbus(['--strict', '--json'], input);
    expect(strict.code).toBe(1);
    expect(JSON.parse(strict.stdout)).toEqual({
      line: 1,
      call: 'config_tcp',
      retcode: 0,
      message: 'tcp: link_id 7 has not been found in the pool',
    });
    expect(strict.stderr).toBe('tcpbus: stopped at line 1 (--strict)\n');
  });

  it('what the device sends is escaped before it reaches the terminal', async () => {
    const input = new PassThrough();
    input.end(
      `init_tcp 1 ${sim.confString()}\nconfig_tcp 1\nwrnrd_until_tcp 1 "ECHO \\x1b]0;owned\\x07\\x1b[2J\\xc2\\x9b!\\n" \\n\n`,
    );
    const out = await tcpbus([], input);
    // Text mode reads bytes as latin1: C2 is "Â" (printable), 9B the one-byte CSI (escaped).
    expect(out.stdout.split('\n')[2]).toBe('1 \\x1b]0;owned\\x07\\x1b[2J\u00c2\\x9b!');
  });
});

/** The shell in-process on a stand-in terminal. */
function shell(argv: string[] = []) {
  const stdin = new PassThrough();
  const stdout = capture();
  const stderr = capture();
  const done = runTcpbus(argv, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin,
    terminal: true,
    env: {},
  });
  return { stdin, out: stdout.text, err: stderr.text, done, type: (s: string) => stdin.write(s) };
}

describe('the tcpbus shell', () => {
  it('Ctrl-C cancels a call that waits for its deadline; the link stays usable', async () => {
    const s = shell();
    s.type(`init_tcp 1 ${sim.confString()}\r`);
    s.type('config_tcp 1\r');
    s.type('read_tcp 1 10\r'); // the simulator sends nothing: 60 s by default
    await waitFor(() => s.out().includes(`1 127.0.0.1,${sim.port}`));
    await waitFor(() => sim.accepts > 0);
    s.type('\x03');
    await waitFor(() => /0 tcp: .*\(cancelled\)/.test(s.out()), { message: 'the cancelled read' });
    s.type('wrnrd_until_tcp 1 *IDN?\\n \\n\r');
    await waitFor(() => s.out().includes('1 LABWIRE,TCPBUS-SIM,0001,1.0\n'), { message: 'the next call' });
    s.type('quit\r');
    expect(await s.done).toBe(0);
  });

  it('Ctrl-C clears a half-typed line instead of quitting; Ctrl-D leaves', async () => {
    const s = shell();
    s.type('init_tcp 9 tcp(host=');
    s.type('\x03');
    s.type('getapi_tcp\r');
    await waitFor(() => s.out().includes('init_tcp(tcp_id,conf_string)'));
    s.type('\x04');
    expect(await s.done).toBe(0);
    expect(s.out()).not.toContain('1 9');
  });
});
