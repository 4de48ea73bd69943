// @labwire/optommp benchmarks (issues 5, 18):
// - sequential uptime reads through OptoMmpClient against the groov EPIC simulator, compared with a raw
//   round trip of the same sizes (a 16-byte read block request, its 20-byte response); target >= 0.80;
// - a whole 64-channel analog module (63 × 0x40 + 0x14 = 4052 bytes) read in one request, against a raw
//   round trip of the same sizes (16 B out, 4068 B back); target >= 0.70;
// - the same module in 1 024-byte packets (four requests), against raw round trips of the same packets
//   with the same window (requests in flight); target >= 0.60;
// - the seeds' style (a new connection per request, as the Opto 22 python examples do) against the
//   persistent client (informational), and the module read by a raw client from the same simulator (how
//   much of a gap is the device model; informational);
// - pipelined module reads on one connection (window 16) to a simulated device in a child process, against
//   raw Node pipelining of the same requests to the same device with the same window (target >= 0.80),
//   and against the client's own sequential rate on that device (>= 3x); raw pipelining against raw
//   one-at-a-time on the same device (informational: what the machine allows);
// - a fleet of 100 simulated devices in a separate process, each scanned at 20 Hz for one 64-channel
//   block: missed scans (0), lateness p99 (<= 5 ms), the scanner's share of one core (<= 0.5) and its CPU
//   per scan; and the fleet's saturation: the Scanner with no pause between scans against a raw Node client
//   issuing the same requests over as many connections (target >= 0.80). The fleet run lasts
//   LABWIRE_BENCH_FLEET_SECONDS (default 10; the figure is 30).
//
// The devices of the pipelined and fleet cases run in a child process (bench/optommp-devices.ts); the
// pipelined readers (client, batch, raw) are shared with bench/micro/optommp-windows.ts
// (bench/optommp-pipelined.ts).
// Raw baselines: plain `net` in the same process as the case (client and server, like client and
// simulator), the client receiving through `onread` into one reused buffer and writing its next request
// from the receive callback (bench/baselines.ts: rawExchange), the server answering from its 'data'
// events as the simulator does.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { OptoMmpClient, type ScanDeviceConfig, Scanner, type ScannerStats } from '@labwire/optommp';
import { encodeReadBlockRequest, epicAnalogReadAddress, offsetOf } from '@labwire/optommp/codec';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { rawExchange } from '../baselines';
import type { BenchCase } from '../harness';
import { processCpuUs, withDevices } from '../optommp-devices';
import {
  batchModules,
  callModules,
  clientModules,
  connectRaw,
  MODULE_BYTES,
  rawModules,
} from '../optommp-pipelined';

const UPTIME_COUNT = 10_000;
const SEED_COUNT = 500;
const MODULE_COUNT = 2_000;
/** Response sizes of the module read in 1 024-byte packets: three full chunks and the rest. */
const MODULE_CHUNKS = [16 + 1024, 16 + 1024, 16 + 1024, 16 + MODULE_BYTES - 3 * 1024];

/**
 * Packet requests the client keeps in flight while reading a module in 1 KiB packets (1: one after the
 * other, as `readAnalogModule` does). The baseline uses the same window: change both together.
 */
const PACKET_WINDOW = 1;

