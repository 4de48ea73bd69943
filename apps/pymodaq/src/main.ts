#!/usr/bin/env node
// pymodaq entry point: serve, client, decode, bridge, probe (see cli.ts).

import { stopOnSignals } from '@labwire/cli-kit';
import { runPymodaq } from './cli';

process.exitCode = await runPymodaq(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // Only `serve` reads commands; the other commands leave stdin alone.
  stdin: process.argv.includes('serve') ? process.stdin : undefined,
  signal: stopOnSignals(),
});
