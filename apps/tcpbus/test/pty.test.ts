// The tcpbus shell on a real pseudo-terminal: util-linux `script` (Debian's bsdutils, always installed)
// runs the built program on a pty, so readline puts a real terminal in raw mode and Ctrl-C arrives as a
// key (0x03), not as SIGINT. Keys are sent only once the screen shows what they answer (no sleeps).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { InstrumentSim } from '@labwire/bus/simulator';
import { builtMain } from '@labwire/cli-kit/testing';
import { waitFor } from '@labwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let sim: InstrumentSim;
beforeAll(async () => {
  sim = await InstrumentSim.start();
});
afterAll(async () => {
  await sim.close();
});

describe('tcpbus on a pseudo-terminal', () => {
  it('Ctrl-C cancels a pending read and clears a half-typed line; Ctrl-D leaves with status 0', async () => {
    const main = builtMain(path.resolve(import.meta.dirname, '..'));
    const child = spawn('script', ['-qec', main, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'dumb', COLUMNS: '100' },
    });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const prompts = () => screen.split('tcpbus> ').length - 1;
    const type = (keys: string) => child.stdin.write(keys);
    try {
      await waitFor(() => prompts() >= 1, { timeoutMs: 20_000, message: 'the first prompt' });
      type(`init_tcp 1 ${sim.confString()}\r`);
      await waitFor(() => prompts() >= 2, { timeoutMs: 10_000 });
      type('config_tcp 1\r');
      await waitFor(() => screen.includes(`1 127.0.0.1,${sim.port}`), { timeoutMs: 10_000 });
      await waitFor(() => prompts() >= 3, { timeoutMs: 10_000 });
      type('read_tcp 1 5\r'); // nothing comes: it would wait 60 s
      await waitFor(() => screen.includes('read_tcp 1 5'), { timeoutMs: 10_000 });
      type('\x03');
      await waitFor(() => screen.includes('(cancelled)'), {
        timeoutMs: 10_000,
        message: 'the cancelled read',
      });
      await waitFor(() => prompts() >= 4, { timeoutMs: 10_000 });
      type('init_tcp 2 tcp(');
      await waitFor(() => screen.includes('init_tcp 2 tcp('), { timeoutMs: 10_000 });
      type('\x03');
      await waitFor(() => prompts() >= 5, { timeoutMs: 10_000, message: 'a fresh prompt' });
      type('\x04');
      expect(await exited).toBe(0);
      expect(screen).not.toContain('1 2'); // the cleared line never ran
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
