#!/usr/bin/env node
// mmp entry point: `mmp [--host H] [--port P] [--timeout MS] [--json] COMMAND` (see cli.ts).

import { stopOnSignals } from '@labwire/cli-kit';
import { runMmp } from './cli';

process.exitCode = await runMmp(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stopOnSignals(),
});
