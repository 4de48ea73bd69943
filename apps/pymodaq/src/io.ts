// Where the pymodaq app reads and writes: process streams in main.ts, buffers and streams in tests.

import type { Readable } from 'node:stream';
import type { CliIo, CliOutput } from '@labwire/cli-kit';

export type { CliOutput };

export interface PymodaqIo extends CliIo {
  /** Console commands for `serve` without `--script` (default: none, i.e. serve until the signal). */
  stdin?: Readable | undefined;
  /** The console with line editing and keys even if `stdin` is not a terminal (tests). */
  terminal?: boolean;
  /** Ends `serve` and `client` (main.ts wires SIGINT, SIGTERM and SIGHUP to it). */
  signal?: AbortSignal | undefined;
}

/** Writes one line. */
export function line(out: CliOutput, text: string): void {
  out.write(`${text}\n`);
}
