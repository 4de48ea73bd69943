import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { builtMain, runApp, startApp } from '@labwire/cli-kit/testing';
import { OptoMmpClient } from '@labwire/optommp';
import type { EpicSimulator, SimulatedFleet } from '@labwire/optommp/simulator';
import { waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { runEpicSim } from '../src/cli';

const noStack = /\n\s+at /;

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

/** Like withSim, for `--count`: waits until every device listens. */
async function withFleet(argv: string[], fn: (fleet: SimulatedFleet) => Promise<void>) {
  const stdout = capture();
  const stderr = capture();
  const stop = new AbortController();
  let started!: (fleet: SimulatedFleet) => void;
  const ready = new Promise<SimulatedFleet>((resolve) => (started = resolve));
  const exit = runEpicSim(argv, { stdout, stderr, env: {}, signal: stop.signal, onFleet: started });
  const fleet = await Promise.race([ready, exit.then(() => undefined)]);
  if (fleet !== undefined) {
    try {
      await fn(fleet);
    } finally {
      stop.abort();
    }
  }
  return { code: await exit, stdout: stdout.text(), stderr: stderr.text() };
}

const listeningPorts = (stdout: string) =>
  [...stdout.matchAll(/^listening on 127\.0\.0\.1:(\d+)$/gm)].map((m) => Number(m[1]));

/** Whether something accepts connections on 127.0.0.1:port. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** A port p where p, p + 1, …, p + n - 1 were all free a moment ago (found by listening on them). */
async function freeRun(n: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const servers: net.Server[] = [];
    const listen = (port: number) =>
      new Promise<number | undefined>((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(undefined));
        s.listen(port, '127.0.0.1', () => {
          servers.push(s);
          resolve((s.address() as net.AddressInfo).port);
        });
      });
    const base = await listen(0);
    let ok = base !== undefined && base + n - 1 <= 65_535;
    for (let i = 1; ok && i < n; i++) ok = (await listen(base! + i)) !== undefined;
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    if (ok) return base!;
  }
  throw new Error(`no run of ${n} free ports found`);
}

