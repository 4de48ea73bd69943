// Pipelined 64-channel module reads on one connection, three ways, shared by bench/cases/optommp.ts and
// bench/micro/optommp-windows.ts: the client with one call per module (`readAnalogModule`), the client
// with `readBlocksInto` (a window's worth of modules per call into caller memory), and the raw Node
// baseline writing the same requests.
//
// The raw baseline is the fastest plain-Node way to keep `window` requests in flight: replies received
// through `onread` into one reused buffer, and the requests freed by the replies completed in one receive
// callback written together in one write (one system call and one wake-up of the device per batch, as
// the client's Pipeline does).

import net from 'node:net';
import { OptoMmpClient } from '@labwire/optommp';
import { encodeReadBlockRequest, epicAnalogReadAddress, offsetOf } from '@labwire/optommp/codec';

/** A whole 64-channel analog module: 63 × 0x40 + 0x14 bytes. */
export const MODULE_BYTES = 63 * 0x40 + 0x14;
const MODULE_ADDRESS = epicAnalogReadAddress(2, 0);
const MODULE_REQUEST = Buffer.from(
  encodeReadBlockRequest({ tl: 1, offset: offsetOf(MODULE_ADDRESS), dataLength: MODULE_BYTES }),
);
/** The most requests in flight any run uses (the client's MAX_WINDOW). */
const MAX_WINDOW = 32;
/** MODULE_REQUEST back to back: the raw client writes k requests as one slice of it. */
const MODULE_REQUESTS = Buffer.concat(Array.from({ length: MAX_WINDOW }, () => MODULE_REQUEST));

/**
 * `count` modules read by `callers` concurrent callers on one client with `window` requests in flight:
 * each caller takes the next `per` modules (fewer at the end) and reads them with its own reader (from
 * `readerOf`), again and again. After `warmUps` calls, timed: modules per second.
 */
async function timedReads(
  port: number,
  options: { count: number; window: number; callers: number; per: number; warmUps: number },
  readerOf: () => (client: OptoMmpClient, n: number) => Promise<unknown>,
): Promise<number> {
  const { count, window, callers, per, warmUps } = options;
  const client = new OptoMmpClient({
    host: '127.0.0.1',
    port,
    timeoutMs: 5_000,
    maxBlockBytes: 4096,
    window,
  });
  try {
    await client.connect();
    const warm = readerOf();
    for (let i = 0; i < warmUps; i++) await warm(client, per);
    let next = 0;
    const caller = async () => {
      const read = readerOf();
      while (next < count) {
        const n = Math.min(per, count - next);
        next += n;
        await read(client, n);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: callers }, caller));
    return count / ((performance.now() - t0) / 1000);
  } finally {
    await client.close();
  }
}

/** `count` module reads, one `readAnalogModule` call each, `window` calls in flight: modules per second. */
export function clientModules(port: number, count: number, window: number): Promise<number> {
  const read = (client: OptoMmpClient) => client.readAnalogModule(2);
  return timedReads(port, { count, window, callers: window, per: 1, warmUps: 50 }, () => read);
}

/**
 * The same calls as `clientModules`, each reading the module's bytes into the caller's memory
 * (`readBlockAs` with a decoder that copies them) instead of decoding 64 point objects: what one call per
 * block costs apart from the decoding. Modules per second.
 */
export function callModules(port: number, count: number, window: number): Promise<number> {
  return timedReads(port, { count, window, callers: window, per: 1, warmUps: 50 }, () => {
    const into = new Uint8Array(MODULE_BYTES);
    const copy = (data: Uint8Array) => into.set(data);
    return (client) => client.readBlockAs(MODULE_ADDRESS, MODULE_BYTES, copy);
  });
}

/**
 * The same module reads as a user chasing throughput writes them: `readBlocksInto`, callers each asking
 * for `per` modules (default a window's worth) into its own memory at a time, enough of them for two
 * windows (while one waits for its replies another's requests fill the window). Modules per second.
 */
export function batchModules(port: number, count: number, window: number, per = window): Promise<number> {
  const callers = Math.max(2, Math.ceil((2 * window) / per));
  return timedReads(port, { count, window, callers, per, warmUps: 4 }, () => {
    const into = new Uint8Array(per * MODULE_BYTES);
    const blocks = Array.from({ length: per }, (_, i) => ({
      address: MODULE_ADDRESS,
      length: MODULE_BYTES,
      into,
      at: i * MODULE_BYTES,
    }));
    return (client, n) => client.readBlocksInto(n === per ? blocks : blocks.slice(0, n));
  });
}

/**
 * A plain `net` connection receiving through `onread` into one reused 64 KiB buffer (the best receive
 * path): `onBytes` gets the number of bytes of every read. Resolves once connected.
 */
export function connectRaw(
  port: number,
  onBytes: (n: number, socket: net.Socket) => void,
): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket: net.Socket = net.connect({
      port,
      host: '127.0.0.1',
      noDelay: true,
      onread: {
        buffer: Buffer.alloc(64 * 1024),
        callback: (n: number) => {
          onBytes(n, socket);
          return true;
        },
      },
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Raw Node pipelining of the same requests to the same device, `window` in flight. `together` false:
 * one write per request (the baseline of the first reports, kept as information). Replies per second.
 */
export async function rawModules(
  port: number,
  count: number,
  window: number,
  together = true,
): Promise<number> {
  if (window > MAX_WINDOW) throw new RangeError(`window ${window} > ${MAX_WINDOW}`);
  const replyBytes = 16 + MODULE_BYTES;
  let sent = 0;
  let received = 0;
  let bytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const send = (socket: net.Socket, k: number) => {
    if (together) socket.write(k === 1 ? MODULE_REQUEST : MODULE_REQUESTS.subarray(0, 16 * k));
    else for (let i = 0; i < k; i++) socket.write(MODULE_REQUEST);
    sent += k;
  };
  const client = await connectRaw(port, (n, socket) => {
    bytes += n;
    let more = 0;
    while (bytes >= replyBytes) {
      bytes -= replyBytes;
      received++;
      if (sent + more < count) more++;
    }
    if (more > 0) send(socket, more);
    if (received >= count) done();
  });
  const t0 = performance.now();
  send(client, Math.min(window, count));
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  return count / seconds;
}
