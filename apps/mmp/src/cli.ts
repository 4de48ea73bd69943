// mmp: OptoMMP from the command line. The seeds' three scripts are `mmp uptime`,
// `mmp digital read <module> <channel>` and `mmp digital write <module> <channel> <0|1>`.

import { fromHex, LabwireError } from '@labwire/framing';
import {
  DeviceError,
  type DeviceStatus,
  describeLastError,
  formatAddress,
  formatDeviceCode,
  OptoMmpClient,
  type WatchPoint,
} from '@labwire/optommp';
import { describePackets, STATUS_FIELDS } from '@labwire/optommp/codec';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatDecode, formatUptime, hexDump, keyValues, toJson } from './format';
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
  watchPoint,
} from './parse';
import { WatchView } from './watch-view';

interface GlobalOptions {
  host?: string;
  port: number;
  timeout: number;
  json?: boolean;
  udp?: boolean;
  autoPuc?: boolean;
}

/** A usage problem found after parsing (exit status 2). */
class UsageError extends Error {}

function formatStatus(s: DeviceStatus): string {
  const rows: [string, string][] = [];
  for (const field of STATUS_FIELDS) {
    const v = s[field.key];
    if (v === undefined) continue;
    let text = String(v);
    if (field.key === 'lastErrorCode') text = describeLastError(v as number);
    else if (
      field.key === 'lastErrorAddress' ||
      field.key === 'unitType' ||
      field.key === 'smartModulesPresent'
    ) {
      text = `0x${formatAddress(v as number)}`;
    } else if (field.key === 'uptimeMs') text = formatUptime(v as number);
    else if (field.type === 'ascii') text = JSON.stringify(v);
    rows.push([field.title, text]);
  }
  if (s.eth1) {
    rows.push(['IPv4 address (eth1)', s.eth1.ipAddress]);
    rows.push(['subnet mask (eth1)', s.eth1.subnetMask]);
    rows.push(['default gateway (eth1)', s.eth1.defaultGateway]);
    rows.push(['DNS server (eth1)', s.eth1.dnsServer]);
    rows.push(['MAC address (eth1)', s.eth1.macAddress]);
  }
  return keyValues(rows);
}

function int32(text: string): number {
  return integer('an int value', -0x8000_0000, 0xffff_ffff)(text);
}

function int64(text: string): bigint {
  try {
    const v = BigInt(text);
    if (v < -(1n << 63n) || v >= 1n << 64n) throw new RangeError();
    return v;
  } catch {
    throw new UsageError(`an int64 value must be an integer -2^63..2^64-1, got ${JSON.stringify(text)}`);
  }
}

