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
import type {
  EpicSimulator,
  EpicSimulatorOptions,
  PipeliningBehaviour,
  RackConfig,
  SimulatedFleet,
} from '@labwire/optommp/simulator';
import { InvalidArgumentError } from 'commander';

export type { CliOutput };

export interface EpicSimIo extends CliIo {
  /** Stops the simulator (main.ts wires SIGINT/SIGTERM/SIGHUP to it). */
  signal?: AbortSignal | undefined;
  /** Called once the servers listen (tests use it instead of parsing stdout). */
  onListening?: (sim: EpicSimulator) => void;
  /** With --count: called once every device listens. */
  onFleet?: (fleet: SimulatedFleet) => void;
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
  count?: number;
  rack?: string;
  puc?: boolean;
  udp?: boolean;
  json?: boolean;
  allowRemote?: boolean;
  answer?: PipeliningBehaviour;
  latency?: number;
  jitter?: number;
}

/** The most devices one process simulates (SimulatedFleet's limit). */
const MAX_DEVICES = 4096;

function count(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_DEVICES)
    throw new InvalidArgumentError(`a device count is 1..${MAX_DEVICES}, got ${JSON.stringify(text)}`);
  return n;
}

function milliseconds(name: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3_600_000)
      throw new InvalidArgumentError(`${name} is 0..3600000 ms, got ${JSON.stringify(text)}`);
    return n;
  };
}

const ANSWERS: readonly PipeliningBehaviour[] = ['in-order', 'serial', 'first-only', 'out-of-order'];

function answer(text: string): PipeliningBehaviour {
  if ((ANSWERS as readonly string[]).includes(text)) return text as PipeliningBehaviour;
  throw new InvalidArgumentError(`--answer is one of ${ANSWERS.join(', ')}; got ${JSON.stringify(text)}`);
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

/** `cannot listen on host:port: the port is in use (EADDRINUSE)`, with the errno code for --json. */
function listenError(error: unknown, host: string, fallbackPort: number): Error {
  const e = error as NodeJS.ErrnoException & { port?: number };
  const why = e.code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message;
  return Object.assign(new Error(`cannot listen on ${hostPort(host, e.port ?? fallbackPort)}: ${why}`), {
    code: e.code,
  });
}

/** Resolves when `signal` aborts; never without one (the process is stopped from outside). */
function stopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal === undefined) return; // runs until the process is stopped
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function serve(opts: Options, io: EpicSimIo): Promise<void> {
  if (opts.count !== undefined && opts.port !== 0 && opts.port + opts.count - 1 > 65_535) {
    throw new UsageError(
      `--port ${opts.port} with --count ${opts.count} needs ports up to ${opts.port + opts.count - 1}, beyond 65535`,
    );
  }
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
  const options: EpicSimulatorOptions = {
    host: opts.host,
    udp: opts.udp === true,
    powerupClearPending: opts.puc === true,
    ...(rack ? { rack } : {}),
    ...(opts.answer ? { pipelining: opts.answer } : {}),
    ...(opts.latency !== undefined ? { latencyMs: opts.latency } : {}),
    ...(opts.jitter !== undefined ? { jitterMs: opts.jitter } : {}),
  };
  if (opts.count !== undefined) return serveFleet(opts, options, opts.count, warning, io);
  let sim: EpicSimulator;
  try {
    sim = await simulator.EpicSimulator.start({ ...options, port: opts.port });
  } catch (error) {
    throw listenError(error, opts.host, opts.port);
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
    await stopped(io.signal);
  } finally {
    await sim.close();
  }
}

/** `--count N`: N devices in this process, on consecutive ports from --port (free ones with --port 0). */
async function serveFleet(
  opts: Options,
  options: EpicSimulatorOptions,
  count: number,
  warning: string | undefined,
  io: EpicSimIo,
): Promise<void> {
  const { SimulatedFleet } = await import('@labwire/optommp/simulator');
  let fleet: SimulatedFleet;
  try {
    // Each device gets its own noise seed and signal phase: inputs that move, and differ between devices.
    fleet = await SimulatedFleet.start({ ...options, count, basePort: opts.port });
  } catch (error) {
    throw listenError(error, opts.host, opts.port);
  }
  try {
    if (warning !== undefined) io.stderr.write(`epic-sim: ${warning}\n`);
    const host = fleet.host;
    const devices = fleet.ports.map((port, i) => ({
      host,
      port,
      udp:
        fleet.device(i)?.udpAddress === undefined ? null : { host, port: fleet.device(i)!.udpAddress!.port },
    }));
    const rack = fleet.device(0)!.device.rack;
    if (opts.json) {
      io.stdout.write(
        `${toJson({
          listening: { host, port: devices[0]!.port },
          devices,
          powerupClearPending: opts.puc === true,
          answer: options.pipelining ?? 'in-order',
          latencyMs: options.latencyMs ?? 0,
          jitterMs: options.jitterMs ?? 0,
          rack: rack.modules,
        })}\n`,
      );
    } else {
      // One line per device, in order: device i is on line i + 1 (UDP, with --udp, on the same port).
      let text = '';
      for (const d of devices) text += `listening on ${hostPort(host, d.port)}${d.udp ? ' (udp too)' : ''}\n`;
      io.stdout.write(text);
      io.stderr.write(
        `epic-sim: ${count} device${count === 1 ? '' : 's'} on ${hostPort(host, devices[0]!.port)}${count > 1 ? ` … ${hostPort(host, devices.at(-1)!.port)}` : ''}, each with this rack and inputs of its own\n${describeRack(rack)}\n`,
      );
      if (opts.puc) io.stderr.write('epic-sim: Powerup Clear pending on every device\n');
    }
    io.onFleet?.(fleet);
    await stopped(io.signal);
  } finally {
    await fleet.close();
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
    .option(
      '--count <n>',
      `simulate n devices in this process, on consecutive ports from --port (free ones with --port 0), each with its own inputs (1..${MAX_DEVICES})`,
      count,
    )
    .option('--puc', 'start with a Powerup Clear pending (everything but status reads is NAKed with 0xE004)')
    .option('--udp', 'serve OptoMMP over UDP too, on the same port number')
    .option(
      '--answer <how>',
      'how requests sent before the previous answer are treated: in-order (default), serial, first-only (the others are never answered), out-of-order',
      answer,
    )
    .option('--latency <ms>', 'time from a request to its answer', milliseconds('--latency'))
    .option('--jitter <ms>', 'a random extra delay of 0..ms per answer', milliseconds('--jitter'))
    .action(async () => serve(program.opts<Options>(), io));
  return runProgram(program, argv, { io });
}
