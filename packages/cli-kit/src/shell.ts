// The interactive shell of the labwire apps (tcpbus, `pymodaq serve`): node:readline with a prompt,
// line editing, history (optionally kept in a file), Tab completion, and the keys people expect:
//   Ctrl-C  with a command running: cancels it (its AbortSignal aborts) and drops type-ahead;
//           with a half-typed line: clears the line; on an empty line: says how to leave.
//   Ctrl-D  on an empty line (or the end of piped input): leaves, after the running command.
// Lines typed while a command runs are kept (type-ahead) and run in order. Messages that arrive while the
// user types (a client connected, pushed data) are printed above the prompt with print(), which redraws
// the prompt and the half-typed line below them.
//
// Without a terminal (commands piped in) there is no prompt and no key handling; every line runs in
// order, and the end of input ends the shell once the last command finished.

import fs from 'node:fs';
import readline from 'node:readline';

export interface ShellOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Shown before each line on a terminal, e.g. `tcpbus> `. */
  prompt: string;
  /** Line editing and keys (see the file comment). Default: what `output.isTTY` says. */
  terminal?: boolean;
  /** Load history from this file and save it back when the shell ends. */
  historyFile?: string | undefined;
  /** Lines kept in the history. Default 1 000. */
  historySize?: number;
  /** Tab completion: the candidates for `line`, and the part of `line` they complete. */
  completer?: (line: string) => [string[], string];
  /**
   * Runs one line. `signal` aborts on Ctrl-C (and when the shell closes); resolve `'quit'` to leave.
   * A rejection is printed as `error: <message>`.
   */
  run: (line: string, signal: AbortSignal) => Promise<unknown>;
  /** Printed once Ctrl-C is pressed on an empty line. Default: how to leave. */
  leaveHint?: string;
}

/** The reason a command's signal carries when the user pressed Ctrl-C. */
export class ShellInterrupt extends Error {
  override readonly name = 'ShellInterrupt';
  constructor() {
    super('cancelled (Ctrl-C)');
  }
}

/** How many piped lines may wait before the input is paused (terminal type-ahead is never dropped). */
const MAX_QUEUED = 256;

function loadHistory(file: string | undefined, size: number): string[] {
  if (file === undefined) return [];
  try {
    // readline wants the most recent entry first; the file has it last.
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, size);
  } catch {
    return [];
  }
}

export class InteractiveShell {
  readonly #options: ShellOptions;
  readonly #terminal: boolean;
  readonly #rl: readline.Interface;
  readonly #queue: string[] = [];
  #history: string[] = [];
  #running: AbortController | undefined;
  #inputClosed = false;
  #quit = false;
  #paused = false;
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  #started = false;

