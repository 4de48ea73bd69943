// The mmp commands that talk to a device: each opens a client (and, without --host/--port, an embedded
// groov EPIC simulator on 127.0.0.1), does its job, prints, and closes both. Loaded on first use.

import {
  float32Shortest,
  formatFloat32,
  printResult,
  quote,
  terminalWidth,
  UsageError,
} from '@labwire/cli-kit';
import { OptoMmpClient, type UdpTransport, type WatchPoint } from '@labwire/optommp';
import { formatAddress } from '@labwire/optommp/codec';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { formatProbe, formatStatus, formatUdpDrops, formatUptime, hexDump } from './format';
import { parseHex } from './hex';
import type { MmpIo } from './io';
import { integer, number, type ScratchPadType, watchPoint } from './parse';
import { WatchView } from './watch-view';

export interface DeviceContext {
  io: MmpIo;
  json: boolean;
  /** undefined: start the embedded simulator. */
  host: string | undefined;
  port: number;
  timeoutMs: number;
  udp: boolean;
  autoPuc: boolean;
}

const print = (c: DeviceContext, human: string, json: unknown) => printResult(c.io, c.json, human, json);

/** Opens a client (and the embedded simulator without a host), runs `fn`, closes both. */
async function withClient(c: DeviceContext, fn: (client: OptoMmpClient) => Promise<void>): Promise<void> {
  let sim: EpicSimulator | undefined;
  let host = c.host;
  let port = c.port;
  if (host === undefined) {
    sim = await EpicSimulator.start({ port: 0, udp: c.udp });
    host = sim.host;
    port = sim.port;
    c.io.stderr.write(`mmp: no --host given; using an embedded groov EPIC simulator on ${host}:${port}\n`);
  }
  const client = new OptoMmpClient({
    host,
    port,
    timeoutMs: c.timeoutMs,
    connectTimeoutMs: c.timeoutMs,
    transport: c.udp ? 'udp' : 'tcp',
    autoPuc: c.autoPuc,
  });
  try {
    await fn(client);
    if (c.udp && !c.json) {
      // Datagrams that came and were dropped (late answers, wrong labels) even though the command
      // succeeded: said, not hidden. (A timeout says the same in its error.)
      const note = formatUdpDrops((client.transport as UdpTransport).dropped);
      if (note !== undefined) c.io.stderr.write(`mmp: note: ${note}\n`);
    }
  } finally {
    await client.close();
    await sim?.close();
  }
}

const onOff = (state: boolean) => (state ? 'on (1)' : 'off (0)');

export function uptime(c: DeviceContext): Promise<void> {
  return withClient(c, async (client) => {
    const ms = await client.uptime();
    print(c, `uptime ${formatUptime(ms)}`, { uptimeMs: ms });
  });
}

export function digitalRead(c: DeviceContext, module: number, channel: number): Promise<void> {
  return withClient(c, async (client) => {
    const state = await client.getDigitalPointState(module, channel);
    print(c, `module ${module} channel ${channel}: ${onOff(state)}`, { module, channel, state });
  });
}

export function digitalWrite(
  c: DeviceContext,
  module: number,
  channel: number,
  state: boolean,
): Promise<void> {
  return withClient(c, async (client) => {
    await client.setDigitalPointState(module, channel, state);
    print(c, `module ${module} channel ${channel} set ${onOff(state)}`, { module, channel, state });
  });
}

export function analogRead(c: DeviceContext, module: number, channel: number): Promise<void> {
  return withClient(c, async (client) => {
    const p = await client.readAnalogPoint(module, channel);
    // Value, minimum and maximum are float32 in the device: shown (and given in JSON) at that precision.
    const [value, min, max] = [p.value, p.min, p.max].map(float32Shortest) as [number, number, number];
    print(
      c,
      `module ${module} channel ${channel}: ${formatFloat32(p.value)} (min ${formatFloat32(p.min)}, max ${formatFloat32(p.max)})`,
      { module, channel, ...p, value, min, max },
    );
  });
}

export function analogWrite(c: DeviceContext, module: number, channel: number, value: number): Promise<void> {
  return withClient(c, async (client) => {
    await client.setAnalogPointValue(module, channel, value);
    // What the device holds is the float32 nearest to the value given.
    const held = float32Shortest(value);
    print(c, `module ${module} channel ${channel} set to ${formatFloat32(value)}`, {
      module,
      channel,
      value: held,
    });
  });
}

