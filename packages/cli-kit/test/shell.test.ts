// The shared interactive shell through a stream harness: a PassThrough stands in for the terminal, and
// the bytes a terminal sends for each key (Ctrl-C = 0x03, Ctrl-D = 0x04, Enter = CR, arrows = ESC [ A)
// are written to it, so readline's own key handling runs exactly as on a terminal.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { InteractiveShell, ShellInterrupt } from '../src/index';

/** What the terminal shows, without cursor movement and erase sequences. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI sequences start with ESC
const plain = (screen: string) => screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

function harness(options: { terminal?: boolean; historyFile?: string } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (d: Buffer) => {
    screen += d.toString('utf8');
  });
  const ran: string[] = [];
  const signals: AbortSignal[] = [];
  const shell = new InteractiveShell({
    input,
    output,
    prompt: 'test> ',
    terminal: options.terminal ?? true,
    historyFile: options.historyFile,
    completer: (line) => [['status', 'stop', 'quit'].filter((w) => w.startsWith(line)), line],
    run: async (line, signal) => {
      ran.push(line);
      signals.push(signal);
      if (line === 'quit') return 'quit';
      if (line === 'fail') throw new Error('it failed');
      if (line.startsWith('wait')) {
        // A call that only ends when cancelled.
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      }
      output.write(`did ${line}\n`);
      return undefined;
    },
  });
  const done = shell.run();
  return { input, shell, done, ran, signals, screen: () => screen, type: (s: string) => input.write(s) };
}

describe('InteractiveShell on a terminal', () => {
  it('runs lines with a prompt and ends at quit', async () => {
    const h = harness();
    h.type('status\r');
    h.type('quit\r');
    await h.done;
    expect(h.ran).toEqual(['status', 'quit']);
    expect(h.screen()).toContain('test> ');
    expect(h.screen()).toContain('did status');
  });

  it('Ctrl-C with a half-typed line clears the line and does not quit', async () => {
    const h = harness();
    h.type('stat');
    h.type('\x03');
    h.type('stop\r');
    await waitFor(() => h.ran.length === 1);
    expect(h.ran).toEqual(['stop']); // not "statstop"
    expect(h.shell.busy).toBe(false);
    h.type('quit\r');
    await h.done;
  });

  it('Ctrl-C on an empty line says how to leave, and stays', async () => {
    const h = harness();
    h.type('\x03');
    await waitFor(() => h.screen().includes('(to leave, press Ctrl-D or type quit)'));
    h.type('status\r');
    await waitFor(() => h.ran.length === 1);
    h.type('quit\r');
    await h.done;
    expect(h.ran).toEqual(['status', 'quit']);
  });

  it('Ctrl-C cancels the running call (its signal aborts) and drops type-ahead; the shell goes on', async () => {
    const h = harness();
    h.type('wait 60\r');
    await waitFor(() => h.shell.busy);
    h.type('status\r'); // typed ahead while the call runs: dropped by the Ctrl-C
    h.type('\x03');
    await waitFor(() => !h.shell.busy);
    expect(h.signals[0]!.aborted).toBe(true);
    expect(h.signals[0]!.reason).toBeInstanceOf(ShellInterrupt);
    expect(h.screen()).toContain('error: cancelled (Ctrl-C)');
    h.type('stop\r');
    await waitFor(() => h.ran.length === 2);
    h.type('quit\r');
    await h.done;
    expect(h.ran).toEqual(['wait 60', 'stop', 'quit']);
  });

  it('lines typed while a call runs are kept and run in order', async () => {
    const h = harness();
    h.type('fail\r');
    h.type('status\r');
    h.type('stop\r');
    h.type('quit\r');
    await h.done;
    expect(h.ran).toEqual(['fail', 'status', 'stop', 'quit']);
    expect(h.screen()).toContain('error: it failed');
  });

  it('Ctrl-D on an empty line leaves; during a call it cancels the call first', async () => {
    const h = harness();
    h.type('\x04');
    await h.done;
    expect(h.ran).toEqual([]);
    const g = harness();
    g.type('wait\r');
    await waitFor(() => g.shell.busy);
    g.type('\x04');
    await g.done;
    expect(g.signals[0]!.aborted).toBe(true);
  });

  it('print() writes above the prompt and redraws the half-typed line', async () => {
    const h = harness();
    await waitFor(() => h.screen().includes('test> '));
    h.type('sta');
    await waitFor(() => h.screen().endsWith('sta'));
    h.shell.print('+ client c1 connected');
    expect(plain(h.screen())).toMatch(/\+ client c1 connected\ntest> sta$/);
    h.type('tus\r');
    await waitFor(() => h.ran.length === 1);
    expect(h.ran).toEqual(['status']);
    h.shell.close();
    await h.done;
  });

  it('Tab completes, arrows recall history, and history is kept in a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-kit-'));
    const file = path.join(dir, 'history');
    fs.writeFileSync(file, 'stop\n');
    const h = harness({ historyFile: file });
    h.type('sta');
    h.type('\t'); // completes to "status" (a Tab inside pasted text would stay a Tab)
    await waitFor(() => plain(h.screen()).endsWith('test> status'));
    h.type('\r');
    await waitFor(() => h.ran.length === 1);
    h.type('\x1b[A\x1b[A\r'); // up twice: "stop" from the file (after "status")
    await waitFor(() => h.ran.length === 2);
    h.type('quit\r');
    await h.done;
    expect(h.ran).toEqual(['status', 'stop', 'quit']);
    expect(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)).toEqual(['status', 'stop', 'quit']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('InteractiveShell on piped input', () => {
  it('runs every line in order without a prompt and ends after the last one', async () => {
    const h = harness({ terminal: false });
    h.input.end('status\nfail\nstop\n');
    await h.done;
    expect(h.ran).toEqual(['status', 'fail', 'stop']);
    expect(h.screen()).not.toContain('test> ');
  });

  it('keeps order and bounds the queue for a long script', async () => {
    const h = harness({ terminal: false });
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    h.input.end(`${lines.join('\n')}\n`);
    await h.done;
    expect(h.ran).toEqual(lines);
  });
});