  constructor(options: ShellOptions) {
    this.#options = options;
    this.#terminal = options.terminal ?? (options.output as { isTTY?: boolean }).isTTY === true;
    const historySize = options.historySize ?? 1000;
    this.#history = loadHistory(options.historyFile, historySize);
    this.#rl = readline.createInterface({
      input: options.input,
      output: options.output,
      prompt: options.prompt,
      terminal: this.#terminal,
      history: [...this.#history],
      historySize,
      removeHistoryDuplicates: true,
      ...(options.completer ? { completer: options.completer } : {}),
    });
    this.#rl.on('history', (h: string[]) => {
      this.#history = h;
    });
    this.#rl.on('SIGINT', () => this.interrupt());
    this.#rl.on('line', (line: string) => this.#onLine(line));
    this.#rl.on('close', () => this.#onClose());
  }

  /** Whether a command is running. */
  get busy(): boolean {
    return this.#running !== undefined;
  }

  /** Runs the shell; resolves once it ended (quit, Ctrl-D, end of input, close()) and history is saved. */
  run(): Promise<void> {
    if (this.#done === undefined) {
      this.#done = new Promise<void>((resolve) => {
        this.#resolveDone = resolve;
      });
      this.#started = true;
      if (this.#inputClosed && this.#queue.length === 0) this.#finish();
      else if (!this.busy && this.#queue.length > 0) void this.#pump();
      else if (!this.busy) this.#prompt();
    }
    return this.#done;
  }

  /** Prints `text` (one or more lines) without disturbing the line being typed. */
  print(text: string): void {
    const out = this.#options.output;
    const idleOnTerminal = this.#terminal && !this.busy && !this.#quit && !this.#inputClosed && this.#started;
    if (!idleOnTerminal) {
      out.write(`${text}\n`);
      return;
    }
    readline.clearLine(out, 0);
    readline.cursorTo(out, 0);
    out.write(`${text}\n`);
    // Redraw the prompt and what was typed so far, the cursor where it was.
    this.#rl.prompt(true);
  }

  /**
   * What Ctrl-C does: cancels the running command (and the type-ahead), or clears a half-typed line, or
   * says how to leave.
   */
  interrupt(): void {
    if (this.#running !== undefined) {
      this.#queue.length = 0;
      this.#running.abort(new ShellInterrupt());
      return;
    }
    if (!this.#terminal) return;
    const typed = this.#rl.line;
    this.#clearLine();
    if (typed === '')
      this.#options.output.write(`${this.#options.leaveHint ?? '(to leave, press Ctrl-D or type quit)'}\n`);
    this.#prompt();
  }

  /** Ends the shell: cancels the running command, drops the type-ahead, closes the line reader. */
  close(): void {
    this.#quit = true;
    this.#queue.length = 0;
    this.#running?.abort(new ShellInterrupt());
    this.#rl.close();
  }

  #clearLine(): void {
    const rl = this.#rl as readline.Interface & { clearLine?: () => void };
    if (typeof rl.clearLine === 'function') rl.clearLine();
    else {
      this.#rl.write(null as unknown as string, { ctrl: true, name: 'e' });
      this.#rl.write(null as unknown as string, { ctrl: true, name: 'u' });
      this.#options.output.write('\n');
    }
  }

  #prompt(): void {
    if (this.#terminal && !this.#quit && !this.#inputClosed && this.#started) this.#rl.prompt();
  }

  #onLine(line: string): void {
    if (this.#quit) return;
    this.#queue.push(line);
    if (!this.#terminal && this.#queue.length >= MAX_QUEUED && !this.#paused) {
      this.#paused = true;
      this.#rl.pause();
    }
    if (this.#started && !this.busy) void this.#pump();
  }

  #onClose(): void {
    this.#inputClosed = true;
    // On a terminal, Ctrl-D means "leave now": cancel what runs. Piped input ends, its commands still run.
    if (this.#terminal) {
      this.#queue.length = 0;
      this.#running?.abort(new ShellInterrupt());
      if (!this.#quit) this.#options.output.write('\n');
    }
    if (this.#started && !this.busy) this.#finish();
  }

  async #pump(): Promise<void> {
    while (this.#queue.length > 0 && !this.#quit) {
      const line = this.#queue.shift()!;
      if (this.#paused && this.#queue.length < MAX_QUEUED / 2) {
        this.#paused = false;
        this.#rl.resume();
      }
      const controller = new AbortController();
      this.#running = controller;
      let outcome: unknown;
      try {
        outcome = await this.#options.run(line, controller.signal);
      } catch (e) {
        this.#options.output.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
      } finally {
        this.#running = undefined;
      }
      if (outcome === 'quit') {
        this.#quit = true;
        this.#queue.length = 0;
        this.#rl.close();
      }
    }
    if (this.#inputClosed || this.#quit) this.#finish();
    else this.#prompt();
  }

  #finish(): void {
    if (this.#resolveDone === undefined) return;
    const resolve = this.#resolveDone;
    this.#resolveDone = undefined;
    this.#rl.close();
    this.#saveHistory();
    resolve();
  }

  #saveHistory(): void {
    const file = this.#options.historyFile;
    if (file === undefined || this.#history.length === 0) return;
    const size = this.#options.historySize ?? 1000;
    try {
      fs.writeFileSync(file, `${[...this.#history].reverse().slice(-size).join('\n')}\n`);
    } catch (e) {
      this.#options.output.write(`could not save the history to ${file}: ${(e as Error).message}\n`);
    }
  }
}
