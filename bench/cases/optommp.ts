// @labwire/optommp benchmarks (issue 5):
// - sequential uptime reads through OptoMmpClient against the groov EPIC simulator, compared with the raw
//   16-byte request / 20-byte reply ping-pong (the same packet sizes: a read block request of 4 bytes and its
//   response); target >= 0.80;
// - the seeds' style (a new connection per request, as the Opto 22 python examples do) against the
//   persistent client (informational);
// - a whole 64-channel analog module (63 × 0x40 + 0x14 = 4052 bytes) read in one request, against the raw
//   ping-pong of the same sizes (informational), and the same read split into 1 024-byte packets.

import { OptoMmpClient } from '@labwire/optommp';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { rawPingPong } from '../baselines';
import type { BenchCase } from '../harness';

const UPTIME_COUNT = 10_000;
const SEED_COUNT = 500;
const MODULE_COUNT = 2_000;
const MODULE_BYTES = 63 * 0x40 + 0x14;

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
    baselineName: 'raw net ping-pong, 16 B out / 20 B back',
    baseline: () => rawPingPong({ requestBytes: 16, replyBytes: 20, count: UPTIME_COUNT }),
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
    target: 0,
    compare: 'ratio>=',
    baselineName: `raw net ping-pong, 16 B out / ${16 + MODULE_BYTES} B back`,
    baseline: () => rawPingPong({ requestBytes: 16, replyBytes: 16 + MODULE_BYTES, count: MODULE_COUNT }),
    run: () => analogModule(MODULE_COUNT, 4096),
    runs: 3,
    informational: true,
  },
  {
    name: 'optommp.analog-module-chunked',
    metric: '64-channel analog module in 1024-byte packets (4 requests)',
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    baselineName: 'the same module in one request',
    baseline: () => analogModule(MODULE_COUNT, 4096),
    run: () => analogModule(MODULE_COUNT, 1024),
    runs: 3,
    informational: true,
  },
];
