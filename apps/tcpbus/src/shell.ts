// The interactive shell: node:readline with history (optionally kept in a file), completion of command
// names, `help` and `help <command>`. Every line goes through the same runner as scripts.

import fs from 'node:fs';
import readline from 'node:readline';
import type { CmdTcp } from '@labwire/bus';
import { formatResult, runLine, SHELL_WORDS } from './runner';

export interface ShellOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Load history from this file and save it back on exit. */
  historyFile?: string | undefined;
  /** Lines kept in the history. Default 1 000. */
  historySize?: number;
  /** Treat the streams as a terminal (prompt, line editing). Default: what `output.isTTY` says. */
  terminal?: boolean;
}

function loadHistory(file: string | undefined): string[] {
  if (file === undefined) return [];
  try {
    // readline wants the most recent entry first.
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse();
  } catch {
    return [];
  }
}

function complete(line: string): [string[], string] {
  const word = line.trimStart();
  if (word.includes(' ')) {
    const [first, rest = ''] = word.split(/\s+/, 2);
    if (first === 'help') {
      const hits = SHELL_WORDS.filter((w) => w.startsWith(rest));
      return [hits.map((h) => `help ${h}`), line];
    }
    return [[], line];
  }
  const hits = SHELL_WORDS.filter((w) => w.startsWith(word));
  return [hits.length > 0 ? hits : [...SHELL_WORDS], line];
}

/** Runs the shell until `quit`, `exit` or the end of input. Resolves with the number of failed commands. */
export async function runShell(cmd: CmdTcp, options: ShellOptions): Promise<number> {
  const historySize = options.historySize ?? 1000;
  const rl = readline.createInterface({
    input: options.input,
    output: options.output,
    prompt: 'tcpbus> ',
    history: loadHistory(options.historyFile),
    historySize,
    removeHistoryDuplicates: true,
    completer: complete,
    terminal: options.terminal ?? (options.output as { isTTY?: boolean }).isTTY === true,
  });
  let history: string[] = [];
  rl.on('history', (h: string[]) => {
    history = h;
  });
  const say = (text: string) => options.output.write(`${text}\n`);
  let failed = 0;
  say('tcpbus: Pyrame cmd_tcp calls, one per line; help for the list, quit to leave.');
  rl.prompt();
  try {
    for await (const line of rl) {
      const outcome = await runLine(cmd, line);
      if (outcome.kind === 'quit') break;
      if (outcome.kind === 'help') say(outcome.text);
      else if (outcome.kind === 'result') {
        say(formatResult(outcome.result));
        if (outcome.result.retcode === 0) failed++;
      }
      rl.prompt();
    }
  } finally {
    rl.close();
    if (options.historyFile !== undefined && history.length > 0) {
      try {
        fs.writeFileSync(options.historyFile, `${[...history].reverse().slice(-historySize).join('\n')}\n`);
      } catch (e) {
        say(`tcpbus: could not save the history: ${(e as Error).message}`);
      }
    }
  }
  return failed;
}
