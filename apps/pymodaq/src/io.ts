// Where the pymodaq app reads and writes: process streams in main.ts, buffers and streams in tests.

import type { Readable } from 'node:stream';

export interface CliOutput {
  write(text: string): unknown;
}

export interface PymodaqIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Commands for `serve` without `--script` (default: none, i.e. serve until the signal). */
  stdin?: Readable;
  /** Ends `serve` and `client` (main.ts wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
}

/** Writes one line. */
export function line(out: CliOutput, text: string): void {
  out.write(`${text}\n`);
}