/** Raw round trips of 16-byte requests answered by `replies` in turn, `count` rounds: rounds per second. */
async function rawRoundTrips(replies: readonly number[], count: number, window = 1): Promise<number> {
  const perSecond = await rawExchange({
    request: 16,
    replyBytes: replies,
    count: count * replies.length,
    window,
  });
  return perSecond / replies.length;
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

/** A raw client reading the module in one read block request from the simulator itself. */
function rawModuleFromSimulator(count: number): Promise<number> {
  return withSimulator({ maxBlockBytes: 4096 }, (port) =>
    rawExchange(
      {
        request: encodeReadBlockRequest({
          offset: offsetOf(epicAnalogReadAddress(2, 0)),
          dataLength: MODULE_BYTES,
        }),
        replyBytes: 16 + MODULE_BYTES,
        count,
      },
      { port },
    ),
  );
}

// --- pipelining ------------------------------------------------------------------------------------------
// Against one simulated device in a child process, as a real device is another machine: pipelining pays
// where a round trip waits for the other side, not where client and device share one thread.
//
// The window is 16: what `probePipelining()` recommends for the simulator (the smallest of 1, 2, 4, 8, 16
// within 10 % of the best rate), so what a user who ran `mmp probe` would configure. Both sides write the
// requests that are due together in one write (the client's Pipeline sends a window's requests in one
// write; the raw client writes the requests freed by one receive callback in one write), and the device
// answers the requests of one chunk in one write.

const WINDOW = 16;
const PIPELINED_COUNT = 16_000;

interface PipelinedRuns {
  client: number[];
  raw: number[];
  sequential: number[];
  rawSequential: number[];
  /** The raw client writing one request per reply (the baseline of the first reports), window 16. */
  rawPerReply: number[];
  /** The same reads with `readBlocksInto`, window 16. */
  batch: number[];
  /** One call per module as `client`, the bytes copied into caller memory (`readBlockAs`), window 16. */
  call: number[];
  /** CPU per module read of this process and the device's together, µs: client and raw at window 16. */
  clientCpu: number[];
  batchCpu: number[];
  rawCpu: number[];
}

let pipelined: Promise<PipelinedRuns> | undefined;

/** `run()`, and the CPU it and the device process used per module, µs. */
async function withCpu(childPid: number, count: number, run: () => Promise<number>) {
  const mine = process.cpuUsage();
  const theirs = processCpuUs(childPid);
  const rate = await run();
  const used = process.cpuUsage(mine);
  const cpu = (used.user + used.system + processCpuUs(childPid) - theirs) / count;
  return { rate, cpu };
}

/**
 * Raw, client (one readAnalogModule call per module), batch (readBlocksInto) and per-call bytes
 * (readBlockAs) at window 16, client and raw at window 1, and the raw client writing one request per
 * reply, alternated three times on one child device.
 */
function pipelinedOnce() {
  pipelined ??= withDevices(1, async ([port], pid) => {
    const out: PipelinedRuns = {
      client: [],
      raw: [],
      sequential: [],
      rawSequential: [],
      rawPerReply: [],
      batch: [],
      call: [],
      clientCpu: [],
      batchCpu: [],
      rawCpu: [],
    };
    await clientModules(port!, 2_000, WINDOW);
    await batchModules(port!, 2_000, WINDOW);
    await callModules(port!, 2_000, WINDOW);
    await rawModules(port!, 2_000, WINDOW);
    await clientModules(port!, 1_000, 1);
    await rawModules(port!, 1_000, 1);
    for (let i = 0; i < 3; i++) {
      const raw = await withCpu(pid, PIPELINED_COUNT, () => rawModules(port!, PIPELINED_COUNT, WINDOW));
      out.raw.push(raw.rate);
      out.rawCpu.push(raw.cpu);
      const client = await withCpu(pid, PIPELINED_COUNT, () => clientModules(port!, PIPELINED_COUNT, WINDOW));
      out.client.push(client.rate);
      out.clientCpu.push(client.cpu);
      const batch = await withCpu(pid, PIPELINED_COUNT, () => batchModules(port!, PIPELINED_COUNT, WINDOW));
      out.batch.push(batch.rate);
      out.batchCpu.push(batch.cpu);
      out.call.push(await callModules(port!, PIPELINED_COUNT, WINDOW));
      out.sequential.push(await clientModules(port!, PIPELINED_COUNT / 4, 1));
      out.rawSequential.push(await rawModules(port!, PIPELINED_COUNT / 4, 1));
      out.rawPerReply.push(await rawModules(port!, PIPELINED_COUNT, WINDOW, false));
    }
    return out;
  });
  return pipelined;
}

const medianOf = (values: readonly number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

// --- the fleet -------------------------------------------------------------------------------------------

const FLEET_DEVICES = 100;
const FLEET_PERIOD_MS = 50;
const FLEET_SECONDS = Number(process.env.LABWIRE_BENCH_FLEET_SECONDS ?? 10);
const SATURATION_SECONDS = 4;
/** One 64-channel block: the value of every channel (63 × 0x40 + 4 bytes). */
const FLEET_BLOCK_BYTES = 63 * 0x40 + 4;

function fleetDevices(ports: readonly number[], periodMs: number): ScanDeviceConfig[] {
  return ports.map((port, i) => ({
    name: `epic-${i}`,
    host: '127.0.0.1',
    port,
    maxBlockBytes: 4096,
    timeoutMs: 2_000,
    groups: [
      {
        name: 'module 2',
        periodMs,
        points: Array.from({ length: 64 }, (_, c) => ({ kind: 'analog' as const, module: 2, channel: c })),
      },
    ],
  }));
}

interface FleetRun {
  stats: ScannerStats;
  seconds: number;
  /** CPU time of this process while scanning, per completed scan, µs. */
  cpuPerScanUs: number;
  /** CPU time of this process over wall time: the share of one core the scanner used. */
  coreShare: number;
  /** Values delivered in `values` events per second (100 devices × 64 × 20 Hz = 128 000 expected). */
  valuesPerSecond: number;
  /** 99th percentile of the event loop's delay meanwhile (perf_hooks), ms: the machine's share of lateness. */
  loopDelayP99: number;
}

let fleetRun: Promise<FleetRun> | undefined;

/** The 20 Hz fleet scan, run once and shared by the cases that report on it. */
function scanFleetOnce(): Promise<FleetRun> {
  fleetRun ??= withDevices(FLEET_DEVICES, async (ports) => {
    const scanner = new Scanner(fleetDevices(ports, FLEET_PERIOD_MS));
    let values = 0;
    scanner.start();
    // Settle: every device connected and scanned once before the clock starts.
    const settleUntil = performance.now() + 10_000;
    while (performance.now() < settleUntil && scanner.stats().scans < ports.length) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await scanner.stop();
    const measured = new Scanner(fleetDevices(ports, FLEET_PERIOD_MS));
    values = 0;
    measured.on('values', (r) => {
      values += r.values.length;
    });
    // The event loop's own delays in the same window: what the process suffered from the machine.
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    measured.start();
    await new Promise((resolve) => setTimeout(resolve, FLEET_SECONDS * 1000));
    await measured.stop();
    loop.disable();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const stats = measured.stats();
    const cpuUs = cpu.user + cpu.system;
    return {
      stats,
      seconds,
      cpuPerScanUs: cpuUs / Math.max(1, stats.scans),
      coreShare: cpuUs / 1e6 / seconds,
      valuesPerSecond: values / seconds,
      loopDelayP99: loop.percentile(99) / 1e6,
    };
  });
  return fleetRun;
}

/** The Scanner with no pause between scans (period 1 ms): completed scans per second over the fleet. */
function scannerSaturation(ports: readonly number[]): Promise<number> {
  return (async () => {
    const scanner = new Scanner(fleetDevices(ports, 1));
    scanner.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = scanner.stats().scans;
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, SATURATION_SECONDS * 1000));
    const scans = scanner.stats().scans - before;
    const seconds = (performance.now() - t0) / 1000;
    await scanner.stop();
    return scans / seconds;
  })();
}

