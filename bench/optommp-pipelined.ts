// Pipelined 64-channel module reads on one connection, shared by bench/cases/optommp.ts and
// bench/micro/optommp-windows.ts: the client three ways (one `readAnalogModule` call per module, one
// `readBlockAs` call per module copying the bytes into the caller's memory, `readBlocksInto` with a
// window's worth of modules per call into the caller's memory) and raw Node baselines doing each of those
// jobs.
//
// A raw baseline is the fastest plain-Node way to keep `window` requests in flight: replies received
// through `onread` into one reused buffer, and the requests freed by the replies completed in one receive
// callback written together in one write (one system call and one wake-up of the device per batch, as
// the client's Pipeline does). It does what a minimal correct client must do with every reply (`RawJob`):
// find where the reply ends, check its header as the client's validator does (response tcode 7, the
// transaction label of the request it answers, status 0, data_length the one asked for) and deliver the
// 4052 data bytes as the client call does: copied into a reused destination per caller (`per-call`), into
// the caller's contiguous destination at the block's offset (`batch`), or decoded by hand into 64 point
// objects (`decode`). `count` only counts bytes (the baseline of the earlier reports, kept as
// information). Requests carry labels 1…63, 0, 1… in turn, as the client's do.

import net from 'node:net';
import { type AnalogPoint, OptoMmpClient } from '@labwire/optommp';
import { encodeReadBlockRequest, epicAnalogReadAddress, offsetOf } from '@labwire/optommp/codec';

/** A whole 64-channel analog module: 63 × 0x40 + 0x14 bytes. */
export const MODULE_BYTES = 63 * 0x40 + 0x14;
const MODULE_ADDRESS = epicAnalogReadAddress(2, 0);
/** A reply: the 16-byte block header and the module. */
const REPLY_BYTES = 16 + MODULE_BYTES;
/** The most requests in flight any run uses (the client's MAX_WINDOW). */
const MAX_WINDOW = 32;
/**
 * 128 requests for the module, the k-th with label (k + 1) mod 64: any run of up to 64 requests starting
 * at any label is one slice of it, written as it is.
 */
const MODULE_REQUESTS = Buffer.concat(
  Array.from({ length: 128 }, (_, k) =>
    encodeReadBlockRequest({ tl: (k + 1) & 63, offset: offsetOf(MODULE_ADDRESS), dataLength: MODULE_BYTES }),
  ),
);

/** Marks the timed part of a run (a bench case reads the CPU time of both processes around it). */
export interface Meter {
  start(): void;
  stop(): void;
}

/** What the last call of a client run returned. */
export let lastResult: unknown;

/**
 * `count` modules read by `callers` concurrent callers on one client with `window` requests in flight:
 * each caller takes the next `per` modules (fewer at the end) and reads them with its own reader (from
 * `readerOf`), again and again. After `warmUps` calls, timed: modules per second.
 */
async function timedReads(
  port: number,
  options: { count: number; window: number; callers: number; per: number; warmUps: number; meter?: Meter },
  readerOf: () => (client: OptoMmpClient, n: number) => Promise<unknown>,
): Promise<number> {
  const { count, window, callers, per, warmUps, meter } = options;
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
        // Kept (the decoded points of readAnalogModule), so that no decoding can be optimised away.
        lastResult = await read(client, n);
      }
    };
    meter?.start();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: callers }, caller));
    const seconds = (performance.now() - t0) / 1000;
    meter?.stop();
    return count / seconds;
  } finally {
    await client.close();
  }
}

/** `count` module reads, one `readAnalogModule` call each, `window` calls in flight: modules per second. */
export function clientModules(port: number, count: number, window: number, meter?: Meter): Promise<number> {
  const read = (client: OptoMmpClient) => client.readAnalogModule(2);
  return timedReads(port, { count, window, callers: window, per: 1, warmUps: 50, meter }, () => read);
}

/**
 * The same calls as `clientModules`, each reading the module's bytes into the caller's memory
 * (`readBlockAs` with a decoder that copies them) instead of decoding 64 point objects: what one call per
 * block costs apart from the decoding. Modules per second.
 */
