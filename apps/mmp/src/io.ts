// Where mmp writes: process streams in main.ts, buffers in tests.

export interface CliOutput {
  write(text: string): unknown;
  /** True when the output is a terminal (watch draws a live table then). */
  isTTY?: boolean;
}

export interface MmpIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Stops a running `watch` (main.ts wires SIGINT to it). */
  signal?: AbortSignal;
}
