// @labwire/tcp benchmarks (issue 3):
// - sequential `request` of 16 bytes out, 24 back, against plain `net` doing the same exchange with the
//   same server: a client reading through `onread` and writing the next request from its receive callback
//   (target >= 0.85);
// - the soak: 100,000 requests through the fault proxy, which resets the connection every 1,000
//   requests; counts replies delivered to the wrong caller, duplicated non-idempotent writes seen by the
//   server, and failures that are not typed labwire errors (all must be 0).

import net from 'node:net';
import { type ByteReader, LabwireError, type OperationOptions, viewOf } from '@labwire/framing';
import { TcpInterface } from '@labwire/tcp';
import { FaultProxy, startTaggingServer } from '@labwire/testkit';
import { listen, rawExchange, rawExchangeAwaited, rawReplyServer } from '../baselines';
import type { BenchCase } from '../harness';

const REQUEST_BYTES = 16;
const REPLY_BYTES = 24;
const PING_PONG_COUNT = 20_000;

const readReply = (reader: ByteReader, options: OperationOptions) => reader.readExactly(REPLY_BYTES, options);

async function tcpPingPong(count: number): Promise<number> {
  // The same server as the baseline's (bench/baselines.ts).
  const server = rawReplyServer(REQUEST_BYTES, REPLY_BYTES);
  const port = await listen(server);
  const tcp = new TcpInterface('127.0.0.1', port, { timeoutMs: 5_000 });
  await tcp.connect();
  const request = new Uint8Array(REQUEST_BYTES).fill(0x51);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await tcp.request(request, readReply);
  const seconds = (performance.now() - t0) / 1000;
  await tcp.close();
  server.close();
  return count / seconds;
}

// --- latency (docs/protocols/tcpinterface.md G11) and deadline overshoot (docs/protocols/tcpinterface.md G3) ----------------------------------------------

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** 1,000 sequential 64-byte round trips against an echo server; latencies in ms, sorted. */
async function latencies64(): Promise<number[]> {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => sock.write(chunk));
  });
  const port = await listen(server);
  const tcp = new TcpInterface('127.0.0.1', port, { timeoutMs: 5_000 });
  await tcp.connect();
  const request = new Uint8Array(64).fill(0x40);
  const read64 = (reader: ByteReader, options: OperationOptions) => reader.readExactly(64, options);
  const out: number[] = [];
  for (let i = 0; i < 1_000; i++) {
    const t0 = performance.now();
    await tcp.request(request, read64);
    out.push(performance.now() - t0);
  }
  await tcp.close();
  server.close();
  return out.sort((a, b) => a - b);
}

/** How late operations on a silent peer fail after their deadline (ms, p99), requests and recv mixed. */
async function deadlineOvershootP99(): Promise<number> {
  const DEADLINE_MS = 20;
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
  });
  const port = await listen(server);
  const tcp = new TcpInterface('127.0.0.1', port, {
    timeoutMs: DEADLINE_MS,
    desync: 'drain',
    drainQuietMs: 2,
    maxConsecutiveTimeouts: Number.MAX_SAFE_INTEGER,
  });
  await tcp.connect({ timeoutMs: 2_000 });
  const overshoot: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t0 = performance.now();
    try {
      if (i % 2 === 0) await tcp.request(new Uint8Array(16), readReply);
      else await tcp.recv();
      throw new Error('a silent peer answered');
    } catch (error) {
      if (!LabwireError.isInstance(error) || error.code !== 'Timeout') throw error;
    }
    overshoot.push(performance.now() - t0 - DEADLINE_MS);
  }
  await tcp.close();
  server.close();
  return quantile(
    overshoot.sort((a, b) => a - b),
    0.99,
  );
}

// --- soak ---------------------------------------------------------------------------------------------

const SOAK_REQUESTS = 100_000;
const RESET_EVERY = 1_000;
/** Every IDEMPOTENT_EVERY-th request is marked idempotent (it may legitimately reach the server twice). */
const IDEMPOTENT_EVERY = 7;

interface SoakCounts {
  requests: number;
  succeeded: number;
  failedTyped: number;
  failedUntyped: number;
  wrongReplies: number;
  duplicateNonIdempotent: number;
  duplicateIdempotent: number;
  resets: number;
  codes: Record<string, number>;
  seconds: number;
}

