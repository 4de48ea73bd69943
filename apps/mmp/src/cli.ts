// mmp: OptoMMP from the command line. The seeds' three scripts are `mmp uptime`,
// `mmp digital read <module> <channel>` and `mmp digital write <module> <channel> <0|1>`.
//
// This file only defines the command line (commander); what a command does is in device.ts and
// offline.ts, loaded when the command runs, so `--help` and `--version` start without loading the
// OptoMMP library.

import { createProgram, readPackageVersion, runProgram, UsageError } from '@labwire/cli-kit';
import type { Command } from 'commander';
import type { DeviceContext } from './device';
import type { MmpIo } from './io';
import {
  address,
  channelNumber,
  integer,
  moduleNumber,
  number,
  onOff,
  type ScratchPadType,
  scratchPadType,
  windowList,
} from './parse';

interface GlobalOptions {
  host?: string;
  port: number;
  timeout: number;
  json?: boolean;
  udp?: boolean;
  autoPuc?: boolean;
}

const VERSION = readPackageVersion(new URL('../package.json', import.meta.url));

/** Runs mmp with `argv` (without the node and script names). Resolves with the exit status. */
export async function runMmp(argv: readonly string[], io: MmpIo): Promise<number> {
  const program = createProgram({
    name: 'mmp',
    description:
      'Talk OptoMMP to an Opto 22 groov EPIC or SNAP PAC. Without --host or --port an embedded simulator is used.',
    version: VERSION,
    io,
  })
    .option('--host <host>', 'device address (default: an embedded simulator; with --port alone: 127.0.0.1)')
    .option('--port <n>', 'OptoMMP port', integer('port', 1, 65_535), 2001)
    .option('--timeout <ms>', 'deadline of each command', integer('timeout', 1, 3_600_000), 2000)
    .option('--udp', 'use UDP instead of TCP')
    .option('--auto-puc', 'send a Powerup Clear when the device asks for one');

  const context = (): DeviceContext => {
    const o = program.opts<GlobalOptions>();
    // --port without --host means a device (or an epic-sim) on this machine, never a silent no-op.
    const portGiven = program.getOptionValueSource('port') === 'cli';
    return {
      io,
      json: o.json === true,
      host: o.host ?? (portGiven ? '127.0.0.1' : undefined),
      port: o.port,
      timeoutMs: o.timeout,
      udp: o.udp === true,
      autoPuc: o.autoPuc === true,
    };
  };
  const device = () => import('./device');
  const offline = () => import('./offline');
  const scanner = () => import('./scan');

  program
    .command('uptime')
    .description('milliseconds since power-up (F030010C)')
    .action(async () => (await device()).uptime(context()));

  const digital = program.command('digital').description('groov EPIC digital channels');
  digital
    .command('read')
    .description('state of a digital channel (input or output)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .action(async (module: number, channel: number) =>
      (await device()).digitalRead(context(), module, channel),
    );
  digital
    .command('write')
    .description('turn a digital output on (1) or off (0)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .argument('<state>', '0 or 1 (off/on)', onOff)
    .action(async (module: number, channel: number, state: boolean) =>
      (await device()).digitalWrite(context(), module, channel, state),
    );

  const analog = program.command('analog').description('groov EPIC analog channels');
  analog
    .command('read')
    .description('value, minimum and maximum of an analog channel (float32, shown at float32 precision)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .action(async (module: number, channel: number) =>
      (await device()).analogRead(context(), module, channel),
    );
  analog
    .command('write')
    .description('set an analog output (engineering units)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .argument('<value>', 'engineering units', number('value'))
    .action(async (module: number, channel: number, value: number) =>
      (await device()).analogWrite(context(), module, channel, value),
    );

  const scratchpad = program.command('scratchpad').description('the scratch pad: int, float, string, int64');
  scratchpad
    .command('get')
    .description('read elements (int/float index 0..10239, string slot 0..63, int64 index 0..1023)')
    .argument('<type>', 'int, float, string or int64', scratchPadType)
    .argument('<index>', 'first element', integer('index', 0, 10_239))
    .option('--count <n>', 'how many consecutive elements', integer('count', 1, 10_240), 1)
    .action(async (type: ScratchPadType, index: number, opts: { count: number }) =>
      (await device()).scratchpadGet(context(), type, index, opts.count),
    );
  scratchpad
    .command('set')
    .description('write elements from <index> on (a string: all words joined by spaces)')
    .argument('<type>', 'int, float, string or int64', scratchPadType)
    .argument('<index>', 'first element', integer('index', 0, 10_239))
    .argument('<values...>', 'the value(s)')
    .action(async (type: ScratchPadType, index: number, raw: string[]) =>
      (await device()).scratchpadSet(context(), type, index, raw),
    );

  program
    .command('status')
    .description('the whole status area: versions, part number, network, errors, uptime')
    .action(async () => (await device()).status(context()));

  program
    .command('read')
    .description('raw read: <length> bytes from <address>, shown as a hex dump')
    .argument('<address>', 'hex, e.g. F030010C', address)
    .argument('<length>', 'bytes', integer('length', 0, 1 << 20))
    .action(async (at: number, length: number) => (await device()).readRaw(context(), at, length));

  program
    .command('write')
    .description('raw write: the bytes given in hex at <address>')
    .argument('<address>', 'hex, e.g. F0D81000', address)
    .argument('<hex...>', 'the bytes, e.g. 00000001')
    .action(async (at: number, hex: string[]) => (await device()).writeRaw(context(), at, hex.join('')));

  program
    .command('puc')
    .description('send a Powerup Clear (write 1 to F0380000)')
    .action(async () => (await device()).puc(context()));

  program
    .command('watch [points...]')
    .description(
      'poll points: uptime, digital:M/C, analog:M/C, int:I, float:I, u32:ADDR, i32:ADDR, f32:ADDR (each may end in =name); ' +
        'a live table on a terminal, JSON lines otherwise',
    )
    .option('--interval <ms>', 'time between samples', integer('interval', 0, 3_600_000), 1000)
    .option('--count <n>', 'stop after n samples', integer('count', 1, Number.MAX_SAFE_INTEGER))
    .option('--duration <ms>', 'stop after this long', integer('duration', 1, Number.MAX_SAFE_INTEGER))
    .action(async (specs: string[], opts: { interval: number; count?: number; duration?: number }) =>
      (await device()).watch(context(), specs, opts),
    );

  program
    .command('scan')
    .description(
      'read a fleet of devices as a fleet file (YAML or JSON) says: a live table on a terminal, JSON lines ' +
        'otherwise; Ctrl-C, --duration or --count stop it and print the statistics',
    )
    .argument('<fleet-file>', 'devices, point groups and periods (.json as JSON, anything else as YAML)')
    .option('--duration <ms>', 'stop after this long', integer('duration', 1, Number.MAX_SAFE_INTEGER))
    .option(
      '--count <n>',
      'stop once every group had n scans (failed, missed and skipped ones count)',
      integer('count', 1, Number.MAX_SAFE_INTEGER),
    )
    .action(async (file: string, opts: { duration?: number; count?: number }) => {
      // The fleet file names the devices and their settings; the device options would be ignored.
      for (const name of ['host', 'port', 'udp', 'autoPuc', 'timeout'] as const) {
        if (program.getOptionValueSource(name) === 'cli') {
          const flag = `--${name.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)}`;
          throw new UsageError(
            `${flag} does not apply to scan: the fleet file names the devices and their settings (TCP)`,
          );
        }
      }
      await (await scanner()).scan({ io, json: program.opts<GlobalOptions>().json === true }, file, opts);
    });

  program
    .command('probe')
    .description(
      'does the device answer pipelined requests correctly (all answered, in order, right labels)? ' +
        'Measures the read rate at a few windows and recommends one',
    )
    .option('--burst <n>', 'pipelined requests in the test burst', integer('burst', 2, 16), 8)
    .option('--windows <list>', 'windows whose rates are measured, e.g. 1,2,4,8,16', windowList)
    .option('--requests <n>', 'reads per window for the rates', integer('requests', 1, 100_000), 64)
    .action(async (opts: { burst: number; windows?: number[]; requests: number }) =>
      (await device()).probe(context(), opts),
    );

  program
    .command('decode <hex...>')
    .description('explain OptoMMP packets field by field (no device needed); spaces and colons are ignored')
    .action(async (hex: string[]) => (await offline()).decode(context(), hex.join('')));

  for (const c of program.commands) noExcessArguments(c);
  return runProgram(program, argv, {
    io,
    // The OptoMMP client checks its arguments with RangeError (an address beyond 32 bits, …).
    // A fleet file with bad fields (FleetFileError, each with its path) is the user's to fix.
    usage: (e) => e instanceof RangeError || (e as { code?: unknown })?.code === 'FleetFileInvalid',
    errorFields: (e) => {
      const x = e as { deviceCode?: unknown; issues?: unknown; dropped?: unknown } | undefined;
      return {
        ...(typeof x?.deviceCode === 'number'
          ? { deviceCode: x.deviceCode.toString(16).toUpperCase().padStart(4, '0') }
          : {}),
        // FleetFileError: every bad field with its path.
        ...(Array.isArray(x?.issues) ? { issues: x.issues } : {}),
        // UdpTimeoutError: the datagrams that arrived while the request waited, and why each was dropped.
        ...(typeof x?.dropped === 'object' && x.dropped !== null ? { dropped: x.dropped } : {}),
      };
    },
  });
}

/** Commander accepts extra arguments on commands with subcommands; mmp treats them as mistakes. */
function noExcessArguments(command: Command): void {
  command.allowExcessArguments(false);
  for (const c of command.commands) noExcessArguments(c);
}
