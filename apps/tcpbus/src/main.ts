#!/usr/bin/env -S npx tsx --conditions=@labwire/source
// tcpbus: a shell and script runner for Pyrame cmd_tcp calls, and a SCPI-like instrument simulator.

import fs from 'node:fs';
import readline from 'node:readline';
import { CmdTcp } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import { Command, InvalidArgumentError } from 'commander';
import { runScript } from './runner';
import { runShell } from './shell';

function integer(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be ${min}..${max}`);
    return n;
  };
}

const program = new Command('tcpbus')
  .description(
    'Pyrame cmd_tcp calls (init_tcp, config_tcp, wrnrd_until_tcp, …), one per line: an interactive shell,\n' +
      'or a script from --script FILE or from stdin when it is not a terminal. Each call prints\n' +
      '"1 <result>" or "0 <error>".',
  )
  .option('--script <file>', 'run the commands in FILE, then exit')
  .option('--strict', 'stop at the first failure and exit with status 1')
  .option('--history <file>', 'keep the shell history in FILE')
  .action(async (opts: { script?: string; strict?: boolean; history?: string }) => {
    const cmd = new CmdTcp();
    try {
      if (opts.script === undefined && process.stdin.isTTY) {
        await runShell(cmd, { input: process.stdin, output: process.stdout, historyFile: opts.history });
        return;
      }
      const input = opts.script === undefined ? process.stdin : fs.createReadStream(opts.script);
      const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      const summary = await runScript(cmd, lines, {
        strict: opts.strict === true,
        write: (line) => process.stdout.write(`${line}\n`),
      });
      lines.close();
      if (summary.stoppedAt !== undefined) {
        process.stderr.write(`tcpbus: stopped at line ${summary.stoppedAt} (--strict)\n`);
        process.exitCode = 1;
      }
    } finally {
      await cmd.close();
    }
  });

program
  .command('sim')
  .description('run a line-oriented SCPI-like instrument (*IDN?, VOLT, MEAS?, STREAM, PROMPT) on loopback')
  .option('--port <n>', 'TCP port (0: any free port)', integer('port', 0, 65_535), 0)
  .option('--host <address>', 'loopback address to listen on: 127.0.0.1 or ::1', '127.0.0.1')
  .option('--interval <ms>', 'measurement stream interval', integer('interval', 1, 3_600_000), 100)
  .action(async (opts: { port: number; host: string; interval: number }) => {
    if (opts.host !== '127.0.0.1' && opts.host !== '::1')
      throw new InvalidArgumentError('host must be 127.0.0.1 or ::1');
    const sim = await InstrumentSim.start({
      port: opts.port,
      host: opts.host,
      streamIntervalMs: opts.interval,
    });
    process.stdout.write(`listening on ${sim.address}\n`);
    const stop = () => {
      void sim.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

await program.parseAsync();
