// pymodaq: PyMoDAQ's TCP/IP remote control from the command line.
//   pymodaq serve --role actuator|detector|both --protocol P [--port N] [--script FILE]
//   pymodaq client actuator|detector --host H --port N --protocol P
//   pymodaq decode --protocol P <hex>
//   pymodaq bridge --client-protocol X --server-protocol Y --server host:port [--port N]
//   pymodaq probe host:port
// This file defines the command line; each command's code loads when it runs.

import {
  ALLOW_REMOTE_HELP,
  createProgram,
  readPackageVersion,
  runProgram,
  UsageError,
} from '@labwire/cli-kit';
import { InvalidArgumentError, Option } from 'commander';
import { parseEndpoint } from './endpoint';
import type { PymodaqIo } from './io';

function integer(what: string, min: number, max: number) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(
        `${what} must be a whole number ${min}..${max}, got ${JSON.stringify(text)}`,
      );
    }
    return v;
  };
}

function positive(what: string) {
  return (text: string): number => {
    const v = Number(text);
    if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`${what} must be a number > 0`);
    return v;
  };
}

// Kept in step with @labwire/pymodaq's GENERATIONS (not imported: --help stays fast).
const PROTOCOL_HELP = 'wire generation (A, B, C1, C2, C3, C4, D) or PyMoDAQ version (e.g. 4.4, 5.0)';
const VERSION = readPackageVersion(new URL('../package.json', import.meta.url));

