#!/usr/bin/env node
// labwire-gateway entry point: `labwire-gateway [run] <config>`, `--demo`, `watch`, `check`.

import { stopOnSignals } from '@labwire/cli-kit';
import { runGateway } from './cli';

process.exitCode = await runGateway(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stopOnSignals(),
});
