// A real MQTT broker for integration tests: Debian's `mosquitto` started as a child process on an
// ephemeral loopback port with a generated configuration (listener on 127.0.0.1 only, anonymous clients,
// no persistence, no log), stopped by its PID. `.ci/run` installs the package when it is missing.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface MosquittoBroker {
  readonly name: 'mosquitto';
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** PID of the running broker (undefined while killed). */
  readonly pid: number | undefined;
  /** Stops the broker abruptly (SIGKILL): nothing is flushed, connections drop. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Kills it and removes its configuration directory. */
  close(): Promise<void>;
}

const SEARCH = ['/usr/sbin', '/usr/local/sbin'];

/** Where the `mosquitto` binary is (PATH, then the sbin directories), if installed. */
export function mosquittoBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(SEARCH)) {
    const p = path.join(dir, 'mosquitto');
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

export function mosquittoAvailable(): boolean {
  return mosquittoBinary() !== undefined;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Starts Mosquitto on a free loopback port. `extraConfig` lines are appended to the generated
 * configuration (e.g. `max_queued_messages 1000`).
 */
export async function startMosquitto(
  options: { extraConfig?: readonly string[]; startTimeoutMs?: number } = {},
): Promise<MosquittoBroker> {
  const bin = mosquittoBinary();
  if (bin === undefined)
    throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto; .ci/run installs it)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest none',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    child.on('error', () => {});
    await waitListening(port, child, timeoutMs);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      process.kill(c.pid!, 'SIGKILL');
    });
  };
  await launch();
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    kill,
    restart: launch,
    async close() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