async function soak(): Promise<SoakCounts> {
  const seen = new Uint8Array(SOAK_REQUESTS);
  let duplicateNonIdempotent = 0;
  let duplicateIdempotent = 0;
  const server = await startTaggingServer({
    requestBytes: REQUEST_BYTES,
    replyBytes: REPLY_BYTES,
    onRequest(request) {
      const tag = viewOf(request).getUint32(0);
      if (seen[tag]! > 0) {
        if (tag % IDEMPOTENT_EVERY === 0) duplicateIdempotent++;
        else duplicateNonIdempotent++;
      }
      seen[tag] = Math.min(255, seen[tag]! + 1);
    },
  });
  // RST after the RESET_EVERY-th request of each connection has reached the server: its reply is lost.
  const proxy = await FaultProxy.start({
    target: { port: server.port },
    upstream: { resetAfterBytes: REQUEST_BYTES * RESET_EVERY },
  });
  const tcp = new TcpInterface('127.0.0.1', proxy.port, {
    timeoutMs: 2_000,
    connectTimeoutMs: 1_000,
    offlineQueue: 1,
    reconnect: { initialDelayMs: 1, maxDelayMs: 10 },
  });
  let resets = 0;
  tcp.on('disconnected', () => resets++);
  const counts: SoakCounts = {
    requests: SOAK_REQUESTS,
    succeeded: 0,
    failedTyped: 0,
    failedUntyped: 0,
    wrongReplies: 0,
    duplicateNonIdempotent: 0,
    duplicateIdempotent: 0,
    resets: 0,
    codes: {},
    seconds: 0,
  };
  const t0 = performance.now();
  for (let tag = 0; tag < SOAK_REQUESTS; tag++) {
    const request = new Uint8Array(REQUEST_BYTES);
    viewOf(request).setUint32(0, tag);
    try {
      const reply = await tcp.request(request, readReply, { idempotent: tag % IDEMPOTENT_EVERY === 0 });
      if (viewOf(reply).getUint32(0) !== tag) counts.wrongReplies++;
      else counts.succeeded++;
    } catch (error) {
      if (LabwireError.isInstance(error)) {
        counts.failedTyped++;
        counts.codes[error.code] = (counts.codes[error.code] ?? 0) + 1;
      } else {
        counts.failedUntyped++;
      }
    }
  }
  counts.seconds = (performance.now() - t0) / 1000;
  await tcp.close();
  await proxy.close();
  await server.close();
  counts.duplicateNonIdempotent = duplicateNonIdempotent;
  counts.duplicateIdempotent = duplicateIdempotent;
  counts.resets = resets;
  process.stderr.write(
    `  soak: ${counts.requests} requests in ${counts.seconds.toFixed(1)} s, ${counts.resets} resets; ` +
      `succeeded ${counts.succeeded}, failed with a typed error ${counts.failedTyped} ${JSON.stringify(counts.codes)}, ` +
      `untyped ${counts.failedUntyped}; wrong replies ${counts.wrongReplies}; duplicated writes: ` +
      `non-idempotent ${counts.duplicateNonIdempotent}, idempotent (allowed) ${counts.duplicateIdempotent}\n`,
  );
  return counts;
}

let soakRun: Promise<SoakCounts> | undefined;
const soakOnce = () => {
  soakRun ??= soak();
  return soakRun;
};

function soakCase(
  name: string,
  metric: string,
  pick: (c: SoakCounts) => number,
  informational = false,
): BenchCase {
  return {
    name: `tcp.soak-${name}`,
    metric,
    unit: 'requests',
    target: 0,
    compare: 'value<=',
    baselineName: '-',
    run: async () => pick(await soakOnce()),
    runs: 1,
    noWarmup: true,
    informational,
  };
}

export const cases: BenchCase[] = [
  {
    name: 'tcp.request-16-24',
    metric: 'sequential round trips',
    unit: 'rt/s',
    target: 0.85,
    compare: 'ratio>=',
    baselineName: 'raw net 16/24, onread client writing from its receive callback, same server',
    baseline: () => rawExchange({ request: REQUEST_BYTES, replyBytes: REPLY_BYTES, count: PING_PONG_COUNT }),
    run: () => tcpPingPong(PING_PONG_COUNT),
  },
  {
    // What an awaited promise per round trip costs a plain client: the shape of any async request API.
    name: 'tcp.request-16-24-vs-awaited',
    metric: 'sequential round trips, against a raw client that awaits each reply',
    unit: 'rt/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net 16/24, onread client awaiting a promise per round trip',
    baseline: () =>
      rawExchangeAwaited({ request: REQUEST_BYTES, replyBytes: REPLY_BYTES, count: PING_PONG_COUNT }),
    run: () => tcpPingPong(PING_PONG_COUNT),
  },
  {
    name: 'tcp.latency-64-p50',
    metric: 'p50 of 1,000 sequential 64-byte round trips',
    unit: 'ms',
    target: 1,
    compare: 'value<=',
    baselineName: '-',
    run: async () => quantile(await latencies64(), 0.5),
    minRuns: 3,
  },
  {
    name: 'tcp.latency-64-max',
    metric: 'max of 1,000 sequential 64-byte round trips (no Nagle stalls)',
    unit: 'ms',
    target: 20,
    compare: 'value<=',
    baselineName: '-',
    run: async () => (await latencies64()).at(-1)!,
    minRuns: 3,
  },
  {
    name: 'tcp.deadline-overshoot-p99',
    metric: 'lateness of timeouts on a silent peer (p99)',
    unit: 'ms',
    target: 50,
    compare: 'value<=',
    baselineName: '-',
    run: deadlineOvershootP99,
    runs: 3,
  },
  soakCase('wrong-replies', 'replies to the wrong caller (100k, RST every 1k)', (c) => c.wrongReplies),
  soakCase('duplicate-writes', 'non-idempotent writes seen twice', (c) => c.duplicateNonIdempotent),
  soakCase('untyped-failures', 'failures without a typed error', (c) => c.failedUntyped),
  soakCase('unaccounted', 'requests neither succeeded nor failed typed', (c) => {
    return c.requests - c.succeeded - c.failedTyped - c.failedUntyped - c.wrongReplies;
  }),
  soakCase('failed-typed', 'requests failed with a typed error (info)', (c) => c.failedTyped, true),
];
