#!/usr/bin/env -S npx tsx --conditions=@labwire/source
// pymodaq entry point: serve, client, decode (see cli.ts).

import { runPymodaq } from './cli';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

process.exitCode = await runPymodaq(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.argv.includes('serve') && !process.argv.includes('--script') ? process.stdin : undefined,
  signal: stop.signal,
});
