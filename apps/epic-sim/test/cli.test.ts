import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { builtMain, runApp, startApp } from '@labwire/cli-kit/testing';
import { OptoMmpClient } from '@labwire/optommp';
import type { EpicSimulator } from '@labwire/optommp/simulator';
import { waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { runEpicSim } from '../src/cli';

function capture() {
  const out: string[] = [];
  return { write: (s: string) => out.push(s), text: () => out.join('') };
}

/** Starts the CLI in-process, waits until it listens, runs `fn`, stops it, returns exit code and output. */
async function withSim(argv: string[], fn: (sim: EpicSimulator) => Promise<void>) {
  const stdout = capture();
  const stderr = capture();
  const stop = new AbortController();
  let listening!: (sim: EpicSimulator) => void;
  const ready = new Promise<EpicSimulator>((resolve) => (listening = resolve));
  const exit = runEpicSim(argv, { stdout, stderr, env: {}, signal: stop.signal, onListening: listening });
  const sim = await Promise.race([ready, exit.then(() => undefined)]);
  if (sim !== undefined) {
    try {
      await fn(sim);
    } finally {
      stop.abort();
    }
  }
  return { code: await exit, stdout: stdout.text(), stderr: stderr.text() };
}

describe('epic-sim (in-process)', () => {
  it('prints "listening on host:port" first and serves the default rack', async () => {
    const r = await withSim(['--port', '0'], async (sim) => {
      await using client = new OptoMmpClient({ host: '127.0.0.1', port: sim.port });
      expect(await client.getDigitalPointState(0, 0)).toBe(false);
      expect((await client.readAnalogPoint(2, 3)).value).toBeGreaterThan(0);
      expect(await client.readModuleQuality()).toBe(0b1111n);
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^listening on 127\.0\.0\.1:\d+$/);
    expect(r.stderr).toContain('module 3: analog-output, 8 channels');
  });

  it('--puc starts with a Powerup Clear pending; --udp serves UDP on the same port', async () => {
    const r = await withSim(['--port', '0', '--puc', '--udp'], async (sim) => {
      await using client = new OptoMmpClient({ host: '127.0.0.1', port: sim.port, transport: 'udp' });
      await expect(client.getScratchPadIntegerArea(0)).rejects.toMatchObject({ deviceCode: 0xe004 });
      await client.powerupClear();
      await client.setScratchPadIntegerArea(0, 12);
      expect(await client.getScratchPadIntegerArea(0)).toBe(12);
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nudp on 127\.0\.0\.1:\d+\n/);
  });

  it('--rack FILE.json configures the modules; a bad file is a usage error', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'epic-sim-'));
    const good = path.join(dir, 'rack.json');
    await fs.writeFile(
      good,
      JSON.stringify({
        modules: [{ slot: 5, kind: 'analog-output', channels: 4, initial: [{ channel: 2, value: 7.5 }] }],
      }),
    );
    const r = await withSim(['--port', '0', '--rack', good], async (sim) => {
      await using client = new OptoMmpClient({ host: '127.0.0.1', port: sim.port });
      expect(await client.getAnalogPointValue(5, 2)).toBe(7.5);
      expect(await client.readModuleQuality()).toBe(1n << 5n);
    });
    expect(r.code).toBe(0);
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(bad, JSON.stringify({ modules: [{ slot: 99, kind: 'digital-input', channels: 4 }] }));
    const b = await withSim(['--port', '0', '--rack', bad], async () => {});
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('modules[0].slot');
    await fs.rm(dir, { recursive: true });
  });

  it('rejects a bad port as a usage error', async () => {
    const r = await withSim(['--port', 'x'], async () => {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('port');
  });
});

const appDir = path.resolve(import.meta.dirname, '..');
const noStack = /\n\s+at /;

describe('epic-sim, the built program (dist/main.js through its shebang, no tsx)', () => {
  it('runs, serves, and stops cleanly on SIGTERM', async () => {
    const app = startApp(builtMain(appDir), ['--port', '0']);
    try {
      const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(await app.firstLine());
      expect(m).not.toBeNull();
      await using client = new OptoMmpClient({ host: '127.0.0.1', port: Number(m![1]) });
      expect(await client.firmwareVersion()).toBe('R4.1c');
    } finally {
      expect(await app.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });

  it('--version', async () => {
    const version = JSON.parse(await fs.readFile(path.join(appDir, 'package.json'), 'utf8')).version;
    expect(await runApp(builtMain(appDir), ['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});

describe('rough edges (issue 13)', () => {
  it('a non-loopback --host is refused without --allow-remote: exit 2, one line, no stack', async () => {
    const r = await withSim(['--host', '0.0.0.0', '--port', '0'], async () => {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'epic-sim: refusing to listen on 0.0.0.0: not a loopback address. Pass --allow-remote',
    );
    expect(r.stderr).not.toMatch(noStack);
    expect(r.stdout).toBe('');
    const ok = await withSim(['--host', '127.0.0.1', '--allow-remote', '--port', '0'], async () => {});
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toContain('warning');
  });

  it('a busy port: exit 1, says so, no stack', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const r = await withSim(['--port', String(port)], async () => {});
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `epic-sim: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)\n`,
      );
      const j = await withSim(['--json', '--port', String(port)], async () => {});
      expect(JSON.parse(j.stderr)).toMatchObject({ error: { kind: 'failure', code: 'EADDRINUSE' } });
    } finally {
      busy.close();
    }
  });

  it('--json: the first line says where it listens, as JSON', async () => {
    const r = await withSim(['--json', '--port', '0', '--udp'], async () => {});
    const first = JSON.parse(r.stdout.split('\n')[0]!);
    expect(first).toMatchObject({ listening: { host: '127.0.0.1' }, udp: { host: '127.0.0.1' } });
    expect(first.rack).toHaveLength(4);
    expect((await withSim(['--json', '--port', 'x'], async () => {})).stderr).toMatch(/"kind":"usage"/);
  });

  it('killing the PID of `pnpm epic-sim` leaves no server behind', async () => {
    const root = path.resolve(appDir, '../..');
    // pnpm runs the root script, which execs scripts/run-app.mjs: the app runs in the process pnpm
    // started and gets the SIGTERM pnpm passes on. (No build from here: turbo built it before the tests.)
    const pnpm = startApp('pnpm', ['-s', 'epic-sim', '--port', '0'], {
      cwd: root,
      env: { ...process.env, LABWIRE_NO_BUILD: '1' },
    });
    const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(await pnpm.firstLine());
    expect(m, pnpm.stderr()).not.toBeNull();
    const port = Number(m![1]);
    pnpm.child.kill('SIGTERM'); // the PID of `pnpm`, as `kill <pid>` would
    await pnpm.exited;
    const refused = () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
      });
    await waitFor(refused, { timeoutMs: 10_000, intervalMs: 50, message: 'the port to be closed' });
  });
});
