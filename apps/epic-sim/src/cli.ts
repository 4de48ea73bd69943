// epic-sim: a groov EPIC OptoMMP simulator on loopback, for trying clients without hardware.

import fs from 'node:fs/promises';
import { EpicSimulator, parseRackConfig, type RackConfig } from '@labwire/optommp/simulator';
import { Command, CommanderError, InvalidArgumentError } from 'commander';

export interface CliOutput {
  write(text: string): unknown;
}

export interface EpicSimIo {
  stdout: CliOutput;
  stderr: CliOutput;
  /** Stops the simulator (main.ts wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** Called once the servers listen (tests use it instead of parsing stdout). */
  onListening?: (sim: EpicSimulator) => void;
}

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('a port is 0..65535');
  return n;
}

interface Options {
  host: string;
  port: number;
  rack?: string;
  puc?: boolean;
  udp?: boolean;
}

function describeRack(rack: RackConfig): string {
  return rack.modules
    .map(
      (m) =>
        `  module ${m.slot}: ${m.kind}, ${m.channels} channels${m.partNumber ? ` (${m.partNumber})` : ''}`,
    )
    .join('\n');
}

/** Runs epic-sim with `argv` (without the node and script names) until `io.signal` aborts. Returns the exit code. */
export async function runEpicSim(argv: readonly string[], io: EpicSimIo): Promise<number> {
  const program = new Command('epic-sim')
    .description('Simulate a groov EPIC processor speaking OptoMMP (default: a 4-module rack) on loopback.')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP (and UDP) port; 0 picks a free one', port, 2001)
    .option(
      '--rack <file.json>',
      'rack description: {"modules":[{"slot":0,"kind":"digital-output","channels":24},…]}',
    )
    .option('--puc', 'start with a Powerup Clear pending (everything but status reads is NAKed with 0xE004)')
    .option('--udp', 'serve OptoMMP over UDP too, on the same port number')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  let opts: Options;
  try {
    program.parse(argv as string[], { from: 'user' });
    opts = program.opts<Options>();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }

  let rack: RackConfig | undefined;
  if (opts.rack !== undefined) {
    try {
      rack = parseRackConfig(JSON.parse(await fs.readFile(opts.rack, 'utf8')) as unknown);
    } catch (error) {
      io.stderr.write(`epic-sim: cannot use rack file ${opts.rack}: ${(error as Error).message}\n`);
      return 2;
    }
  }

  let sim: EpicSimulator;
  try {
    sim = await EpicSimulator.start({
      host: opts.host,
      port: opts.port,
      udp: opts.udp === true,
      powerupClearPending: opts.puc === true,
      ...(rack ? { rack } : {}),
    });
  } catch (error) {
    io.stderr.write(`epic-sim: cannot listen on ${opts.host}:${opts.port}: ${(error as Error).message}\n`);
    return 1;
  }
  const { host, port: bound } = sim.address;
  const shown = host.includes(':') ? `[${host}]` : host;
  io.stdout.write(`listening on ${shown}:${bound}\n`);
  if (sim.udpAddress) io.stdout.write(`udp on ${shown}:${sim.udpAddress.port}\n`);
  io.stderr.write(`epic-sim: rack\n${describeRack(sim.device.rack)}\n`);
  if (opts.puc) io.stderr.write('epic-sim: Powerup Clear pending\n');
  io.onListening?.(sim);

  await new Promise<void>((resolve) => {
    if (io.signal === undefined) return; // runs until the process is stopped
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await sim.close();
  return 0;
}
