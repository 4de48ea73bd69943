// Where mmp writes: process streams in main.ts, buffers in tests.

import type { CliIo, CliOutput } from '@labwire/cli-kit';

export type { CliOutput };

export interface MmpIo extends CliIo {
  /** Stops a running `watch` (main.ts wires SIGINT/SIGTERM/SIGHUP to it). */
  signal?: AbortSignal | undefined;
}
