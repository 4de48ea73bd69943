// The interactive shell: @labwire/cli-kit's InteractiveShell (prompt, line editing, history, completion;
// Ctrl-C clears the line or cancels the running call, Ctrl-D leaves) running the same lines as scripts.

import type { CmdTcp } from '@labwire/bus';
import { InteractiveShell } from '@labwire/cli-kit';
import { formatResult, resultJson, runLine, SHELL_WORDS } from './runner';

export interface ShellOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Load history from this file and save it back on exit. */
  historyFile?: string | undefined;
  /** Lines kept in the history. Default 1 000. */
  historySize?: number;
  /** Treat the streams as a terminal (prompt, line editing, keys). Default: what `output.isTTY` says. */
  terminal?: boolean;
  /** Results as JSON lines. */
  json?: boolean;
  /** Ends the shell (SIGTERM, SIGHUP). */
  signal?: AbortSignal | undefined;
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

/** Runs the shell until `quit`, `exit`, Ctrl-D or the end of input. Resolves with the number of failed calls. */
export async function runShell(cmd: CmdTcp, options: ShellOptions): Promise<number> {
  const say = (text: string) => options.output.write(`${text}\n`);
  let failed = 0;
  const shell = new InteractiveShell({
    input: options.input,
    output: options.output,
    prompt: 'tcpbus> ',
    ...(options.terminal === undefined ? {} : { terminal: options.terminal }),
    historyFile: options.historyFile,
    ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
    completer: complete,
    run: async (line, signal) => {
      const outcome = await runLine(cmd, line, signal);
      if (outcome.kind === 'quit') return 'quit';
      if (outcome.kind === 'empty') return undefined;
      if (options.json) say(resultJson(outcome));
      else if (outcome.kind === 'help') say(outcome.text);
      else say(formatResult(outcome.result, outcome.name));
      if (outcome.kind === 'result' && outcome.result.retcode === 0) failed++;
      return undefined;
    },
  });
  if (!options.json)
    say('tcpbus: Pyrame cmd_tcp calls, one per line. help lists them; Ctrl-D or quit leaves.');
  const stop = () => shell.close();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    await shell.run();
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  return failed;
}
