// The one spawned-process smoke test: `tcpbus sim --port 0` prints where it listens as its first line,
// and answers the bus there.

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { TcpBus } from '@labwire/bus';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const main = path.resolve(import.meta.dirname, '../src/main.ts');
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

describe('tcpbus sim (spawned)', () => {
  it('prints "listening on 127.0.0.1:<port>" first and serves *IDN?', async () => {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@labwire/source', main, 'sim', '--port', '0'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines = readline.createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no output from tcpbus sim')), 15_000);
      lines.once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child!.once('exit', (code) => reject(new Error(`tcpbus sim exited with ${code}`)));
    });
    lines.close();
    const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(first);
    expect(m).not.toBeNull();
    const bus = new TcpBus({ defaultTimeoutMs: 5_000 });
    try {
      bus.init(1, `tcp(host=127.0.0.1,port=${m![1]})`);
      await bus.config(1);
      expect(await bus.wrnrdUntil(1, '*IDN?\\n', '\\n')).toBe('LABWIRE,TCPBUS-SIM,0001,1.0');
    } finally {
      await bus.close();
    }
  });
});
