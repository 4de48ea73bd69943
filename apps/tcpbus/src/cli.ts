// tcpbus: a shell and script runner for Pyrame cmd_tcp calls, and a SCPI-like instrument simulator.
// This file defines the command line; the shell, the script runner and the simulator load when used.

import fs from 'node:fs/promises';
import readline from 'node:readline';
import {
  ALLOW_REMOTE_HELP,
  type CliIo,
  createProgram,
  ExitCode,
  readPackageVersion,
  runProgram,
  UsageError,
} from '@labwire/cli-kit';
import { InvalidArgumentError } from 'commander';

export interface TcpbusIo extends CliIo {
  /** Commands for the shell or a script (default: none). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Run the shell with line editing and keys even if `stdin` is not a terminal (tests). */
  terminal?: boolean;
}

function integer(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be ${min}..${max}, got ${JSON.stringify(text)}`);
    return n;
  };
}

const VERSION = readPackageVersion(new URL('../package.json', import.meta.url));

interface MainOptions {
  script?: string;
  strict?: boolean;
  history?: string;
  json?: boolean;
  timeout?: number;
}

async function openScript(file: string): Promise<NodeJS.ReadableStream> {
  try {
    const handle = await fs.open(file, 'r');
    return handle.createReadStream({ encoding: 'utf8' });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : e.code === 'EISDIR'
          ? 'it is a directory'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
    throw new UsageError(`cannot read the script ${file}: ${why}`);
  }
}

async function runCalls(opts: MainOptions, io: TcpbusIo): Promise<number> {
  const { createCmdTcp, runScript } = await import('./runner');
  const cmd = createCmdTcp(opts.timeout === undefined ? undefined : opts.timeout * 1000);
  try {
    const interactive = opts.script === undefined && (io.terminal ?? io.stdin?.isTTY === true);
    if (interactive && io.stdin !== undefined) {
      const { runShell } = await import('./shell');
      await runShell(cmd, {
        input: io.stdin,
        output: io.stdout as unknown as NodeJS.WritableStream,
        historyFile: opts.history,
        terminal: true,
        json: opts.json === true,
        signal: io.signal,
      });
      return ExitCode.Ok;
    }
    const input = opts.script === undefined ? io.stdin : await openScript(opts.script);
    if (input === undefined) return ExitCode.Ok;
    const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      const summary = await runScript(cmd, lines, {
        strict: opts.strict === true,
        json: opts.json === true,
        signal: io.signal,
        write: (line) => io.stdout.write(`${line}\n`),
      });
      if (summary.stoppedAt !== undefined) {
        io.stderr.write(`tcpbus: stopped at line ${summary.stoppedAt} (--strict)\n`);
        return ExitCode.Failure;
      }
      return ExitCode.Ok;
    } finally {
      lines.close();
    }
  } finally {
    // The façade does not own a bus it was given: close both.
    await cmd.close();
    await cmd.bus.close();
  }
}

/** Runs tcpbus with `argv` (without the node and script names). Resolves with the exit status. */
export async function runTcpbus(argv: readonly string[], io: TcpbusIo): Promise<number> {
  let status: number = ExitCode.Ok;
  const program = createProgram({
    name: 'tcpbus',
    description:
      'Pyrame cmd_tcp calls (init_tcp, config_tcp, wrnrd_until_tcp, …), one per line: an interactive shell ' +
      '(Ctrl-C cancels a call, Ctrl-D leaves), or a script from --script FILE or from stdin when it is not a ' +
      'terminal. Each call prints "1 <result>" or "0 <error>".',
    version: VERSION,
    io,
  })
    .option('--script <file>', 'run the commands in FILE, then exit')
    .option('--strict', 'stop at the first failure and exit with status 1')
    .option('--history <file>', 'keep the shell history in FILE')
    .option(
      '--timeout <s>',
      "default deadline of every call, in seconds (cmd_tcp's default: 60)",
      (t: string) => {
        const v = Number(t);
        if (!(v > 0) || !Number.isFinite(v))
          throw new InvalidArgumentError(`timeout must be > 0 s, got "${t}"`);
        return v;
      },
    )
    .action(async () => {
      status = await runCalls(program.opts<MainOptions>(), io);
    });

  program
    .command('sim')
    .description(
      'run a line-oriented SCPI-like instrument (*IDN?, VOLT, MEAS?, STREAM, PROMPT, ECHO) on loopback',
    )
    .option('--port <n>', 'TCP port (0: any free port)', integer('port', 0, 65_535), 0)
    .option(
      '--host <address>',
      'address to listen on (a loopback address unless --allow-remote)',
      '127.0.0.1',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--interval <ms>', 'measurement stream interval', integer('interval', 1, 3_600_000), 100)
    .action(async (opts: { port: number; host: string; interval: number; allowRemote?: boolean }) => {
      const { serveSim } = await import('./sim-command');
      await serveSim({ ...opts, json: program.opts<MainOptions>().json === true }, io);
    });

  return runProgram(program, argv, { io, status: () => status });
}