export function scratchpadGet(
  c: DeviceContext,
  type: ScratchPadType,
  index: number,
  count: number,
): Promise<void> {
  return withClient(c, async (client) => {
    let values: (number | string | bigint)[];
    if (type === 'int') values = await client.readScratchPadIntegers(index, count);
    else if (type === 'float')
      values = (await client.readScratchPadFloats(index, count)).map(float32Shortest);
    else if (type === 'string') values = await client.readScratchPadStrings(index, count);
    else {
      values = [];
      for (let k = 0; k < count; k++) values.push(await client.getScratchPadInt64(index + k));
    }
    const human = values
      .map((v, k) => `${type}[${index + k}] = ${typeof v === 'string' ? quote(v) : String(v)}`)
      .join('\n');
    print(c, human, { type, index, values });
  });
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

/** Commander's parsers throw InvalidArgumentError; values parsed here are usage errors too. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
}

export function scratchpadSet(
  c: DeviceContext,
  type: ScratchPadType,
  index: number,
  raw: string[],
): Promise<void> {
  // Every value is checked before anything is sent.
  const ints = type === 'int' ? usage(() => raw.map(int32)) : [];
  const floats = type === 'float' ? usage(() => raw.map(number('a float value'))) : [];
  const int64s = type === 'int64' ? raw.map(int64) : [];
  return withClient(c, async (client) => {
    let count = raw.length;
    if (type === 'int') await client.writeScratchPadIntegers(index, ints);
    else if (type === 'float') await client.writeScratchPadFloats(index, floats);
    else if (type === 'string') {
      count = 1;
      await client.setScratchPadStringArea(index, raw.join(' '));
    } else {
      for (let k = 0; k < int64s.length; k++) await client.setScratchPadInt64(index + k, int64s[k]!);
    }
    print(c, `wrote ${count} ${type} element(s) from index ${index}`, { type, index, count });
  });
}

export function status(c: DeviceContext): Promise<void> {
  return withClient(c, async (client) => {
    const s = await client.readStatus();
    print(c, formatStatus(s, terminalWidth(c.io.stdout, c.io.env)), s);
  });
}

export function readRaw(c: DeviceContext, at: number, length: number): Promise<void> {
  return withClient(c, async (client) => {
    const bytes = await client.readBlock(at, length);
    print(c, hexDump(at, bytes), { address: formatAddress(at), length, hex: bytes });
  });
}

export function writeRaw(c: DeviceContext, at: number, hex: string): Promise<void> {
  const bytes = parseHex(hex);
  return withClient(c, async (client) => {
    await client.writeBlock(at, bytes);
    print(c, `wrote ${bytes.length} byte(s) at ${formatAddress(at)}`, {
      address: formatAddress(at),
      length: bytes.length,
    });
  });
}

export function puc(c: DeviceContext): Promise<void> {
  return withClient(c, async (client) => {
    const needed = await client.powerupClearNeeded();
    await client.powerupClear();
    print(c, `Powerup Clear sent (it was ${needed ? '' : 'not '}pending)`, {
      sent: true,
      wasPending: needed,
    });
  });
}

export function watch(
  c: DeviceContext,
  specs: string[],
  opts: { interval: number; count?: number | undefined; duration?: number | undefined },
): Promise<void> {
  const points: WatchPoint[] = specs.length === 0 ? [{ kind: 'uptime' }] : usage(() => specs.map(watchPoint));
  return withClient(c, async (client) => {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    c.io.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.duration === undefined ? undefined : setTimeout(onAbort, opts.duration);
    const view = new WatchView(c.io.stdout, c.io.stdout.isTTY === true && !c.json);
    try {
      for await (const s of client.watch(points, {
        intervalMs: opts.interval,
        count: opts.count,
        signal: stop.signal,
      })) {
        view.sample(s);
      }
    } finally {
      clearTimeout(timer);
      c.io.signal?.removeEventListener('abort', onAbort);
    }
  });
}

export function probe(
  c: DeviceContext,
  opts: { burst?: number | undefined; windows?: number[] | undefined; requests?: number | undefined },
): Promise<void> {
  if (c.udp) throw new UsageError('probe tests pipelining on a TCP connection: leave out --udp');
  return withClient(c, async (client) => {
    const result = await client.probePipelining({
      burst: opts.burst,
      windows: opts.windows,
      requestsPerWindow: opts.requests,
      timeoutMs: c.timeoutMs,
      burstTimeoutMs: c.timeoutMs,
      signal: c.io.signal,
    });
    const endpoint = client.transport.endpoint;
    print(c, formatProbe(endpoint, result, terminalWidth(c.io.stdout, c.io.env)), { endpoint, ...result });
  });
}
