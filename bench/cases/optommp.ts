// @labwire/optommp benchmarks (issues 5 and 18). The baselines are raw round trips of the same sizes on
// plain `net` (bench/baselines.ts: an `onread` client writing the next request from its receive callback,
// a 'data' server answering at once), so a ratio says how close client + device model come to what the
// machine does for that many bytes:
// - sequential uptime reads (16-byte read block request, 20-byte response), target >= 0.80;
// - a whole 64-channel analog module (63 × 0x40 + 0x14 = 4052 bytes) in one request (a 4068-byte
//   response), target >= 0.70;
// - the same module in 1 KiB packets (3 × 1024 + 980 data bytes), against raw round trips of the same
//   packets with the same window (requests in flight), target >= 0.60;
// - for context: the seeds' style (a new connection per request, as the Opto 22 python examples do), and
//   the module read by a raw client from the same simulator (how much of the gap is the device model).

import { OptoMmpClient } from '@labwire/optommp';
import { encodeReadBlockRequest, epicAnalogReadAddress, OFFSET_PREFIX } from '@labwire/optommp/codec';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { rawExchange } from '../baselines';
import type { BenchCase } from '../harness';

const UPTIME_COUNT = 10_000;
const SEED_COUNT = 500;
const MODULE_COUNT = 2_000;
const MODULE_BYTES = 63 * 0x40 + 0x14;
/** OptoMMP read block response: a 16-byte header, then the data. */
const RESPONSE_HEADER = 16;
const PACKET_BYTES = 1024;
/** Data bytes of each packet when the module is read in PACKET_BYTES packets: 1024, 1024, 1024, 980. */
const PACKETS = Array.from({ length: Math.ceil(MODULE_BYTES / PACKET_BYTES) }, (_, i) =>
  Math.min(PACKET_BYTES, MODULE_BYTES - i * PACKET_BYTES),
);
/**
 * Packet requests the client keeps in flight while reading a module in packets (1: one after the other).
 * The baseline uses the same window: change both together if the client starts pipelining.
 */
const PACKET_WINDOW = 1;

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

/** A raw client reading the module in one read block request from the simulator itself. */
function rawModuleFromSimulator(count: number): Promise<number> {
  return withSimulator({ maxBlockBytes: 4096 }, (port) =>
    rawExchange(
      {
        request: encodeReadBlockRequest({
          offset: OFFSET_PREFIX + epicAnalogReadAddress(2, 0),
          dataLength: MODULE_BYTES,
        }),
        replyBytes: RESPONSE_HEADER + MODULE_BYTES,
        count,
      },
      { port },
    ),
  );
}

export const cases: BenchCase[] = [
  {
    name: 'optommp.uptime-sequential',
    metric: 'uptime reads, one connection',
    unit: 'req/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: 'raw net round trips, 16 B out / 20 B back',
    baseline: () => rawExchange({ request: 16, replyBytes: 20, count: UPTIME_COUNT }),
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
    minRuns: 3,
    informational: true,
  },
  {
    name: 'optommp.analog-module-one-request',
    metric: '64-channel analog module (4052 B) in one request',
    unit: 'modules/s',
    target: 0.7,
    compare: 'ratio>=',
    baselineName: `raw net round trips, 16 B out / ${RESPONSE_HEADER + MODULE_BYTES} B back`,
    baseline: () =>
      rawExchange({ request: 16, replyBytes: RESPONSE_HEADER + MODULE_BYTES, count: MODULE_COUNT }),
    run: () => analogModule(MODULE_COUNT, 4096),
  },
  {
    name: 'optommp.analog-module-chunked',
    metric: `64-channel analog module in ${PACKET_BYTES}-byte packets (${PACKETS.length} requests)`,
    unit: 'modules/s',
    target: 0.6,
    compare: 'ratio>=',
    baselineName: `raw net round trips of the same packets (16 B out / ${PACKETS.map((n) => RESPONSE_HEADER + n).join(', ')} B back), window ${PACKET_WINDOW}`,
    baseline: async () =>
      (await rawExchange({
        request: 16,
        replyBytes: PACKETS.map((n) => RESPONSE_HEADER + n),
        count: PACKETS.length * MODULE_COUNT,
        window: PACKET_WINDOW,
      })) / PACKETS.length,
    run: () => analogModule(MODULE_COUNT, PACKET_BYTES),
  },
  {
    // The same read by a raw client from the same simulator: separates the client's cost from the device
    // model's (the simulator parses, checks and copies like a device, which a raw server does not).
    name: 'optommp.analog-module-vs-raw-client',
    metric: '64-channel analog module in one request, against a raw client on the same simulator',
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net client, the same read block request, same simulator',
    baseline: () => rawModuleFromSimulator(MODULE_COUNT),
    run: () => analogModule(MODULE_COUNT, 4096),
  },
];
