#!/usr/bin/env -S npx tsx --conditions=@labwire/source
// mmp entry point: `mmp [--host H] [--port P] [--timeout MS] [--json] COMMAND`.

import { runMmp } from './cli';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

process.exitCode = await runMmp(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: stop.signal,
});