/** Runs the CLI with `argv` (without node and the script path); resolves with the exit status. */
export async function runPymodaq(argv: readonly string[], io: PymodaqIo): Promise<number> {
  let status = 0;
  const program = createProgram({
    name: 'pymodaq',
    description: "PyMoDAQ's TCP/IP remote control, every wire generation (A, B, C1-C4, D)",
    version: VERSION,
    io,
  });
  const json = () => program.opts<{ json?: boolean }>().json === true;

  program
    .command('serve')
    .description(
      'run a PyMoDAQ TCP server and drive its clients from a console (stdin) or a script; ' +
        'on a terminal: history, Tab completion, Ctrl-C cancels a command, Ctrl-D leaves',
    )
    .addOption(
      new Option('--role <role>', 'which clients to accept')
        .choices(['actuator', 'detector', 'both'])
        .makeOptionMandatory(),
    )
    .requiredOption('--protocol <P>', PROTOCOL_HELP)
    .option('--host <host>', 'address to listen on (a loopback address unless --allow-remote)', '127.0.0.1')
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option('--port <N>', 'TCP port (0 picks a free one)', integer('port', 0, 65_535), 6341)
    .option('--script <file>', 'run the commands in this file, then stop')
    .option('--no-console', 'read no commands: serve until SIGINT/SIGTERM')
    .option('--history <file>', 'keep the console history in FILE')
    .option(
      '--timeout <ms>',
      'deadline of each command, waiting for a client included',
      integer('timeout', 1, 3_600_000),
      10_000,
    )
    .option('--move-timeout <ms>', 'deadline of moves', integer('move timeout', 1, 3_600_000), 60_000)
    .action(
      async (o: {
        role: 'actuator' | 'detector' | 'both';
        protocol: string;
        host: string;
        allowRemote?: boolean;
        port: number;
        script?: string;
        console: boolean;
        history?: string;
        timeout: number;
        moveTimeout: number;
      }) => {
        await checkProtocol(o.protocol);
        const { serve } = await import('./serve');
        status = await serve(
          {
            role: o.role,
            protocol: o.protocol,
            host: o.host,
            allowRemote: o.allowRemote === true,
            port: o.port,
            script: o.script,
            console: o.console,
            history: o.history,
            timeoutMs: o.timeout,
            moveTimeoutMs: o.moveTimeout,
          },
          io,
        );
      },
    );

  program
    .command('client')
    .description('a simulated instrument for a PyMoDAQ server: a stage or a gaussian camera')
    .argument('<kind>', 'actuator or detector')
    .requiredOption('--protocol <P>', PROTOCOL_HELP)
    .option('--host <host>', 'server address', '127.0.0.1')
    .option('--port <N>', 'server port', integer('port', 1, 65_535), 6341)
    .option('--speed <units/s>', 'stage speed', positive('speed'), 10)
    .option('--units <units>', 'stage unit', 'mm')
    .option('--width <px>', 'image width', integer('width', 1, 8192), 128)
    .option('--height <px>', 'image height', integer('height', 1, 8192), 96)
    .action(
      async (
        kind: string,
        o: {
          protocol: string;
          host: string;
          port: number;
          speed: number;
          units: string;
          width: number;
          height: number;
        },
      ) => {
        if (kind !== 'actuator' && kind !== 'detector') {
          throw new UsageError(`kind must be actuator or detector, got ${JSON.stringify(kind)}`);
        }
        await checkProtocol(o.protocol);
        const { runClient } = await import('./client');
        status = await runClient({ kind, ...o }, io);
      },
    );

  program
    .command('decode')
    .description('explain a captured frame (hex) as JSON, field by field')
    .argument('<hex...>', 'the bytes, in hex (spaces allowed)')
    .requiredOption('--protocol <P>', PROTOCOL_HELP)
    .addOption(
      new Option(
        '--part <part>',
        'what the bytes hold (default: command + payload pairs, or frames in D)',
      ).choices(['auto', 'command', 'string', 'path', 'info', 'position', 'detector', 'value']),
    )
    .action(async (hex: string[], o: { protocol: string; part?: 'auto' }) => {
      const { decodeHex } = await import('./decode');
      const explanation = decodeHex(o.protocol, hex.join(''), o.part ? { part: o.part } : {});
      io.stdout.write(`${JSON.stringify(explanation, null, json() ? undefined : 2)}\n`);
      status = explanation.error === undefined ? 0 : 1;
    });

  program
    .command('bridge')
    .description(
      'let instruments of one PyMoDAQ generation talk to a server of another; runs until SIGINT/SIGTERM',
    )
    .requiredOption('--client-protocol <P>', `what the instruments speak: ${PROTOCOL_HELP}`)
    .requiredOption('--server-protocol <P>', `what the PyMoDAQ server speaks: ${PROTOCOL_HELP}`)
    .requiredOption('--server <host:port>', 'the PyMoDAQ server (its TCPServer plugin)', parseEndpoint)
    .option(
      '--host <host>',
      'address instruments connect to (a loopback address unless --allow-remote)',
      '127.0.0.1',
    )
    .option('--allow-remote', ALLOW_REMOTE_HELP)
    .option(
      '--port <N>',
      'port instruments connect to (0 picks a free one)',
      integer('port', 0, 65_535),
      6341,
    )
    .addOption(
      new Option('--role <role>', 'which instruments to take')
        .choices(['actuator', 'detector', 'both'])
        .default('both'),
    )
    .option(
      '--max-clients <n>',
      'instruments at once (each has its own server link)',
      integer('max clients', 1, 1024),
      16,
    )
    .action(
      async (o: {
        clientProtocol: string;
        serverProtocol: string;
        server: { host: string; port: number };
        host: string;
        allowRemote?: boolean;
        port: number;
        role: 'actuator' | 'detector' | 'both';
        maxClients: number;
      }) => {
        await checkProtocol(o.clientProtocol, '--client-protocol');
        await checkProtocol(o.serverProtocol, '--server-protocol');
        const { runBridge } = await import('./bridge');
        status = await runBridge({ ...o, allowRemote: o.allowRemote === true, json: json() }, io);
      },
    );

  program
    .command('probe')
    .description('tell which PyMoDAQ generation (and role) a server speaks, from the handshakes it refuses')
    .argument('<host:port>', 'the PyMoDAQ server (port 6341 if left out)', parseEndpoint)
    .option('--wait <ms>', 'how long to watch each handshake', integer('wait', 50, 60_000), 1500)
    .action(async (endpoint: { host: string; port: number }, o: { wait: number }) => {
      const { runProbe } = await import('./probe');
      status = await runProbe({ ...endpoint, waitMs: o.wait, json: json() }, io);
    });

  return runProgram(program, argv, {
    io,
    status: () => status,
    // A rejected handshake (HandshakeRejectedError) names the generations to try.
    errorFields: (e) => {
      const suggested = (e as { suggestedGenerations?: unknown } | undefined)?.suggestedGenerations;
      return Array.isArray(suggested) ? { suggestedGenerations: suggested } : {};
    },
  });
}

/** An unknown --protocol is a usage error, found before anything listens or connects. */
async function checkProtocol(protocol: string, option = '--protocol'): Promise<void> {
  const { resolveProfile } = await import('@labwire/pymodaq/codec');
  try {
    resolveProfile(protocol);
  } catch (e) {
    throw new UsageError(
      option === '--protocol' ? (e as Error).message : `${option}: ${(e as Error).message}`,
    );
  }
}
