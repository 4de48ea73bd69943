// @labwire/framing benchmarks (issue: framing targets).

import net from 'node:net';
import { ByteReader, FrameDecoder, OnreadSource, writeFrame } from '@labwire/framing';
import { listen, MiB, rawBulkThroughput } from '../baselines';
import { type BenchCase, runChild } from '../harness';

interface FramesOptions {
  /** Receive into one reused, caller-owned buffer (readFrame({ into })). */
  into?: Uint8Array;
}

/**
 * Streams `count` frames of `size` bytes over loopback: the server side sends with writeFrame, the client
 * side receives with readFrame on a socket read through an OnreadSource. Returns MiB/s.
 */
async function framesOverSocket(count: number, size: number, options: FramesOptions = {}): Promise<number> {
  const payload = new Uint8Array(size).fill(0x42);
  const server = net.createServer();
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

// --- 64-byte frames: FrameDecoder against a minimal hand-written parser on the same bytes -------------

const SMALL_FRAMES = 200_000;
const smallChunks: Buffer[] = (() => {
  const frame = Buffer.alloc(68, 0x33);
  frame.writeUInt32BE(64, 0);
  const all = Buffer.alloc(frame.length * SMALL_FRAMES);
  for (let i = 0; i < SMALL_FRAMES; i++) frame.copy(all, i * frame.length);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += 65_536) chunks.push(all.subarray(at, at + 65_536));
  return chunks;
})();

/** What a user would write by hand: concat the leftover with each chunk, slice frames out. */
function minimalParser(chunks: readonly Buffer[]): number {
  let pending: Buffer | null = null;
  let frames = 0;
  for (const chunk of chunks) {
    const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      const payload = buf.subarray(off + 4, off + 4 + len);
      if (payload.length !== len) throw new Error('short frame');
      frames++;
      off += 4 + len;
    }
    pending = off < buf.length ? buf.subarray(off) : null;
  }
  return frames;
}

function timeFramesPerSecond(parse: () => number): number {
  const t0 = performance.now();
  let frames = 0;
  for (let round = 0; round < 5; round++) frames += parse();
  return frames / ((performance.now() - t0) / 1000);
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

/** Caller-owned destinations reused across frames and runs, as a streaming consumer would. */
const reusedDestination = new Uint8Array(32 * MiB);
const reusedFrame = new Uint8Array(MiB);

export const cases: BenchCase[] = [
  {
    name: 'framing.frames-1MiB',
    metric: 'throughput, 128 × 1 MiB frames via writeFrame/readFrame, one reused destination (into)',
    unit: 'MiB/s',
    target: 0.9,
    compare: 'ratio>=',
    baselineName: 'raw net bulk, 64 KiB writes',
    baseline: () => rawBulkThroughput(128 * MiB),
    run: () => framesOverSocket(128, MiB, { into: reusedFrame }),
  },
  {
    name: 'framing.frames-1MiB-fresh',
    metric: 'throughput, 128 × 1 MiB frames, each into a fresh allocation (first-touch page faults)',
    unit: 'MiB/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net bulk, 64 KiB writes',
    baseline: () => rawBulkThroughput(128 * MiB),
    run: () => framesOverSocket(128, MiB),
  },
  {
    name: 'framing.frames-64B',
    metric: 'FrameDecoder, 200k × 64-byte frames in 64 KiB chunks',
    unit: 'frames/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: 'minimal hand-written JS parser, same bytes',
    baseline: async () => timeFramesPerSecond(() => minimalParser(smallChunks)),
    run: async () =>
      timeFramesPerSecond(() => {
        const decoder = new FrameDecoder({ maxBytes: 1024 });
        let n = 0;
        for (const c of smallChunks) n += decoder.push(c).length;
        return n;
      }),
  },
  {
    name: 'framing.readUntil-1byte-chunks',
    metric: 'cost of a 4 MiB line / cost of a 1 MiB line, 1-byte chunks',
    unit: 's',
    target: 4.5,
    compare: 'ratio<=',
    baselineName: '1 MiB line, same reader',
    baseline: () => readUntilOneByteChunks(MiB),
    run: () => readUntilOneByteChunks(4 * MiB),
    runs: 3,
  },
  {
    name: 'framing.message-32MiB',
    metric: 'one 32 MiB length-prefixed message received into a reused buffer',
    unit: 'MiB/s',
    target: 0.9,
    compare: 'ratio>=',
    baselineName: 'raw net bulk, 64 KiB writes',
    baseline: () => rawBulkThroughput(32 * MiB),
    run: () => framesOverSocket(1, 32 * MiB, { into: reusedDestination }),
  },
  {
    name: 'framing.message-32MiB-fresh',
    metric: 'one 32 MiB message into a fresh allocation (first-touch page faults included)',
    unit: 'MiB/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net bulk, 64 KiB writes',
    baseline: () => rawBulkThroughput(32 * MiB),
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
