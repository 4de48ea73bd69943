#!/usr/bin/env node
// epic-sim entry point: `epic-sim [--host 127.0.0.1] [--port 2001] [--rack FILE.json] [--puc] [--udp]`.

import { stopOnSignals } from '@labwire/cli-kit';
import { runEpicSim } from './cli';

process.exitCode = await runEpicSim(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stopOnSignals(),
});