export function callModules(port: number, count: number, window: number, meter?: Meter): Promise<number> {
  return timedReads(port, { count, window, callers: window, per: 1, warmUps: 50, meter }, () => {
    const into = new Uint8Array(MODULE_BYTES);
    const copy = (data: Uint8Array) => into.set(data);
    return (client) => client.readBlockAs(MODULE_ADDRESS, MODULE_BYTES, copy);
  });
}

/** Callers of `readBlocksInto` asking for `per` modules each: enough for two windows. */
export function batchCallers(window: number, per: number): number {
  return Math.max(2, Math.ceil((2 * window) / per));
}

/**
 * The same module reads as a user chasing throughput writes them: `readBlocksInto`, callers each asking
 * for `per` modules (default a window's worth) into its own memory at a time, enough of them for two
 * windows (while one waits for its replies another's requests fill the window). Modules per second.
 */
export function batchModules(
  port: number,
  count: number,
  window: number,
  per = window,
  meter?: Meter,
): Promise<number> {
  const callers = batchCallers(window, per);
  return timedReads(port, { count, window, callers, per, warmUps: 4, meter }, () => {
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
 * path): `onBytes` gets the number of bytes of every read and the buffer. Resolves once connected.
 */
export function connectRaw(
  port: number,
  onBytes: (n: number, socket: net.Socket, buffer: Buffer) => void,
): Promise<net.Socket> {
  const buffer = Buffer.alloc(64 * 1024);
  return new Promise<net.Socket>((resolve, reject) => {
    const socket: net.Socket = net.connect({
      port,
      host: '127.0.0.1',
      noDelay: true,
      onread: {
        buffer,
        callback: (n: number) => {
          onBytes(n, socket, buffer);
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
 * What the raw client does with each reply (module header and data): `count` only counts bytes; the
 * others check each reply's header and deliver its data like the client call they stand beside.
 */
export type RawJob = 'count' | 'per-call' | 'batch' | 'decode';

export interface RawOptions {
  /** Default `per-call`. */
  job?: RawJob;
  /** Requests freed by one receive callback leave in one write (default); false: one write per request. */
  together?: boolean;
  /** `batch`: modules per caller's call (default the window), as `batchModules`. */
  per?: number;
  meter?: Meter;
}

/** One analog channel block decoded by hand, the fields the client's AnalogPoint has. */
function pointAt(v: DataView, at: number): AnalogPoint {
  return {
    value: v.getFloat32(at, false),
    counts: v.getUint32(at + 4, false),
    min: v.getFloat32(at + 8, false),
    max: v.getFloat32(at + 0xc, false),
    quality: v.getUint32(at + 0x10, false),
  };
}

/** The last module the raw `decode` job decoded (kept, so that its decoding cannot be optimised away). */
export let lastRawPoints: AnalogPoint[] | undefined;

function decodeModule(v: DataView, at: number): AnalogPoint[] {
  const out = new Array<AnalogPoint>(64);
  for (let c = 0; c < 64; c++) out[c] = pointAt(v, at + c * 0x40);
  return out;
}

/**
 * Raw Node pipelining of the same requests to the same device, `window` in flight, each reply handled as
 * `options.job` says. Modules per second; rejects on a reply that fails its check.
 */
export async function rawModules(
  port: number,
  count: number,
  window: number,
  options: RawOptions = {},
): Promise<number> {
  if (window > MAX_WINDOW) throw new RangeError(`window ${window} > ${MAX_WINDOW}`);
  const { job = 'per-call', together = true, per = window, meter } = options;
  // Where replies go: one reused module per caller (a caller per window slot), or each batch caller's
  // contiguous memory (`callers` × `per` modules, reply j at its block's place), or a scratch module for
  // a reply to decode that a read cut in two.
  const callers = job === 'batch' ? batchCallers(window, per) : window;
  const slots =
    job === 'batch'
      ? Array.from({ length: callers }, () => new Uint8Array(per * MODULE_BYTES))
      : Array.from({ length: window }, () => new Uint8Array(MODULE_BYTES));
  const scratch = new Uint8Array(MODULE_BYTES);
  const scratchView = new DataView(scratch.buffer);
  const header = new Uint8Array(16);
  let landView: DataView | undefined;

  let sent = 0;
  let received = 0;
  let bytes = 0; // `count`: bytes of the reply under way
  let headerHave = 0; // bytes of the header under way gathered in `header` (when a read cut it)
  let need = 0; // data bytes of the reply under way still to come
  let dest: Uint8Array = scratch;
  let destEnd = 0; // where the reply's data ends in `dest`
  let failed: Error | undefined;
  let done!: () => void;
  let fail!: (e: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  const send = (socket: net.Socket, k: number) => {
    const first = sent & 63;
    if (together) socket.write(MODULE_REQUESTS.subarray(16 * first, 16 * (first + k)));
    else
      for (let i = 0; i < k; i++)
        socket.write(MODULE_REQUESTS.subarray(16 * ((first + i) & 63), 16 * ((first + i) & 63) + 16));
    sent += k;
  };
  /** The reply's header at `h[at]`: the minimal client's checks, then where its data goes. */
  const check = (h: Uint8Array, at: number): boolean => {
    const tl = (received + 1) & 63;
    if (
      h[at + 3]! >> 4 !== 7 ||
      h[at + 2]! >> 2 !== tl ||
      h[at + 6]! >> 4 !== 0 ||
      ((h[at + 12]! << 8) | h[at + 13]!) !== MODULE_BYTES
    ) {
      failed = new Error(`reply ${received} (label ${tl}) failed its check`);
      return false;
    }
    if (job === 'batch') {
      const j = received % (callers * per);
      dest = slots[Math.floor(j / per)]!;
      destEnd = (j % per) * MODULE_BYTES + MODULE_BYTES;
    } else if (job === 'per-call') {
      dest = slots[received % window]!;
      destEnd = MODULE_BYTES;
    } else {
      dest = scratch;
      destEnd = MODULE_BYTES;
    }
    return true;
  };
  const client = await connectRaw(port, (n, socket, land) => {
    if (failed) return;
    let more = 0;
    if (job === 'count') {
      bytes += n;
      while (bytes >= REPLY_BYTES) {
        bytes -= REPLY_BYTES;
        received++;
        if (sent + more < count) more++;
      }
    } else {
      let i = 0;
      while (i < n) {
        if (need === 0) {
          // A reply starts (or its header goes on) here.
          if (headerHave === 0 && n - i >= 16) {
            if (!check(land, i)) break;
            i += 16;
            if (job === 'decode' && n - i >= MODULE_BYTES) {
              // Whole in this read: decoded where it landed.
              landView ??= new DataView(land.buffer, land.byteOffset, land.byteLength);
              lastRawPoints = decodeModule(landView, i);
              i += MODULE_BYTES;
              received++;
              if (sent + more < count) more++;
              continue;
            }
          } else {
            const k = Math.min(16 - headerHave, n - i);
            header.set(land.subarray(i, i + k), headerHave);
            headerHave += k;
            i += k;
            if (headerHave < 16) break;
            headerHave = 0;
            if (!check(header, 0)) break;
          }
          need = MODULE_BYTES;
        }
        const k = Math.min(need, n - i);
        dest.set(land.subarray(i, i + k), destEnd - need);
        need -= k;
        i += k;
        if (need === 0) {
          if (job === 'decode') lastRawPoints = decodeModule(scratchView, 0);
          received++;
          if (sent + more < count) more++;
        }
      }
      if (failed) {
        socket.destroy();
        fail(failed);
        return;
      }
    }
    if (more > 0) send(socket, more);
    if (received >= count) done();
  });
  // A device that goes away fails the run (never a run that waits for replies that cannot come).
  const lost = (error?: Error) =>
    fail(new Error(`the connection ended after ${received} of ${count} replies`, { cause: error }));
  client.on('error', lost);
  client.on('close', () => lost());
  try {
    meter?.start();
    const t0 = performance.now();
    send(client, Math.min(window, count));
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    meter?.stop();
    return count / seconds;
  } finally {
    client.destroy();
  }
}
