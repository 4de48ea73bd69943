import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { type CliIo, createProgram, printResult, runProgram, UsageError } from '../src/index';

function capture() {
  const chunks: string[] = [];
  return { write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

class DeviceNakError extends Error {
  readonly code = 'DeviceNak';
  readonly deviceCode = 0xe005;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = { stdout, stderr, env };
  const program = createProgram({ name: 'tool', description: 'a test tool', version: '1.2.3', io });
  const json = () => program.opts<{ json?: boolean }>().json === true;
  program
    .command('count')
    .argument('<n>', 'a number', (t: string) => {
      if (!/^\d+$/.test(t)) throw new InvalidArgumentError(`n must be a whole number, got "${t}"`);
      return Number(t);
    })
    .action((n: number) => printResult(io, json(), `count ${n}`, { n }));
  program.command('usage').action(() => {
    throw new UsageError('--port needs --host');
  });
  program.command('nak').action(() => {
    throw new DeviceNakError('the device refused: E005 at F0F00000');
  });
  program.command('missing').action(() => {
    throw Object.assign(new Error("ENOENT: no such file or directory, open '/missing'"), { code: 'ENOENT' });
  });
  program
    .command('evil')
    .action(() => printResult(io, json(), 'name = \x1b[2Jgone', { name: '\x1b[2Jgone' }));
  const code = await runProgram(program, argv, {
    io,
    errorFields: (e) => (e instanceof DeviceNakError ? { deviceCode: 'E005' } : {}),
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('the shared command-line frame', () => {
  it('--version and --help exit 0', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: '1.2.3\n', stderr: '' });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('-V, --version');
    expect(help.stdout).toContain('--json');
  });

  it('usage errors exit 2, in text and in JSON, from commander and from the app', async () => {
    for (const argv of [['--bogus'], ['count', 'x'], ['count'], ['nope'], [], ['usage']]) {
      const text = await run(argv);
      expect(text.code, argv.join(' ')).toBe(2);
      // No command at all: commander prints the whole help; otherwise one line and a pointer to it.
      expect(text.stderr).toContain(argv.length === 0 ? 'Usage: tool' : 'tool --help shows the usage');
      expect(text.stderr).not.toMatch(/\n\s+at /);
      const json = await run([...argv, '--json']);
      expect(json.code, argv.join(' ')).toBe(2);
      const line = JSON.parse(json.stderr) as { error: { kind: string; message: string } };
      expect(line.error.kind).toBe('usage');
      expect(line.error.message.length).toBeGreaterThan(0);
    }
    expect(JSON.parse((await run(['count', 'x', '--json'])).stderr).error.message).toContain(
      'n must be a whole number, got "x"',
    );
    expect((await run(['usage'])).stderr).toBe('tool: --port needs --host\n(tool --help shows the usage)\n');
  });

  it('run-time failures exit 1 with one line, or one JSON object with the extra fields', async () => {
    const text = await run(['nak']);
    expect(text).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tool: DeviceNak: the device refused: E005 at F0F00000\n',
    });
    const json = await run(['--json', 'nak']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({
      error: {
        kind: 'failure',
        code: 'DeviceNak',
        message: 'the device refused: E005 at F0F00000',
        deviceCode: 'E005',
      },
    });
    expect((await run(['missing'])).stderr).toBe(
      "tool: ENOENT: no such file or directory, open '/missing'\n",
    );
  });

  it('prints a stack only when LABWIRE_DEBUG=1', async () => {
    expect((await run(['nak'])).stderr).not.toContain('    at ');
    expect((await run(['nak'], { LABWIRE_DEBUG: '1' })).stderr).toContain('    at ');
  });

  it('results: escaped text, or exact JSON', async () => {
    expect((await run(['evil'])).stdout).toBe('name = \\x1b[2Jgone\n');
    expect(JSON.parse((await run(['evil', '--json'])).stdout)).toEqual({ name: '\x1b[2Jgone' });
    expect(JSON.parse((await run(['--json', 'count', '7'])).stdout)).toEqual({ n: 7 });
  });
});