/** Runs mmp with `argv` (without the node and script names). Returns the exit status. */
export async function runMmp(argv: readonly string[], io: MmpIo): Promise<number> {
  const program = new Command('mmp')
    .description(
      'Talk OptoMMP to an Opto 22 groov EPIC or SNAP PAC. Without --host an embedded simulator is used.',
    )
    .option('--host <host>', 'device address (default: start an embedded simulator)')
    .option('--port <n>', 'OptoMMP port', integer('port', 1, 65_535), 2001)
    .option('--timeout <ms>', 'deadline of each command', integer('timeout', 1, 3_600_000), 2000)
    .option('--json', 'print JSON')
    .option('--udp', 'use UDP instead of TCP')
    .option('--auto-puc', 'send a Powerup Clear when the device asks for one')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const g = () => program.opts<GlobalOptions>();
  const print = (human: string, json: unknown) => io.stdout.write(`${g().json ? toJson(json) : human}\n`);

  /** Opens a client (and the embedded simulator without --host), runs `fn`, closes both. */
  async function withClient(fn: (client: OptoMmpClient) => Promise<void>): Promise<void> {
    const o = g();
    let sim: EpicSimulator | undefined;
    let host = o.host;
    let port = o.port;
    if (host === undefined) {
      sim = await EpicSimulator.start({ port: 0, udp: o.udp === true });
      host = sim.host;
      port = sim.port;
      io.stderr.write(`mmp: no --host given; using an embedded groov EPIC simulator on ${host}:${port}\n`);
    }
    const client = new OptoMmpClient({
      host,
      port,
      timeoutMs: o.timeout,
      connectTimeoutMs: o.timeout,
      transport: o.udp ? 'udp' : 'tcp',
      autoPuc: o.autoPuc === true,
    });
    try {
      await fn(client);
    } finally {
      await client.close();
      await sim?.close();
    }
  }

  program
    .command('uptime')
    .description('milliseconds since power-up (F030010C)')
    .action(() =>
      withClient(async (c) => {
        const ms = await c.uptime();
        print(`uptime ${formatUptime(ms)}`, { uptimeMs: ms });
      }),
    );

  const digital = program.command('digital').description('groov EPIC digital channels');
  digital
    .command('read')
    .description('state of a digital channel (input or output)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .action((module: number, channel: number) =>
      withClient(async (c) => {
        const state = await c.getDigitalPointState(module, channel);
        print(`module ${module} channel ${channel}: ${state ? 'on (1)' : 'off (0)'}`, {
          module,
          channel,
          state,
        });
      }),
    );
  digital
    .command('write')
    .description('turn a digital output on (1) or off (0)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .argument('<state>', '0 or 1 (off/on)', onOff)
    .action((module: number, channel: number, state: boolean) =>
      withClient(async (c) => {
        await c.setDigitalPointState(module, channel, state);
        print(`module ${module} channel ${channel} set ${state ? 'on (1)' : 'off (0)'}`, {
          module,
          channel,
          state,
        });
      }),
    );

  const analog = program.command('analog').description('groov EPIC analog channels');
  analog
    .command('read')
    .description('value, minimum and maximum of an analog channel')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .action((module: number, channel: number) =>
      withClient(async (c) => {
        const p = await c.readAnalogPoint(module, channel);
        print(`module ${module} channel ${channel}: ${p.value} (min ${p.min}, max ${p.max})`, {
          module,
          channel,
          ...p,
        });
      }),
    );
  analog
    .command('write')
    .description('set an analog output (engineering units)')
    .argument('<module>', 'module 0..63', moduleNumber)
    .argument('<channel>', 'channel 0..63', channelNumber)
    .argument('<value>', 'engineering units', number('value'))
    .action((module: number, channel: number, value: number) =>
      withClient(async (c) => {
        await c.setAnalogPointValue(module, channel, value);
        print(`module ${module} channel ${channel} set to ${value}`, { module, channel, value });
      }),
    );

  const scratchpad = program.command('scratchpad').description('the scratch pad: int, float, string, int64');
  scratchpad
    .command('get')
    .description('read elements (int/float index 0..10239, string slot 0..63, int64 index 0..1023)')
    .argument('<type>', 'int, float, string or int64', scratchPadType)
    .argument('<index>', 'first element', integer('index', 0, 10_239))
    .option('--count <n>', 'how many consecutive elements', integer('count', 1, 10_240), 1)
    .action((type: ScratchPadType, index: number, opts: { count: number }) =>
      withClient(async (c) => {
        const n = opts.count;
        let values: (number | string | bigint)[];
        if (type === 'int') values = await c.readScratchPadIntegers(index, n);
        else if (type === 'float') values = await c.readScratchPadFloats(index, n);
        else if (type === 'string') values = await c.readScratchPadStrings(index, n);
        else {
          values = [];
          for (let k = 0; k < n; k++) values.push(await c.getScratchPadInt64(index + k));
        }
        const human = values
          .map((v, k) => `${type}[${index + k}] = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
          .join('\n');
        print(human, { type, index, values });
      }),
    );
  scratchpad
    .command('set')
    .description('write elements from <index> on (a string: all words joined by spaces)')
    .argument('<type>', 'int, float, string or int64', scratchPadType)
    .argument('<index>', 'first element', integer('index', 0, 10_239))
    .argument('<values...>', 'the value(s)')
    .action((type: ScratchPadType, index: number, raw: string[]) =>
      withClient(async (c) => {
        let count = raw.length;
        if (type === 'int') await c.writeScratchPadIntegers(index, raw.map(int32));
        else if (type === 'float') await c.writeScratchPadFloats(index, raw.map(number('a float value')));
        else if (type === 'string') {
          count = 1;
          await c.setScratchPadStringArea(index, raw.join(' '));
        } else {
          const values = raw.map(int64);
          for (let k = 0; k < values.length; k++) await c.setScratchPadInt64(index + k, values[k]!);
        }
        print(`wrote ${count} ${type} element(s) from index ${index}`, { type, index, count });
      }),
    );

  program
    .command('status')
    .description('the whole status area: versions, part number, network, errors, uptime')
    .action(() =>
      withClient(async (c) => {
        const s = await c.readStatus();
        print(formatStatus(s), s);
      }),
    );

  program
    .command('read')
    .description('raw read: <length> bytes from <address>, shown as a hex dump')
    .argument('<address>', 'hex, e.g. F030010C', address)
    .argument('<length>', 'bytes', integer('length', 0, 1 << 20))
    .action((at: number, length: number) =>
      withClient(async (c) => {
        const bytes = await c.readBlock(at, length);
        print(hexDump(at, bytes), { address: formatAddress(at), length, hex: bytes });
      }),
    );

  program
    .command('write')
    .description('raw write: the bytes given in hex at <address>')
    .argument('<address>', 'hex, e.g. F0D81000', address)
    .argument('<hex...>', 'the bytes, e.g. 00000001')
    .action((at: number, hex: string[]) => {
      const bytes = parseHex(hex.join(''));
      return withClient(async (c) => {
        await c.writeBlock(at, bytes);
        print(`wrote ${bytes.length} byte(s) at ${formatAddress(at)}`, {
          address: formatAddress(at),
          length: bytes.length,
        });
      });
    });

  program
    .command('puc')
    .description('send a Powerup Clear (write 1 to F0380000)')
    .action(() =>
      withClient(async (c) => {
        const needed = await c.powerupClearNeeded();
        await c.powerupClear();
        print(`Powerup Clear sent (it was ${needed ? '' : 'not '}pending)`, {
          sent: true,
          wasPending: needed,
        });
      }),
    );

  program
    .command('watch [points...]')
    .description(
      'poll points: uptime, digital:M/C, analog:M/C, int:I, float:I, u32:ADDR, i32:ADDR, f32:ADDR (each may end in =name);\n' +
        'a live table on a terminal, JSON lines otherwise',
    )
    .option('--interval <ms>', 'time between samples', integer('interval', 0, 3_600_000), 1000)
    .option('--count <n>', 'stop after n samples', integer('count', 1, Number.MAX_SAFE_INTEGER))
    .option('--duration <ms>', 'stop after this long', integer('duration', 1, Number.MAX_SAFE_INTEGER))
    .action((specs: string[], opts: { interval: number; count?: number; duration?: number }) => {
      const points: WatchPoint[] = specs.length === 0 ? [{ kind: 'uptime' }] : specs.map(watchPoint);
      return withClient(async (c) => {
        const stop = new AbortController();
        const onAbort = () => stop.abort();
        io.signal?.addEventListener('abort', onAbort, { once: true });
        const timer = opts.duration === undefined ? undefined : setTimeout(onAbort, opts.duration);
        const view = new WatchView(io.stdout, io.stdout.isTTY === true && g().json !== true);
        try {
          for await (const s of c.watch(points, {
            intervalMs: opts.interval,
            count: opts.count,
            signal: stop.signal,
          })) {
            view.sample(s);
          }
        } finally {
          clearTimeout(timer);
          io.signal?.removeEventListener('abort', onAbort);
        }
      });
    });

  program
    .command('decode <hex...>')
    .description('explain OptoMMP packets field by field (no device needed); spaces and colons are ignored')
    .action((hex: string[]) => {
      const result = describePackets(parseHex(hex.join('')));
      print(formatDecode(result), {
        packets: result.packets.map((p) => ({
          at: p.at,
          length: p.length,
          summary: p.summary,
          fields: p.fields,
          packet: p.packet,
        })),
        leftover: result.leftover,
        needed: result.needed,
      });
    });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (error) {
    const usage =
      error instanceof InvalidArgumentError || error instanceof UsageError || error instanceof RangeError;
    if (error instanceof CommanderError && !(error instanceof InvalidArgumentError))
      return error.exitCode === 0 ? 0 : 2;
    report(error, io, g().json === true);
    return usage ? 2 : 1;
  }
}

function parseHex(text: string): Uint8Array {
  try {
    return fromHex(text, { ignore: ' :\n\t' });
  } catch (error) {
    throw new UsageError(`bad hex: ${(error as Error).message}`);
  }
}

function report(error: unknown, io: MmpIo, json: boolean): void {
  const e = error as Error;
  if (json) {
    const body: Record<string, unknown> = { message: e.message };
    if (LabwireError.isInstance(e)) body.code = e.code;
    if (DeviceError.isInstance(e)) body.deviceCode = formatDeviceCode(e.deviceCode);
    io.stderr.write(`${toJson({ error: body })}\n`);
    return;
  }
  io.stderr.write(`mmp: ${e.message}\n`);
}
