#!/usr/bin/env node
// tcpbus entry point: the shell, a script, or `tcpbus sim` (see cli.ts).

import { stopOnSignals } from '@labwire/cli-kit';
import { runTcpbus } from './cli';

process.exitCode = await runTcpbus(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: stopOnSignals(),
});
