// epic-sim: a groov EPIC OptoMMP simulator on loopback, for trying clients without hardware.

import fs from 'node:fs/promises';
import {
  ALLOW_REMOTE_HELP,
  type CliIo,
  type CliOutput,
  checkListenHost,
  createProgram,
  escapeControl,
  readPackageVersion,
  runProgram,
  toJson,
  UsageError,
} from '@labwire/cli-kit';
import type { EpicSimulator, RackConfig } from '@labwire/optommp/simulator';
import { InvalidArgumentError } from 'commander';

export type { CliOutput };

export interface EpicSimIo extends CliIo {
  /** Stops the simulator (main.ts wires SIGINT/SIGTERM/SIGHUP to it). */
  signal?: AbortSignal | undefined;
  /** Called once the servers listen (tests use it instead of parsing stdout). */
  onListening?: (sim: EpicSimulator) => void;
}

function port(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError(`a port is 0..65535, got ${JSON.stringify(text)}`);
  return n;
}

interface Options {
  host: string;
  port: number;
  rack?: string;
  puc?: boolean;
  udp?: boolean;
  json?: boolean;
  allowRemote?: boolean;
}

function describeRack(rack: RackConfig): string {
  return rack.modules
    .map(
      (m) =>
        `  module ${m.slot}: ${m.kind}, ${m.channels} channels${m.partNumber ? ` (${escapeControl(m.partNumber)})` : ''}`,
    )
    .join('\n');
}

/** `host:port`, IPv6 in brackets. */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const VERSION = readPackageVersion(new URL('../package.json', import.meta.url));

async function serve(opts: Options, io: EpicSimIo): Promise<void> {
  const warning = await checkListenHost(opts.host, { allowRemote: opts.allowRemote === true });
  let rack: RackConfig | undefined;
  const simulator = await import('@labwire/optommp/simulator');
  if (opts.rack !== undefined) {
    try {
      rack = simulator.parseRackConfig(JSON.parse(await fs.readFile(opts.rack, 'utf8')) as unknown);
    } catch (error) {
      throw new UsageError(`cannot use rack file ${opts.rack}: ${(error as Error).message}`);
    }
  }
  let sim: EpicSimulator;
  try {
    sim = await simulator.EpicSimulator.start({
      host: opts.host,
      port: opts.port,
      udp: opts.udp === true,
      powerupClearPending: opts.puc === true,
      ...(rack ? { rack } : {}),
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message;
    throw Object.assign(new Error(`cannot listen on ${hostPort(opts.host, opts.port)}: ${why}`), {
      code: e.code,
    });
  }
  try {
    if (warning !== undefined) io.stderr.write(`epic-sim: ${warning}\n`);
    const { host, port: bound } = sim.address;
    if (opts.json) {
      io.stdout.write(
        `${toJson({
          listening: { host, port: bound },
          udp: sim.udpAddress ? { host, port: sim.udpAddress.port } : null,
          powerupClearPending: opts.puc === true,
          rack: sim.device.rack.modules,
        })}\n`,
      );
    } else {
      io.stdout.write(`listening on ${hostPort(host, bound)}\n`);
      if (sim.udpAddress) io.stdout.write(`udp on ${hostPort(host, sim.udpAddress.port)}\n`);
      io.stderr.write(`epic-sim: rack\n${describeRack(sim.device.rack)}\n`);
      if (opts.puc) io.stderr.write('epic-sim: Powerup Clear pending\n');
    }
    io.onListening?.(sim);
    await new Promise<void>((resolve) => {
      if (io.signal === undefined) return; // runs until the process is stopped
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await sim.close();
  }
}

/** Runs epic-sim with `argv` (without the node and script names) until `io.signal` aborts. Resolves with the exit status. */
export async function runEpicSim(argv: readonly string[], io: EpicSimIo): Promise<number> {
  const program = createProgram({
    name: 'epic-sim',
    description:
      'Simulate a groov EPIC processor speaking OptoMMP (default: a 4-module rack) on loopback. ' +
      'The first line on stdout says where it listens; SIGINT, SIGTERM or SIGHUP stop it.',
    version: VERSION,
    io,
  })
    .option(
      '--host <address>',
      'address to listen on (a loopback address unless --allow-remote)',
      '127.0.0.1',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--port <n>', 'TCP (and UDP) port; 0 picks a free one', port, 2001)
    .option(
      '--rack <file.json>',
      'rack description: {"modules":[{"slot":0,"kind":"digital-output","channels":24},…]}',
    )
    .option('--puc', 'start with a Powerup Clear pending (everything but status reads is NAKed with 0xE004)')
    .option('--udp', 'serve OptoMMP over UDP too, on the same port number')
    .action(async () => serve(program.opts<Options>(), io));
  return runProgram(program, argv, { io });
}
