// The `bridge` and `probe` commands, registered on the pymodaq program (kept apart from cli.ts).

import { GENERATIONS, type ServerRole } from '@labwire/pymodaq';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseEndpoint, runBridge } from './bridge';
import type { PymodaqIo } from './io';
import { runProbe } from './probe';

const PROTOCOL = `(${GENERATIONS.join(', ')}, or a PyMoDAQ version such as 4.4 or 5.0)`;

function whole(what: string, min: number, max: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`${what} must be a whole number ${min}..${max}`);
    }
    return v;
  };
}

export function addBridgeCommands(program: Command, io: PymodaqIo, done: (status: number) => void): void {
  program
    .command('bridge')
    .description('let instruments of one PyMoDAQ generation talk to a server of another')
    .requiredOption('--client-protocol <P>', `what the instruments speak ${PROTOCOL}`)
    .requiredOption('--server-protocol <P>', `what the PyMoDAQ server speaks ${PROTOCOL}`)
    .requiredOption('--server <host:port>', 'the PyMoDAQ server (its TCPServer plugin)', parseEndpoint)
    .option('--host <host>', 'address instruments connect to (loopback by default)', '127.0.0.1')
    .option('--port <N>', 'port instruments connect to (0 picks a free one)', whole('port', 0, 65_535), 6341)
    .addOption(
      new Option('--role <role>', 'which instruments to take')
        .choices(['actuator', 'detector', 'both'])
        .default('both'),
    )
    .option(
      '--max-clients <n>',
      'instruments at once (each has its own server link)',
      whole('max clients', 1, 1024),
      16,
    )
    .option('--json', 'one JSON object per event instead of text')
    .action(
      async (o: {
        clientProtocol: string;
        serverProtocol: string;
        server: { host: string; port: number };
        host: string;
        port: number;
        role: ServerRole;
        maxClients: number;
        json?: boolean;
      }) => {
        done(await runBridge({ ...o, json: o.json === true }, io));
      },
    );

  program
    .command('probe')
    .description('tell which PyMoDAQ generation a server speaks (from the handshakes it refuses)')
    .argument('<host:port>', 'the PyMoDAQ server', parseEndpoint)
    .option('--wait <ms>', 'how long to watch each handshake', whole('wait', 50, 60_000), 1500)
    .option('--json', 'the result as JSON')
    .action(async (endpoint: { host: string; port: number }, o: { wait: number; json?: boolean }) => {
      done(await runProbe({ ...endpoint, waitMs: o.wait, json: o.json === true }, io));
    });
}