/** A raw Node client on every device, each reading the same block back to back: reads per second. */
async function rawSaturation(ports: readonly number[]): Promise<number> {
  const request = Buffer.from(
    encodeReadBlockRequest({
      tl: 1,
      offset: offsetOf(epicAnalogReadAddress(2, 0)),
      dataLength: FLEET_BLOCK_BYTES,
    }),
  );
  const replyBytes = 16 + FLEET_BLOCK_BYTES;
  let counting = false;
  let reads = 0;
  let stop = false;
  const sockets = await Promise.all(
    ports.map((port) => {
      let bytes = 0;
      return connectRaw(port, (n, socket) => {
        bytes += n;
        while (bytes >= replyBytes) {
          bytes -= replyBytes;
          if (counting) reads++;
          if (!stop) socket.write(request);
        }
      });
    }),
  );
  for (const s of sockets) s.write(request);
  await new Promise((resolve) => setTimeout(resolve, 500));
  counting = true;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SATURATION_SECONDS * 1000));
  const seconds = (performance.now() - t0) / 1000;
  const total = reads;
  stop = true;
  for (const s of sockets) s.destroy();
  return total / seconds;
}

let saturation: Promise<{ scanner: number; raw: number }> | undefined;

function saturationOnce(): Promise<{ scanner: number; raw: number }> {
  // Both against the same child fleet, raw first and the scanner after, then once more the other way.
  saturation ??= withDevices(FLEET_DEVICES, async (ports) => {
    const raw1 = await rawSaturation(ports);
    const scanner1 = await scannerSaturation(ports);
    const scanner2 = await scannerSaturation(ports);
    const raw2 = await rawSaturation(ports);
    return { scanner: (scanner1 + scanner2) / 2, raw: (raw1 + raw2) / 2 };
  });
  return saturation;
}

