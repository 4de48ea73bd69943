// The tcpbus command language: one Pyrame-style call per line, `name arg arg …`, answered `1 <result>` or
// `0 <error>` (cmd_tcp's own results, through the CmdTcp façade).
//
// Arguments are separated by spaces or tabs. Backslash escapes (\n, \r, \e, \xHH, …) are left for the bus
// to decode, exactly as cmd_tcp decodes them. An argument with spaces goes in double quotes:
// `write_tcp 1 "VOLT 1.5\n"`; `""` is an empty argument. Inside quotes a backslash keeps the next
// character in the argument (so `\"` does not end it). Lines starting with `#` and blank lines are skipped.

import { CMD_TCP_API, CmdTcp, type PyrameResult, pyrameResult } from '@labwire/bus';
import { escapeControl, safeText, wrapText } from '@labwire/cli-kit';
import { CancellableBus } from './cancellable-bus';

export class ScriptSyntaxError extends Error {
  override readonly name = 'ScriptSyntaxError';
}

/** Splits one line into words (see the file comment). Throws ScriptSyntaxError on an open quote. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let word = '';
    if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '\\' && i + 1 < line.length) {
          word += d + line[i + 1]!;
          i += 2;
        } else if (d === '"') {
          closed = true;
          i++;
          break;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw new ScriptSyntaxError(`unterminated quote in: ${line}`);
    } else {
      while (i < line.length && line[i] !== ' ' && line[i] !== '\t') word += line[i++]!;
    }
    words.push(word);
  }
  return words;
}

/**
 * `1 <message>` or `0 <message>`, for a terminal: the message comes from the device (or names its
 * bytes), so control characters are escaped (`\x1b`, `\x07`, …). Only getapi_tcp's list, which is ours,
 * keeps its line breaks.
 */
export function formatResult(result: PyrameResult, name?: string): string {
  const message = name === 'getapi_tcp' ? safeText(result.message) : escapeControl(result.message);
  return `${result.retcode} ${message}`;
}

/** A cmd_tcp façade on a bus whose calls the shell can cancel (Ctrl-C). */
export function createCmdTcp(defaultTimeoutMs?: number): CmdTcp {
  return new CmdTcp(new CancellableBus(defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs }));
}

/** Why a connect failed, in cmd_tcp's ` <- reason` style: connection refused, no answer, … */
function connectReason(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: unknown; timeoutMs?: unknown } })?.cause;
  if (cause === undefined) return undefined;
  if (cause.code === 'ConnectRefused') return 'connection refused (nothing listens there)';
  if (cause.code === 'ConnectTimeout') return `no answer within ${String(cause.timeoutMs)} ms`;
  return typeof cause.message === 'string' ? cause.message : undefined;
}

const EXAMPLES: Readonly<Record<string, string>> = {
  init_tcp: 'init_tcp 1 tcp(host=127.0.0.1,port=5025,timeout=2)',
  config_tcp: 'config_tcp 1',
  inval_tcp: 'inval_tcp 1',
  deinit_tcp: 'deinit_tcp 1',
  write_tcp: 'write_tcp 1 "VOLT 1.5\\n"',
  write_bin_tcp: 'write_bin_tcp 1 2a49444e3f0a',
  read_tcp: 'read_tcp 1 9 0.5',
  read_bin_tcp: 'read_bin_tcp 1 4',
  read_until_tcp: 'read_until_tcp 1 \\n',
  read_bin_until_tcp: 'read_bin_until_tcp 1 \\r\\n,\\n',
  wrnrd_tcp: 'wrnrd_tcp 1 *OPC?\\n 2',
  wrnrd_bin_tcp: 'wrnrd_bin_tcp 1 2a4f50433f0a 2',
  wrnrd_until_tcp: 'wrnrd_until_tcp 1 *IDN?\\n \\n',
  wrnrd_bin_until_tcp: 'wrnrd_bin_until_tcp 1 2a49444e3f0a \\n',
  expect_tcp: 'expect_tcp 1 "> " 2',
  getapi_tcp: 'getapi_tcp',
};

/** The names the shell knows: cmd_tcp's functions and its own words. */
export const SHELL_WORDS: readonly string[] = [...CMD_TCP_API.map((f) => f.name), 'help', 'quit', 'exit'];

