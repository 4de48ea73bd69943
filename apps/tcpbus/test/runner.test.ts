// The script runner and the shell, in-process against the simulator.

import { PassThrough } from 'node:stream';
import { CmdTcp } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { helpText, runLine, runScript, runShell, ScriptSyntaxError, tokenize } from '../src/index';

let sim: InstrumentSim;
let cmd: CmdTcp;

beforeEach(async () => {
  sim = await InstrumentSim.start();
  cmd = new CmdTcp({ defaultTimeoutMs: 2_000 });
});

afterEach(async () => {
  await cmd.close();
  await sim.close();
});

describe('tokenize', () => {
  it('splits on spaces and tabs, leaving escapes to the bus', () => {
    expect(tokenize('wrnrd_until_tcp 1 *IDN?\\n \\n')).toEqual(['wrnrd_until_tcp', '1', '*IDN?\\n', '\\n']);
    expect(tokenize('  a\t\tb  ')).toEqual(['a', 'b']);
  });

  it('takes double-quoted words with spaces, escaped quotes and empty words', () => {
    expect(tokenize('write_tcp 1 "VOLT 1.5\\n"')).toEqual(['write_tcp', '1', 'VOLT 1.5\\n']);
    expect(tokenize('write_tcp 1 "say \\"hi\\""')).toEqual(['write_tcp', '1', 'say \\"hi\\"']);
    expect(tokenize('write_tcp 1 ""')).toEqual(['write_tcp', '1', '']);
  });

  it('refuses an open quote', () => {
    expect(() => tokenize('write_tcp 1 "open')).toThrow(ScriptSyntaxError);
  });
});

describe('runScript', () => {
  it('runs one call per line and prints 1 <result> / 0 <error>', async () => {
    const out: string[] = [];
    const summary = await runScript(
      cmd,
      [
        '# a comment, then a blank line',
        '',
        `init_tcp 1 ${sim.confString()}`,
        'config_tcp 1',
        'wrnrd_until_tcp 1 *IDN?\\n \\n',
        'write_tcp 1 "VOLT 2.5\\n"',
        'wrnrd_until_tcp 1 VOLT?\\n \\n',
        'wrnrd_bin_until_tcp 1 2a4f50433f0a \\n',
        'read_tcp 1 1 0.05',
        'inval_tcp 1',
        'deinit_tcp 1',
      ],
      { write: (l) => out.push(l) },
    );
    expect(out).toEqual([
      '1 1',
      `1 127.0.0.1,${sim.port}`,
      '1 LABWIRE,TCPBUS-SIM,0001,1.0',
      '1 ok',
      '1 2.500000E+00',
      '1 31',
      `0 tcp: TCP link at 127.0.0.1:${sim.port} is not responding <- timed out`,
      '1 ok',
      '1 ok',
    ]);
    expect(summary).toEqual({ ok: 8, failed: 1 });
  });

  it('--strict stops at the first failure', async () => {
    const out: string[] = [];
    const summary = await runScript(cmd, ['config_tcp 7', `init_tcp 7 ${sim.confString()}`], {
      strict: true,
      write: (l) => out.push(l),
    });
    expect(out).toEqual(['0 tcp: link_id 7 has not been found in the pool']);
    expect(summary).toEqual({ ok: 0, failed: 1, stoppedAt: 1 });
  });

  it('reads lines from an async source, prints help, and stops at quit', async () => {
    async function* lines() {
      yield 'help config';
      yield 'wrnrd_tcp 1';
      yield 'write_tcp 1 "unterminated';
      yield 'quit';
      yield 'init_tcp 9 tcp(host=127.0.0.1,port=1)';
    }
    const out: string[] = [];
    const summary = await runScript(cmd, lines(), { write: (l) => out.push(l) });
    expect(out[0]).toMatch(/^config_tcp tcp_id\n/);
    expect(out[1]).toMatch(/^0 tcp: wrnrd_tcp takes 3 to 4 parameter/);
    expect(out[2]).toMatch(/^0 unterminated quote/);
    expect(out).toHaveLength(3);
    expect(summary.failed).toBe(2);
    expect(cmd.bus.links()).toEqual([]);
  });
});

describe('help', () => {
  it('lists every command, and explains one with an example', () => {
    const all = helpText();
    for (const name of ['init_tcp', 'wrnrd_until_tcp', 'expect_tcp', 'help', 'quit'])
      expect(all).toContain(name);
    expect(helpText('wrnrd_until_tcp')).toContain('example: wrnrd_until_tcp 1 *IDN?\\n \\n');
    expect(helpText('read')).toMatch(/^read_tcp tcp_id bytes_to_read \[timeout\]/);
    expect(helpText('nope')).toMatch(/no command nope/);
  });

  it('runLine answers help without touching the bus', async () => {
    expect(await runLine(cmd, 'help')).toMatchObject({ kind: 'help' });
    expect(await runLine(cmd, '   ')).toEqual({ kind: 'empty' });
  });
});

describe('runShell', () => {
  it('reads commands, prints results and help, and ends at quit', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const done = runShell(cmd, { input, output, terminal: false });
    input.write(`init_tcp 1 ${sim.confString()}\n`);
    input.write('config_tcp 1\n');
    input.write('wrnrd_until_tcp 1 *IDN?\\n \\n\n');
    input.write('help expect_tcp\n');
    input.write('config_tcp 2\n');
    input.write('quit\n');
    expect(await done).toBe(1);
    expect(text).toContain('1 LABWIRE,TCPBUS-SIM,0001,1.0');
    expect(text).toContain('expect_tcp tcp_id pattern [timeout]');
    expect(text).toContain('0 tcp: link_id 2 has not been found in the pool');
  });

  it('keeps its history in a file when asked (runShell directly)', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'tcpbus-')), 'history');
    writeFileSync(file, 'getapi_tcp\n');
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const done = runShell(cmd, { input, output, terminal: true, historyFile: file });
    input.write('help\r');
    input.write('quit\r');
    await done;
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toEqual(['getapi_tcp', 'help', 'quit']);
  });
});
