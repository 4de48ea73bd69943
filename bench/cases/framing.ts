// @labwire/framing benchmarks. The socket cases send with writeFrame and receive with readFrame through an
// OnreadSource; their baseline is plain `net` doing the same job: the same payload buffer, the same writes
// (header and first 1 MiB slice under cork, then 1 MiB slices with 'drain'), `onread` into one reused
// 64 KiB landing buffer, each payload copied into the same kind of destination (bench/baselines.ts).

import net from 'node:net';
import { ByteReader, FrameDecoder, OnreadSource, writeFrame } from '@labwire/framing';
import { listen, MiB, rawBulkDataEvents, rawFrameStream, reusedDestination } from '../baselines';
import { type BenchCase, runChild } from '../harness';

/** Payloads live as long as the process, as the baselines' do: a run never sends from fresh pages. */
const payloads = new Map<number, Uint8Array>();
function payloadOf(size: number): Uint8Array {
  let p = payloads.get(size);
  if (p === undefined) {
    p = new Uint8Array(size).fill(0x42);
    payloads.set(size, p);
  }
  return p;
}

interface FramesOptions {
  /** Receive into one reused, caller-owned buffer (readFrame({ into })). */
  into?: Uint8Array;
}

/**
 * Streams `count` frames of `size` bytes over loopback: the server side sends with writeFrame, the client
 * side receives with readFrame on a socket read through an OnreadSource. Returns MiB/s.
 */
async function framesOverSocket(count: number, size: number, options: FramesOptions = {}): Promise<number> {
  const payload = payloadOf(size);
  const server = net.createServer({ noDelay: true });
  const accepted = new Promise<net.Socket>((resolve) => {
    server.once('connection', resolve);
  });
  const port = await listen(server);
  const source = new OnreadSource();
  const client = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: source.onread });
  await new Promise((resolve) => client.once('connect', resolve));
  const sender = await accepted;
  const reader = new ByteReader(source.attach(client), { maxFrame: size, timeoutMs: 30_000 });
  const t0 = performance.now();
  const sending = (async () => {
    for (let i = 0; i < count; i++) await writeFrame(sender, payload, { timeoutMs: 30_000 });
  })();
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += (await reader.readFrame({ into: options.into })).length;
  await sending;
  const seconds = (performance.now() - t0) / 1000;
  reader.close();
  client.destroy();
  sender.destroy();
  server.close();
  if (bytes !== count * size) throw new Error(`received ${bytes} bytes, expected ${count * size}`);
  return bytes / MiB / seconds;
}

// --- 64-byte frames: FrameDecoder against the fastest hand-written decoder of the same bytes ------------

const SMALL_FRAMES = 200_000;
const SMALL_PAYLOAD = 64;
/** 200k frames of 4 + 64 bytes cut into 64 KiB chunks (68 does not divide 65 536: frames straddle chunks). */
const smallChunks: Uint8Array[] = (() => {
  const frame = Buffer.alloc(4 + SMALL_PAYLOAD, 0x33);
  frame.writeUInt32BE(SMALL_PAYLOAD, 0);
  const all = Buffer.alloc(frame.length * SMALL_FRAMES);
  for (let i = 0; i < SMALL_FRAMES; i++) frame.copy(all, i * frame.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < all.length; at += 65_536) chunks.push(all.subarray(at, at + 65_536));
  return chunks;
})();

/**
 * The same job written by hand, as fast as plain JS does it: a payload inside a chunk is a view of it, a
 * frame cut by a chunk boundary is assembled in a buffer of exactly its size, each payload goes straight
 * to the consumer (no result array, no object). Returns the payload bytes seen.
 */
function handDecoder(chunks: readonly Uint8Array[]): number {
  let bytes = 0;
  let header = 0;
  let headerFill = 0;
  let partial: Uint8Array | undefined;
  let partialFill = 0;
  for (const chunk of chunks) {
    const n = chunk.length;
    let at = 0;
    while (at < n) {
      if (partial !== undefined) {
        const take = Math.min(partial.length - partialFill, n - at);
        partial.set(chunk.subarray(at, at + take), partialFill);
        partialFill += take;
        at += take;
        if (partialFill < partial.length) break;
        bytes += partial.length;
        partial = undefined;
        continue;
      }
      if (headerFill === 0 && n - at >= 4) {
        header = ((chunk[at]! << 24) | (chunk[at + 1]! << 16) | (chunk[at + 2]! << 8) | chunk[at + 3]!) >>> 0;
        at += 4;
      } else {
        while (headerFill < 4 && at < n) {
          header = ((header << 8) | chunk[at++]!) >>> 0;
          headerFill++;
        }
        if (headerFill < 4) break;
        headerFill = 0;
      }
      if (n - at >= header) {
        bytes += chunk.subarray(at, at + header).length;
        at += header;
      } else {
        partial = new Uint8Array(header);
        partialFill = 0;
      }
      header = 0;
    }
  }
  return bytes;
}

function decoderPayloadBytes(chunks: readonly Uint8Array[]): number {
  const decoder = new FrameDecoder({ maxBytes: 1024 });
  let bytes = 0;
  for (const c of chunks) for (const frame of decoder.push(c)) bytes += frame.length;
  return bytes;
}

