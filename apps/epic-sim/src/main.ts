#!/usr/bin/env -S npx tsx --conditions=@labwire/source
// epic-sim entry point: `epic-sim [--host 127.0.0.1] [--port 2001] [--rack FILE.json] [--puc] [--udp]`.

import { runEpicSim } from './cli';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

process.exitCode = await runEpicSim(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stop.signal,
});
