// @labwire/optommp benchmarks (issues 5, 18):
// - sequential uptime reads through OptoMmpClient against the groov EPIC simulator, compared with a raw
//   round trip of the same sizes (a 16-byte read block request, its 20-byte response); target >= 0.80;
// - a whole 64-channel analog module (63 × 0x40 + 0x14 = 4052 bytes) read in one request, against a raw
//   round trip of the same sizes (16 B out, 4068 B back); target >= 0.70;
// - the same module in 1 024-byte packets (four requests), against four raw round trips of the same
//   sizes; target >= 0.60;
// - the seeds' style (a new connection per request, as the Opto 22 python examples do) against the
//   persistent client (informational).
// Raw baselines: plain `net` in the same process as the case (client and server, like client and
// simulator), the client receiving through `onread` into one reused buffer, the server answering from
// its 'data' events as the simulator does.

import net from 'node:net';
import { OptoMmpClient } from '@labwire/optommp';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { listen } from '../baselines';
import type { BenchCase } from '../harness';

const UPTIME_COUNT = 10_000;
const SEED_COUNT = 500;
const MODULE_COUNT = 2_000;
const MODULE_BYTES = 63 * 0x40 + 0x14;
/** Response sizes of the module read in 1 024-byte packets: three full chunks and the rest. */
const MODULE_CHUNKS = [16 + 1024, 16 + 1024, 16 + 1024, 16 + MODULE_BYTES - 3 * 1024];

/**
 * Raw sequential round trips: the client writes a 16-byte request and waits for the whole reply, going
 * through `replies` (one reply size per request) `count` times. Returns rounds per second.
 */
async function rawRoundTrips(replies: readonly number[], count: number): Promise<number> {
  const answers = replies.map((n) => Buffer.alloc(n, 0x52));
  const server = net.createServer({ noDelay: true }, (sock) => {
    let pending = 0;
    let k = 0;
    sock.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      while (pending >= 16) {
        pending -= 16;
        sock.write(answers[k]!);
        k = (k + 1) % answers.length;
      }
    });
  });
  const port = await listen(server);
  let got = 0;
  let want = 0;
  let wake: (() => void) | undefined;
  const client = net.connect({
    port,
    host: '127.0.0.1',
    noDelay: true,
    onread: {
      buffer: Buffer.alloc(64 * 1024),
      callback: (n: number) => {
        got += n;
        if (got >= want && wake !== undefined) {
          const w = wake;
          wake = undefined;
          w();
        }
        return true;
      },
    },
  });
  await new Promise((resolve) => client.once('connect', resolve));
  const request = Buffer.alloc(16, 0x51);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    for (const size of replies) {
      want = size;
      const arrived = new Promise<void>((resolve) => {
        wake = resolve;
      });
      client.write(request);
      await arrived;
      got -= size;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  server.close();
  return count / seconds;
}

async function withSimulator<T>(
  options: { maxBlockBytes?: number },
  fn: (port: number) => Promise<T>,
): Promise<T> {
  const sim = await EpicSimulator.start({ maxBlockBytes: options.maxBlockBytes });
  try {
    return await fn(sim.port);
  } finally {
    await sim.close();
  }
}

/** Persistent client, sequential uptime reads: reads per second. */
function clientUptime(count: number): Promise<number> {
  return withSimulator({}, async (port) => {
    const client = new OptoMmpClient({ host: '127.0.0.1', port, timeoutMs: 5_000 });
    await client.connect();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await client.uptime();
    const seconds = (performance.now() - t0) / 1000;
    await client.close();
    return count / seconds;
  });
}

/** The seeds' style: connect, one uptime read, close, every time. */
function seedStyleUptime(count: number): Promise<number> {
  return withSimulator({}, async (port) => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const client = new OptoMmpClient({ host: '127.0.0.1', port, timeoutMs: 5_000 });
      await client.uptime();
      await client.close();
    }
    return count / ((performance.now() - t0) / 1000);
  });
}

/** A whole analog module: one request when maxBlockBytes allows, else 1 024-byte chunks. */
function analogModule(count: number, maxBlockBytes: number): Promise<number> {
  return withSimulator({ maxBlockBytes: Math.max(maxBlockBytes, 2048) }, async (port) => {
    const client = new OptoMmpClient({ host: '127.0.0.1', port, timeoutMs: 5_000, maxBlockBytes });
    await client.connect();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await client.readAnalogModule(2);
    const seconds = (performance.now() - t0) / 1000;
    await client.close();
    return count / seconds;
  });
}

export const cases: BenchCase[] = [
  {
    name: 'optommp.uptime-sequential',
    metric: 'uptime reads, one connection',
    unit: 'req/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: 'raw net round trips, 16 B out / 20 B back (onread)',
    baseline: () => rawRoundTrips([20], UPTIME_COUNT),
    run: () => clientUptime(UPTIME_COUNT),
  },
  {
    name: 'optommp.seed-style',
    metric: 'uptime reads, new connection each (python seed style)',
    unit: 'req/s',
    target: 0,
    compare: 'ratio>=',
    baselineName: 'persistent OptoMmpClient',
    baseline: () => clientUptime(SEED_COUNT * 4),
    run: () => seedStyleUptime(SEED_COUNT),
    runs: 3,
    informational: true,
  },
  {
    name: 'optommp.analog-module-one-request',
    metric: '64-channel analog module (4052 B) in one request',
    unit: 'modules/s',
    target: 0.7,
    compare: 'ratio>=',
    baselineName: `raw net round trips, 16 B out / ${16 + MODULE_BYTES} B back (onread)`,
    baseline: () => rawRoundTrips([16 + MODULE_BYTES], MODULE_COUNT),
    run: () => analogModule(MODULE_COUNT, 4096),
  },
  {
    name: 'optommp.analog-module-chunked',
    metric: '64-channel analog module in 1024-byte packets (4 requests)',
    unit: 'modules/s',
    target: 0.6,
    compare: 'ratio>=',
    baselineName: `raw net, 4 round trips of ${MODULE_CHUNKS.join('/')} B back (onread)`,
    baseline: () => rawRoundTrips(MODULE_CHUNKS, MODULE_COUNT),
    run: () => analogModule(MODULE_COUNT, 1024),
  },
];
