// The command-line frame every labwire app shares, on commander: --help, --version, the exit-status
// rule (exit-codes.ts), errors as one line `<app>: <message>` (never a stack trace, unless
// LABWIRE_DEBUG=1) or, under --json, as one JSON object on stderr: {"error":{"kind","code","message",…}}.
// Usage errors found by commander itself (unknown option, bad value, missing argument) follow the same
// rule, in JSON too.

import { Command } from 'commander';
import { escapeControl } from './escape';
import { ExitCode, isCommanderError, isUsageError } from './exit-codes';
import { terminalWidth, type WidthSource } from './table';

export interface CliOutput extends WidthSource {
  write(text: string): unknown;
}

/** Where an app reads and writes: process streams in main.ts, buffers in tests. */
export interface CliIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Aborts on SIGINT/SIGTERM/SIGHUP (main.ts wires it with stopOnSignals). */
  signal?: AbortSignal | undefined;
  /** Environment (LABWIRE_DEBUG, COLUMNS). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface ProgramOptions {
  name: string;
  description: string;
  version: string;
  io: CliIo;
  /** Declare a global --json option (results and errors as JSON). Default true. */
  json?: boolean;
}

/** Commander's mutable state the frame needs while parsing. */
interface FrameState {
  json: boolean;
}
const FRAME = new WeakMap<Command, FrameState>();

/**
 * A commander program with the shared settings: errors thrown to the caller instead of exiting, output
 * through `io`, help wrapped to the terminal, -V/--version, and --json. Add subcommands after this (they
 * inherit the settings).
 */
export function createProgram(options: ProgramOptions): Command {
  const { io } = options;
  const state: FrameState = { json: false };
  const program = new Command(options.name)
    .description(options.description)
    .version(options.version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Under --json commander writes nothing to stderr (its errors and the help it shows for them): the
      // frame reports the error as one JSON object.
      writeErr: (s) => {
        if (!state.json) io.stderr.write(s);
      },
      getOutHelpWidth: () => Math.min(terminalWidth(io.stdout, io.env), 120),
      getErrHelpWidth: () => Math.min(terminalWidth(io.stderr, io.env), 120),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  if (options.json !== false) program.option('--json', 'print results, and errors, as JSON');
  program.addHelpCommand(false);
  FRAME.set(program, state);
  return program;
}

export interface RunOptions {
  /** Extra JSON fields for an error (e.g. a device's own error code). */
  errorFields?: (error: unknown) => Record<string, unknown>;
  /** One-line text of a runtime error. Default: `<code>: <message>` for coded errors, else the message. */
  describe?: (error: unknown) => string;
  /** Further errors that are the user's mistake (exit status 2), e.g. a library's argument checks. */
  usage?: (error: unknown) => boolean;
}

/** The text of an error for a person: `code: message` when it has a labwire-style code. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // LabwireError codes are words (Timeout, DeviceNak); Node's system codes (ENOENT) are already in
    // their messages.
    if (typeof code === 'string' && /^[A-Z][a-z]/.test(code)) return `${code}: ${error.message}`;
    return error.message;
  }
  return String(error);
}

function commanderMessage(e: Error & { code: string }): string {
  if (e.code === 'commander.help' || e.code === 'commander.helpDisplayed') return 'a command is needed';
  return e.message.replace(/^error: /, '');
}

/**
 * Parses `argv` (without node and the script) and runs the matched command. Resolves with the exit
 * status: 0, or what `status()` says after the action (for commands that count failures); 1 for an error
 * at run time; 2 for a usage error. Never rejects for an error of the command.
 */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  options: RunOptions & { io: CliIo; status?: () => number },
): Promise<number> {
  const state = FRAME.get(program) ?? { json: false };
  // --json must hold before parsing, so a usage error found while parsing is reported as JSON too.
  state.json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return options.status?.() ?? ExitCode.Ok;
  } catch (error) {
    return reportError(program.name(), error, state.json, options);
  }
}

/** Prints `error` (text or JSON) and returns its exit status. */
export function reportError(
  name: string,
  error: unknown,
  json: boolean,
  options: RunOptions & { io: CliIo },
): number {
  const { io } = options;
  if (isCommanderError(error) && error.exitCode === 0) return ExitCode.Ok; // help or version shown
  const usage = isUsageError(error) || options.usage?.(error) === true;
  const status = usage ? ExitCode.Usage : ExitCode.Failure;
  const fromCommander = isCommanderError(error);
  const message = fromCommander
    ? commanderMessage(error)
    : usage
      ? (error as Error).message
      : (options.describe ?? describeError)(error);
  if (json) {
    const code =
      (error as { code?: unknown })?.code ?? (usage ? 'Usage' : ((error as Error)?.name ?? 'Error'));
    const body = {
      kind: usage ? 'usage' : 'failure',
      code,
      message: fromCommander || usage ? message : ((error as Error)?.message ?? String(error)),
      ...options.errorFields?.(error),
    };
    io.stderr.write(`${JSON.stringify({ error: body })}\n`);
    return status;
  }
  // Commander already printed its own message (with suggestions); everything else is printed here.
  if (!fromCommander) io.stderr.write(`${name}: ${escapeControl(message)}\n`);
  // (Commander's `commander.help` error has just printed the whole help.)
  if (usage && !(fromCommander && error.code === 'commander.help'))
    io.stderr.write(`(${name} --help shows the usage)\n`);
  if ((io.env ?? process.env).LABWIRE_DEBUG === '1' && error instanceof Error && error.stack)
    io.stderr.write(`${error.stack}\n`);
  return status;
}

/** Writes `human` (control characters other than line breaks escaped) or `json`, as `--json` says. */
export function printResult(io: CliIo, json: boolean, human: string, value: unknown): void {
  io.stdout.write(`${json ? toJson(value) : safeLines(human)}\n`);
}

function safeLines(text: string): string {
  return text
    .split('\n')
    .map((l) => escapeControl(l))
    .join('\n');
}

/** JSON that can hold bigints (decimal strings), bytes (hex) and non-finite numbers (their names). */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v;
    },
    indent,
  );
}