/** Frames per second over 5 passes through the chunks. */
function framesPerSecond(decode: (chunks: readonly Uint8Array[]) => number): number {
  const t0 = performance.now();
  let bytes = 0;
  for (let round = 0; round < 5; round++) bytes += decode(smallChunks);
  const seconds = (performance.now() - t0) / 1000;
  if (bytes !== 5 * SMALL_FRAMES * SMALL_PAYLOAD) throw new Error(`decoded ${bytes} payload bytes`);
  return (5 * SMALL_FRAMES) / seconds;
}

// --- readUntil over 1-byte chunks --------------------------------------------------------------------

async function readUntilOneByteChunks(size: number): Promise<number> {
  const line = new Uint8Array(size).fill(0x61);
  line[size - 1] = 0x0a;
  async function* oneByte() {
    for (let i = 0; i < size; i++) yield line.subarray(i, i + 1);
  }
  const reader = new ByteReader(oneByte(), { maxBuffer: size + 16, timeoutMs: 120_000 });
  const t0 = performance.now();
  const { data } = await reader.readUntil('\n');
  const seconds = (performance.now() - t0) / 1000;
  reader.close();
  if (data.length !== size - 1) throw new Error(`line of ${data.length}`);
  return seconds;
}

const RAW_SAME_JOB = 'raw net, same writes, onread (64 KiB landing) copying into';

export const cases: BenchCase[] = [
  {
    name: 'framing.frames-1MiB',
    metric: '128 × 1 MiB frames, writeFrame → readFrame into one reused destination',
    unit: 'MiB/s',
    target: 0.9,
    compare: 'ratio>=',
    baselineName: `${RAW_SAME_JOB} one reused destination`,
    baseline: () => rawFrameStream({ payload: payloadOf(MiB), count: 128, into: 'reused' }),
    run: () => framesOverSocket(128, MiB, { into: reusedDestination(MiB) }),
  },
  {
    name: 'framing.frames-1MiB-fresh',
    metric: '128 × 1 MiB frames, each into a fresh allocation (first-touch page faults)',
    unit: 'MiB/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `${RAW_SAME_JOB} a fresh allocation per frame`,
    baseline: () => rawFrameStream({ payload: payloadOf(MiB), count: 128, into: 'fresh' }),
    run: () => framesOverSocket(128, MiB),
  },
  {
    // The baseline of this case before issue 18: the socket's default 'data' path, 64 KiB writes from one
    // cache-resident block. It shows what onread and a reused destination buy, not how close we are.
    name: 'framing.frames-1MiB-vs-data-events',
    metric: '128 × 1 MiB frames into one reused destination, against the old baseline',
    unit: 'MiB/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: "raw net, 64 KiB writes of one cached block, 'data' events (a Buffer per read)",
    baseline: () => rawBulkDataEvents(128 * MiB),
    run: () => framesOverSocket(128, MiB, { into: reusedDestination(MiB) }),
  },
  {
    name: 'framing.frames-64B',
    metric: 'FrameDecoder, 200k × 64-byte frames in 64 KiB chunks',
    unit: 'frames/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName:
      'hand-written decoder: views inside a chunk, exact-size buffer across chunks, no result array',
    baseline: async () => framesPerSecond(handDecoder),
    run: async () => framesPerSecond(decoderPayloadBytes),
  },
  {
    name: 'framing.readUntil-1byte-chunks',
    // A scaling check, not a race: a search that restarted from the front on every byte would make the
    // 4x longer line cost 16x.
    metric: 'cost of a 1 MiB line / cost of a 256 KiB line, 1-byte chunks (linear: 4)',
    unit: 's',
    target: 4.5,
    compare: 'ratio<=',
    baselineName: '256 KiB line, same reader',
    baseline: () => readUntilOneByteChunks(MiB / 4),
    run: () => readUntilOneByteChunks(MiB),
  },
  {
    name: 'framing.message-32MiB',
    metric: 'one 32 MiB frame, writeFrame → readFrame into a reused destination',
    unit: 'MiB/s',
    target: 0.9,
    compare: 'ratio>=',
    baselineName: `${RAW_SAME_JOB} one reused destination`,
    baseline: () => rawFrameStream({ payload: payloadOf(32 * MiB), count: 1, into: 'reused' }),
    run: () => framesOverSocket(1, 32 * MiB, { into: reusedDestination(32 * MiB) }),
  },
  {
    name: 'framing.message-32MiB-fresh',
    metric: 'one 32 MiB frame into a fresh allocation (first-touch page faults included)',
    unit: 'MiB/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `${RAW_SAME_JOB} a fresh allocation`,
    baseline: () => rawFrameStream({ payload: payloadOf(32 * MiB), count: 1, into: 'fresh' }),
    run: () => framesOverSocket(1, 32 * MiB),
  },
  {
    name: 'framing.message-32MiB-rss',
    metric: 'peak RSS growth / message size (fresh process)',
    unit: 'x',
    target: 1.5,
    compare: 'value<=',
    baselineName: '-',
    run: async () =>
      (await runChild<{ growthRatio: number }>('bench/child/framing-large-message.ts', [String(32 * MiB)]))
        .growthRatio,
    runs: 3,
    noWarmup: true,
  },
];