describe('epic-sim --count: a simulated fleet in one process', () => {
  it('N devices on free ports with --port 0: one "listening on" line each, all serving, each with inputs of its own that change', async () => {
    const r = await withFleet(['--count', '3', '--port', '0'], async (fleet) => {
      expect(fleet.size).toBe(3);
      const clients = fleet.ports.map((port) => new OptoMmpClient({ host: '127.0.0.1', port }));
      try {
        // Each device answers on its own port, a groov EPIC with the default rack.
        for (const c of clients) expect(await c.readModuleQuality()).toBe(0b1111n);
        // Inputs of its own: the same analog channel read from each device gives three different values.
        const values = await Promise.all(clients.map(async (c) => (await c.readAnalogPoint(2, 0)).value));
        expect(new Set(values).size).toBe(3);
        // And they change while the simulator runs.
        const first = values[0]!;
        await waitFor(async () => (await clients[0]!.readAnalogPoint(2, 0)).value !== first, {
          timeoutMs: 10_000,
          intervalMs: 20,
          message: 'the analog input of device 0 to change',
        });
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });
    expect(r.code, r.stderr).toBe(0);
    const ports = listeningPorts(r.stdout);
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(3);
    expect(
      r.stdout
        .split('\n')
        .slice(0, 3)
        .every((l) => l.startsWith('listening on ')),
    ).toBe(true);
    expect(r.stderr).toMatch(/^epic-sim: 3 devices on 127\.0\.0\.1:\d+ … 127\.0\.0\.1:\d+, each with/);
    // Stopped by the signal: every device closed.
    for (const port of ports) expect(await accepts(port)).toBe(false);
  });

  it('--port P: devices on P, P + 1, … in order; --rack FILE gives every device the same modules', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'epic-sim-fleet-'));
    const rack = path.join(dir, 'rack.json');
    await fs.writeFile(
      rack,
      JSON.stringify({
        modules: [
          { slot: 1, kind: 'analog-output', channels: 4, initial: [{ channel: 3, value: 2.5 }] },
          { slot: 6, kind: 'analog-input', channels: 2, drift: true },
        ],
      }),
    );
    try {
      let r: Awaited<ReturnType<typeof withFleet>> | undefined;
      let base = 0;
      // The run of free ports may be taken by another process between the look and the start: try again.
      for (let attempt = 0; attempt < 5; attempt++) {
        base = await freeRun(3);
        r = await withFleet(['--count', '3', '--port', String(base), '--rack', rack], async (fleet) => {
          expect(fleet.ports).toEqual([base, base + 1, base + 2]);
          for (const port of fleet.ports) {
            await using c = new OptoMmpClient({ host: '127.0.0.1', port });
            expect(await c.readModuleQuality()).toBe((1n << 1n) | (1n << 6n));
            expect(await c.getAnalogPointValue(1, 3)).toBe(2.5);
          }
        });
        if (r.code !== 1 || !r.stderr.includes('EADDRINUSE')) break;
      }
      expect(r!.code, r!.stderr).toBe(0);
      expect(listeningPorts(r!.stdout)).toEqual([base, base + 1, base + 2]);
      expect(r!.stderr).toContain('module 6: analog-input, 2 channels');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('--json: one object naming every device and how they answer', async () => {
    const r = await withFleet(
      [
        '--json',
        '--count',
        '2',
        '--port',
        '0',
        '--udp',
        '--answer',
        'serial',
        '--latency',
        '3',
        '--jitter',
        '2',
      ],
      async () => {},
    );
    expect(r.code, r.stderr).toBe(0);
    const first = JSON.parse(r.stdout.split('\n')[0]!);
    expect(first).toMatchObject({ answer: 'serial', latencyMs: 3, jitterMs: 2, powerupClearPending: false });
    expect(first.devices).toHaveLength(2);
    for (const d of first.devices) expect(d).toMatchObject({ host: '127.0.0.1', udp: { port: d.port } });
    expect(first.listening.port).toBe(first.devices[0].port);
    expect(first.rack).toHaveLength(4);
  });

  it('--answer first-only: only the first of several pipelined requests is answered (what mmp probe detects)', async () => {
    const r = await withFleet(['--count', '2', '--port', '0', '--answer', 'first-only'], async (fleet) => {
      for (const port of fleet.ports) {
        await using c = new OptoMmpClient({ host: '127.0.0.1', port });
        const p = await c.probePipelining({ burst: 4, burstTimeoutMs: 300, windows: [1] });
        expect(p).toMatchObject({ ok: false, sent: 4, answered: 1, recommendedWindow: 1 });
      }
    });
    expect(r.code, r.stderr).toBe(0);
    const d = await withFleet(['--count', '1', '--port', '0'], async (fleet) => {
      await using c = new OptoMmpClient({ host: '127.0.0.1', port: fleet.ports[0]! });
      const p = await c.probePipelining({ burst: 4, windows: [1] });
      expect(p).toMatchObject({ ok: true, answered: 4 });
    });
    expect(d.code, d.stderr).toBe(0);
  });

  it('--latency delays every answer; --jitter adds a random delay on top', async () => {
    const timed = async (port: number, n: number) => {
      await using c = new OptoMmpClient({ host: '127.0.0.1', port });
      await c.uptime(); // connected
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await c.uptime();
        times.push(performance.now() - t0);
      }
      return times;
    };
    const slow = await withFleet(['--count', '1', '--port', '0', '--latency', '150'], async (fleet) => {
      for (const t of await timed(fleet.ports[0]!, 3)) expect(t).toBeGreaterThanOrEqual(149);
    });
    expect(slow.code, slow.stderr).toBe(0);
    // 0..400 ms at random: ten answers all under 40 ms would happen once in 10^10 runs.
    const jitter = await withFleet(['--count', '1', '--port', '0', '--jitter', '400'], async (fleet) => {
      expect(Math.max(...(await timed(fleet.ports[0]!, 10)))).toBeGreaterThan(40);
    });
    expect(jitter.code, jitter.stderr).toBe(0);
  });

  it('usage mistakes: exit 2 with a one-line reason', async () => {
    for (const [argv, says] of [
      [['--count', '0'], 'a device count is 1..4096'],
      [['--count', '5000'], 'a device count is 1..4096'],
      [['--count', 'x'], 'a device count is 1..4096'],
      [['--count', '2', '--port', '65535'], 'needs ports up to 65536, beyond 65535'],
      [['--answer', 'sometimes'], '--answer is one of in-order, serial, first-only, out-of-order'],
      [['--latency', '-1'], '--latency is 0..3600000 ms'],
      [['--jitter', 'soon'], '--jitter is 0..3600000 ms'],
    ] as const) {
      const r = await withFleet([...argv], async () => {});
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toContain(says);
      expect(r.stderr).not.toMatch(noStack);
      expect(r.stdout).toBe('');
    }
  });

  it('a port of the run already taken: exit 1, says which, no device left listening', async () => {
    const base = await freeRun(3);
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(base + 2, '127.0.0.1', resolve));
    try {
      const r = await withFleet(['--count', '3', '--port', String(base)], async () => {});
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `epic-sim: cannot listen on 127.0.0.1:${base + 2}: the port is in use (EADDRINUSE)\n`,
      );
      expect(await accepts(base)).toBe(false);
      expect(await accepts(base + 1)).toBe(false);
    } finally {
      busy.close();
    }
  });
});

const appDir = path.resolve(import.meta.dirname, '..');

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

  it('--count 3: three listening lines, then a clean stop on SIGINT that closes every device', async () => {
    const app = startApp(builtMain(appDir), ['--count', '3', '--port', '0']);
    let ports: number[] = [];
    try {
      await app.firstLine();
      ports = await waitFor(
        () => {
          const p = listeningPorts(app.stdout());
          return p.length === 3 ? p : undefined;
        },
        { timeoutMs: 10_000, message: 'three listening lines' },
      );
      for (const port of ports) {
        await using c = new OptoMmpClient({ host: '127.0.0.1', port });
        expect(await c.firmwareVersion()).toBe('R4.1c');
      }
    } finally {
      expect(await app.stop('SIGINT'), app.stderr()).toEqual({ code: 0, signal: null });
    }
    for (const port of ports) expect(await accepts(port)).toBe(false);
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
