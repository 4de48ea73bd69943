// pymodaq: PyMoDAQ's TCP/IP remote control from the command line.
//   pymodaq serve --role actuator|detector --protocol P [--port N] [--script FILE]
//   pymodaq client actuator|detector --host H --port N --protocol P
//   pymodaq decode --protocol P <hex>
//   pymodaq bridge --client-protocol X --server-protocol Y --server host:port, pymodaq probe host:port

import { LabwireError } from '@labwire/framing';
import { GENERATIONS } from '@labwire/pymodaq';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { addBridgeCommands } from './bridge-commands';
import { runClient } from './client';
import { decodeHex } from './decode';
import { formatError } from './format';
import { line, type PymodaqIo } from './io';
import { serve } from './serve';

function integer(what: string, min: number, max: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`${what} must be a whole number ${min}..${max}`);
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

const PROTOCOL_HELP = `wire generation (${GENERATIONS.join(', ')}) or PyMoDAQ version (e.g. 4.4, 5.0)`;

function buildProgram(io: PymodaqIo, done: (status: number) => void): Command {
  const program = new Command('pymodaq')
    .description("PyMoDAQ's TCP/IP remote control, every wire generation (A, B, C1-C4, D)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError();

  program
    .command('serve')
    .description('run a PyMoDAQ TCP server and drive its clients from a prompt (stdin) or a script')
    .addOption(
      new Option('--role <role>', 'which clients to accept')
        .choices(['actuator', 'detector', 'both'])
        .makeOptionMandatory(),
    )
    .requiredOption('--protocol <P>', PROTOCOL_HELP)
    .option('--host <host>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--port <N>', 'TCP port (0 picks a free one)', integer('port', 0, 65_535), 6341)
    .option('--script <file>', 'run the commands in this file, then stop')
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
        port: number;
        script?: string;
        timeout: number;
        moveTimeout: number;
      }) => {
        done(
          await serve(
            {
              role: o.role,
              protocol: o.protocol,
              host: o.host,
              port: o.port,
              script: o.script,
              timeoutMs: o.timeout,
              moveTimeoutMs: o.moveTimeout,
            },
            io,
          ),
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
          throw new InvalidArgumentError(`kind must be actuator or detector, got ${JSON.stringify(kind)}`);
        }
        done(await runClient({ kind, ...o }, io));
      },
    );

  program
    .command('decode')
    .description('explain a captured frame (hex) as JSON')
    .argument('<hex...>', 'the bytes, in hex (spaces allowed)')
    .requiredOption('--protocol <P>', PROTOCOL_HELP)
    .addOption(
      new Option(
        '--part <part>',
        'what the bytes hold (default: command + payload pairs, or frames in D)',
      ).choices(['auto', 'command', 'string', 'path', 'info', 'position', 'detector', 'value']),
    )
    .action((hex: string[], o: { protocol: string; part?: 'auto' }) => {
      const explanation = decodeHex(o.protocol, hex.join(''), o.part ? { part: o.part } : {});
      io.stdout.write(`${JSON.stringify(explanation, null, 2)}\n`);
      done(explanation.error === undefined ? 0 : 1);
    });

  addBridgeCommands(program, io, done);
  return program;
}

/** Runs the CLI with `argv` (without node and the script path); resolves with the exit status. */
export async function runPymodaq(argv: readonly string[], io: PymodaqIo): Promise<number> {
  let status = 0;
  const program = buildProgram(io, (s) => {
    status = s;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not failures; usage errors were already printed.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InvalidArgumentError) {
      line(io.stderr, `error: ${e.message}`);
      return 2;
    }
    line(
      io.stderr,
      `error: ${LabwireError.isInstance(e) || e instanceof Error ? formatError(e) : String(e)}`,
    );
    return 1;
  }
}
