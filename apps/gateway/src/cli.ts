// labwire-gateway: OptoMMP devices published as a Sparkplug B 3.0 edge node over MQTT.
//
//   labwire-gateway [run] <config>   the gateway (embedded broker unless --broker)
//   labwire-gateway --demo           a simulated fleet, the gateway, the embedded broker and a live view
//   labwire-gateway watch            an independent Sparkplug subscriber printing what it sees
//   labwire-gateway check <config>   checks a configuration and shows what each shard publishes
//
// This file only defines the command line; the commands live in run.ts, watch.ts and check.ts and are
// loaded when they run, so --help and --version start without the libraries.

import { ALLOW_REMOTE_HELP, createProgram, runProgram } from '@labwire/cli-kit';
import { InvalidArgumentError } from 'commander';

import { GatewayConfigError } from './errors';
import type { CheckOptions, GatewayIo, RunOptions, WatchOptions } from './options';
import { VERSION } from './options';
import { parseShard, type Shard } from './shard';

export type { GatewayIo };

/** A GatewayConfigError, or optommp's FleetFileError (recognised by its code: optommp is not loaded here). */
function isConfigError(e: unknown): boolean {
  return GatewayConfigError.isInstance(e) || (e as { code?: unknown } | null)?.code === 'FleetFileInvalid';
}

function integer(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        `${name} must be an integer ${min}..${max}, got ${JSON.stringify(text)}`,
      );
    return n;
  };
}

function seconds(name: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 31_536_000)
      throw new InvalidArgumentError(`${name} must be a number of seconds > 0, got ${JSON.stringify(text)}`);
    return n;
  };
}

function shard(text: string): Shard {
  try {
    return parseShard(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--shard takes /, 'expected '));
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Runs labwire-gateway with `argv` (without node and the script). Resolves with the exit status. */
export async function runGateway(argv: readonly string[], io: GatewayIo): Promise<number> {
  const program = createProgram({
    name: 'labwire-gateway',
    description:
      'Publish OptoMMP devices (groov EPIC, SNAP PAC) as a Sparkplug B 3.0 edge node over MQTT: an embedded ' +
      'broker on 127.0.0.1 unless --broker names one. `labwire-gateway --demo` shows it all on a simulated fleet.',
    version: VERSION,
    io,
  });
  program.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  labwire-gateway --demo          a simulated fleet, the gateway, a live view',
      '  labwire-gateway plant.yaml      the gateway, embedded broker on port 1883',
      '  labwire-gateway plant.yaml --broker mqtt://broker.lan:1883 --shard 1/2',
      '  labwire-gateway watch --broker mqtt://127.0.0.1:1883',
      '  labwire-gateway check plant.yaml --shard 2/2',
      '',
      'Each command has its own options: labwire-gateway <command> --help',
      '(run is the default command: labwire-gateway run --help).',
    ].join('\n'),
  );

  program
    .command('run', { isDefault: true })
    .description(
      'publish the devices of a configuration file (YAML or JSON: an OptoMMP fleet file plus a sparkplug ' +
        'section) as one Sparkplug edge node; stops cleanly (NDEATH) on SIGINT or SIGTERM',
    )
    .argument('[config]', 'the configuration file (not with --demo)')
    .option('--demo', 'run against a simulated fleet (in this process) and show the traffic live')
    .option('--devices <n>', 'with --demo: how many simulated devices', integer('--devices', 1, 256), 4)
    .option(
      '--broker <url>',
      'connect to this broker (mqtt://, mqtts://, ws://, wss://; repeat for failover) instead of starting the embedded one',
      collect,
    )
    .option(
      '--host <address>',
      'embedded broker: address to listen on (loopback unless --allow-remote)',
      '127.0.0.1',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option(
      '--port <n>',
      'embedded broker: port; 0 picks a free one (default 1883; with --demo 0)',
      integer('--port', 0, 65_535),
    )
    .option('--group-id <id>', 'Sparkplug group id (default: the configuration, else "labwire")')
    .option(
      '--edge-node-id <id>',
      'Sparkplug edge node id; {shard} becomes the shard number (default "gateway")',
    )
    .option('--shard <i/n>', 'publish only shard i of n of the devices, as its own edge node', shard)
    .option('--username <name>', 'MQTT user name (the password comes from LABWIRE_MQTT_PASSWORD)')
    .option('--primary-host <id>', 'wait for this primary host application to be online before publishing')
    .option(
      '--duration <seconds>',
      'stop after this long (default: run until SIGINT or SIGTERM)',
      seconds('--duration'),
    )
    .option('--stats <seconds>', 'print statistics every so often', seconds('--stats'))
    .option('--no-script', 'with --demo: no scripted write, power cut and rebirth')
    .option('--quiet', 'log warnings and errors only')
    .option('--verbose', 'log debug messages too')
    .action(async (config: string | undefined, _opts, command) => {
      const opts = command.optsWithGlobals() as RunOptions;
      if (opts.demo) return (await import('./demo')).runDemo(opts, io, config);
      return (await import('./run')).runFromConfig(config, opts, io);
    });

  program
    .command('watch')
    .description(
      'subscribe to the Sparkplug namespace of a broker and show what edge nodes publish, decoded, with the ' +
        'checks a host application makes (seq, bdSeq, births)',
    )
    .option('--broker <url>', 'the broker', 'mqtt://127.0.0.1:1883')
    .option('--group <id>', 'only this Sparkplug group')
    .option(
      '--rebirth',
      'ask edge nodes whose birth was missed for a rebirth (NCMD), as a host application does',
    )
    .option('--username <name>', 'MQTT user name (the password comes from LABWIRE_MQTT_PASSWORD)')
    .option('--duration <seconds>', 'stop after this long', seconds('--duration'))
    .action(async (_opts, command) =>
      (await import('./watch')).runWatch(command.optsWithGlobals() as WatchOptions, io),
    );

  program
    .command('check')
    .description('check a configuration file and show each shard: edge node id, devices, metrics')
    .argument('<config>', 'the configuration file')
    .option('--shard <i/n>', 'show shard i of n only', shard)
    .option('--group-id <id>', 'Sparkplug group id to show')
    .option('--edge-node-id <id>', 'edge node id template to show')
    .action(async (config: string, _opts, command) =>
      (await import('./check')).runCheck(config, command.optsWithGlobals() as CheckOptions, io),
    );

  return runProgram(program, argv, {
    io,
    // A configuration mistake is the user's: exit status 2, with the path of every bad field.
    usage: isConfigError,
    errorFields: (e) => (isConfigError(e) ? { issues: (e as { issues: unknown }).issues } : {}),
  });
}