/** Help text: the list of commands, or one command in detail. */
export function helpText(topic?: string): string {
  if (topic === undefined) {
    const width = Math.max(...CMD_TCP_API.map((f) => f.name.length));
    return [
      'Commands (Pyrame cmd_tcp; each answers "1 <result>" or "0 <error>"):',
      ...CMD_TCP_API.map((f) => `  ${f.name.padEnd(width)}  ${f.params.join(' ')}`),
      '  help [command]   this list, or one command in detail',
      '  quit             leave (also exit, or Ctrl-D)',
      'Arguments are separated by spaces; quote one with spaces: "VOLT 1.5\\n".',
      'Escapes (\\n \\r \\t \\e \\xHH) are decoded by the bus. timeout is in seconds;',
      'undef (the default) means the link timeout. Ctrl-C cancels a running call.',
    ].join('\n');
  }
  const fn = CMD_TCP_API.find((f) => f.name === topic || f.name === `${topic}_tcp`);
  if (fn === undefined) {
    if (topic === 'help') return 'help [command]: the list of commands, or one command in detail';
    if (topic === 'quit' || topic === 'exit') return `${topic}: leave the shell`;
    return `no command ${topic}; type help for the list`;
  }
  const optional = fn.params.slice(fn.required).map((p) => `[${p}]`);
  return [
    `${fn.name} ${[...fn.params.slice(0, fn.required), ...optional].join(' ')}`.trimEnd(),
    ...wrapText(fn.doc, 76).map((l) => `  ${l}`),
    `  example: ${EXAMPLES[fn.name] ?? fn.name}`,
  ].join('\n');
}

/** What one line did: nothing (blank, comment), a command's result, help text, or a request to quit. */
export type LineOutcome =
  | { kind: 'empty' }
  | { kind: 'result'; name: string; result: PyrameResult }
  | { kind: 'help'; text: string }
  | { kind: 'quit' };

/**
 * Runs one line against the façade. Syntax errors become a `0 <error>` result. With a bus made by
 * createCmdTcp, `signal` cancels the call (its result is then a `0 …` failure).
 */
export async function runLine(cmd: CmdTcp, line: string, signal?: AbortSignal): Promise<LineOutcome> {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { kind: 'empty' };
  let words: string[];
  try {
    words = tokenize(trimmed);
  } catch (e) {
    return { kind: 'result', name: '', result: pyrameResult(0, (e as Error).message) };
  }
  const [name, ...args] = words as [string, ...string[]];
  if (name === 'help' || name === '?') return { kind: 'help', text: helpText(args[0]) };
  if (name === 'quit' || name === 'exit') return { kind: 'quit' };
  const bus = cmd.bus instanceof CancellableBus ? cmd.bus : undefined;
  if (bus === undefined) return { kind: 'result', name, result: await cmd.call(name, args) };
  let result = await bus.during(signal, () => cmd.call(name, args));
  if (result.retcode === 0 && signal?.aborted) result = pyrameResult(0, `${result.message} (cancelled)`);
  const reason =
    name === 'config_tcp' && result.retcode === 0 ? connectReason(bus.lastConfigError) : undefined;
  if (reason !== undefined) result = pyrameResult(0, `${result.message} <- ${reason}`);
  return { kind: 'result', name, result };
}

/** One result as a JSON line (for --json). */
export function resultJson(outcome: LineOutcome, line?: number): string {
  if (outcome.kind === 'result')
    return JSON.stringify({
      ...(line === undefined ? {} : { line }),
      call: outcome.name,
      retcode: outcome.result.retcode,
      message: outcome.result.message,
    });
  if (outcome.kind === 'help') return JSON.stringify({ help: outcome.text });
  return JSON.stringify({ [outcome.kind]: true });
}

export interface ScriptOptions {
  /** Stop at the first failure. */
  strict?: boolean;
  /** Where output lines go. */
  write: (line: string) => void;
  /** Results as JSON lines. */
  json?: boolean;
  /** Stops the script (the running call is cancelled). */
  signal?: AbortSignal | undefined;
}

export interface ScriptSummary {
  ok: number;
  failed: number;
  /** The 1-based line number where a strict run stopped. */
  stoppedAt?: number;
}

/** Runs lines in order, printing each result; with `strict`, stops at the first failure. */
export async function runScript(
  cmd: CmdTcp,
  lines: Iterable<string> | AsyncIterable<string>,
  options: ScriptOptions,
): Promise<ScriptSummary> {
  const summary: ScriptSummary = { ok: 0, failed: 0 };
  let number = 0;
  for await (const line of lines) {
    number++;
    if (options.signal?.aborted) break;
    const outcome = await runLine(cmd, line, options.signal);
    if (outcome.kind === 'empty') continue;
    if (outcome.kind === 'quit') break;
    if (outcome.kind === 'help') {
      options.write(options.json ? resultJson(outcome) : outcome.text);
      continue;
    }
    options.write(options.json ? resultJson(outcome, number) : formatResult(outcome.result, outcome.name));
    if (outcome.result.retcode === 1) summary.ok++;
    else {
      summary.failed++;
      if (options.strict) {
        summary.stoppedAt = number;
        break;
      }
    }
  }
  return summary;
}