export const cases: BenchCase[] = [
  {
    name: 'optommp.uptime-sequential',
    metric: 'uptime reads, one connection',
    unit: 'req/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: 'raw net round trips, 16 B out / 20 B back (onread, next request from the callback)',
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
    baselineName: `raw net round trips, 16 B out / ${16 + MODULE_BYTES} B back (onread, next request from the callback)`,
    baseline: () => rawRoundTrips([16 + MODULE_BYTES], MODULE_COUNT),
    run: () => analogModule(MODULE_COUNT, 4096),
  },
  {
    name: 'optommp.analog-module-chunked',
    metric: '64-channel analog module in 1024-byte packets (4 requests)',
    unit: 'modules/s',
    target: 0.6,
    compare: 'ratio>=',
    baselineName: `raw net, 4 round trips of ${MODULE_CHUNKS.join('/')} B back, window ${PACKET_WINDOW} (onread)`,
    baseline: () => rawRoundTrips(MODULE_CHUNKS, MODULE_COUNT, PACKET_WINDOW),
    run: () => analogModule(MODULE_COUNT, 1024),
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
  {
    name: 'optommp.pipelined-module',
    metric: `64-channel module reads, window ${WINDOW}, device in a child process`,
    unit: 'modules/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: `raw net pipelining, same requests to the same device, window ${WINDOW} (onread)`,
    baseline: async () => medianOf((await pipelinedOnce()).raw),
    run: async () => medianOf((await pipelinedOnce()).client),
    runs: 1,
    noWarmup: true,
  },
  {
    // The same reads as a user chasing throughput makes them: `readBlocksInto`, one promise per window,
    // the bytes in the caller's memory (no result objects), against the same raw baseline.
    name: 'optommp.pipelined-module-batch',
    metric: `64-channel module reads with readBlocksInto, window ${WINDOW}, device in a child process`,
    unit: 'modules/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: `raw net pipelining, same requests to the same device, window ${WINDOW} (onread)`,
    baseline: async () => medianOf((await pipelinedOnce()).raw),
    run: async () => medianOf((await pipelinedOnce()).batch),
    runs: 1,
    noWarmup: true,
  },
  {
    // One call per module like `optommp.pipelined-module`, but each call copies the module's bytes into
    // the caller's memory (`readBlockAs`) instead of decoding 64 point objects: the per-call cost apart
    // from the decoding.
    name: 'optommp.pipelined-module-per-call-bytes',
    metric: `64-channel module reads, one readBlockAs call each into caller memory, window ${WINDOW}`,
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `raw net pipelining, same requests to the same device, window ${WINDOW} (onread)`,
    baseline: async () => medianOf((await pipelinedOnce()).raw),
    run: async () => medianOf((await pipelinedOnce()).call),
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'optommp.pipelined-module-batch-cpu',
    metric: `module reads with readBlocksInto, window ${WINDOW}: reads per ms of CPU, client and device processes together`,
    unit: 'reads/CPU-ms',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `raw net pipelining, window ${WINDOW}, CPU per read of both processes`,
    baseline: async () => 1000 / medianOf((await pipelinedOnce()).rawCpu),
    run: async () => 1000 / medianOf((await pipelinedOnce()).batchCpu),
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'optommp.pipelined-vs-sequential',
    metric: `module reads, window ${WINDOW} against window 1 (device in a child process)`,
    unit: 'modules/s',
    target: 3,
    compare: 'ratio>=',
    baselineName: 'the same client, one request at a time',
    baseline: async () => medianOf((await pipelinedOnce()).sequential),
    run: async () => medianOf((await pipelinedOnce()).client),
    runs: 1,
    noWarmup: true,
  },
  {
    // What the machine gives: raw pipelining against raw one-at-a-time on the same device. Pinned to one
    // CPU, client and device take turns on it, so a window can only save the per-round-trip costs
    // (wake-ups, system calls), not the work per request; this row says how far that goes here.
    name: 'optommp.pipelined-raw-vs-sequential-raw',
    metric: `raw net module reads, window ${WINDOW} against window 1 (device in a child process)`,
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net, one request at a time',
    baseline: async () => medianOf((await pipelinedOnce()).rawSequential),
    run: async () => medianOf((await pipelinedOnce()).raw),
    runs: 1,
    noWarmup: true,
  },
  {
    // The same case timed by CPU instead of the clock: this process's CPU and the device's per module
    // read (from /proc), raw over client. Pinned, both processes share one CPU, so this is what the wall
    // ratio converges to on an idle machine; on a busy one it is the steadier figure.
    name: 'optommp.pipelined-module-cpu',
    metric: `64-channel module reads, window ${WINDOW}: reads per ms of CPU, client and device processes together`,
    unit: 'reads/CPU-ms',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `raw net pipelining, window ${WINDOW}, CPU per read of both processes`,
    // Reads per millisecond of CPU (both processes): higher is better, as for the other ratios.
    baseline: async () => 1000 / medianOf((await pipelinedOnce()).rawCpu),
    run: async () => 1000 / medianOf((await pipelinedOnce()).clientCpu),
    runs: 1,
    noWarmup: true,
  },
  {
    // The baseline of the first reports: a raw client writing one request per reply (16 system calls
    // and 16 wake-ups of the device per window where the client makes one). Kept to compare with them.
    name: 'optommp.pipelined-module-vs-raw-per-reply',
    metric: `64-channel module reads, window ${WINDOW}, against raw pipelining writing one request per reply`,
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `raw net pipelining, window ${WINDOW}, one write per request (onread)`,
    baseline: async () => medianOf((await pipelinedOnce()).rawPerReply),
    run: async () => medianOf((await pipelinedOnce()).client),
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'optommp.fleet-missed-scans',
    metric: `fleet of ${FLEET_DEVICES} devices (child process), 64 channels each at 20 Hz: missed scans`,
    unit: 'scans',
    target: 0,
    compare: 'value<=',
    baselineName: '-',
    run: async () => {
      const r = await scanFleetOnce();
      return r.stats.missed + r.stats.skipped + r.stats.failed;
    },
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'optommp.fleet-lateness-p99',
    metric: `fleet of ${FLEET_DEVICES} at 20 Hz: scan lateness p99`,
    unit: 'ms',
    target: 5,
    compare: 'value<=',
    baselineName: '-',
    run: async () => (await scanFleetOnce()).stats.lateness.p99,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'optommp.fleet-core-share',
    metric: `fleet of ${FLEET_DEVICES} at 20 Hz: scanner CPU / wall time`,
    unit: 'cores',
    target: 0.5,
    compare: 'value<=',
    baselineName: '-',
    run: async () => (await scanFleetOnce()).coreShare,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'optommp.fleet-cpu-per-scan',
    metric: `fleet of ${FLEET_DEVICES} at 20 Hz: scanner CPU per scan (64 values)`,
    unit: 'µs',
    target: 0,
    compare: 'value>=',
    baselineName: '-',
    run: async () => (await scanFleetOnce()).cpuPerScanUs,
    runs: 1,
    noWarmup: true,
    informational: true,
  },
  {
    name: 'optommp.fleet-values',
    metric: `fleet of ${FLEET_DEVICES} at 20 Hz: values delivered (128 000/s expected)`,
    unit: 'values/s',
    target: 0,
    compare: 'value>=',
    baselineName: '-',
    run: async () => (await scanFleetOnce()).valuesPerSecond,
    runs: 1,
    noWarmup: true,
    informational: true,
  },
  {
    name: 'optommp.fleet-loop-delay-p99',
    metric: `fleet of ${FLEET_DEVICES} at 20 Hz: event-loop delay p99 meanwhile (1 ms resolution)`,
    unit: 'ms',
    target: 0,
    compare: 'value>=',
    baselineName: '-',
    run: async () => (await scanFleetOnce()).loopDelayP99,
    runs: 1,
    noWarmup: true,
    informational: true,
  },
  {
    name: 'optommp.fleet-saturation',
    metric: `fleet of ${FLEET_DEVICES}: Scanner flat out, completed scans/s`,
    unit: 'reads/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: 'raw net client per device, same requests, back to back (onread)',
    baseline: async () => (await saturationOnce()).raw,
    run: async () => (await saturationOnce()).scanner,
    runs: 1,
    noWarmup: true,
  },
];
