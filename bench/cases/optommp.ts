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
// - pipelined module reads on one connection (window 16) to a simulated device in a child process (one
//   device process for all of these cases), against raw Node pipelining of the same requests to the same
//   device with the same window doing the same job with each reply: checked as a minimal client checks it
//   and copied into the same kind of caller memory (readBlockAs per call, readBlocksInto per window), or
//   decoded into the same 64 point objects (readAnalogModule); target >= 0.80 each. Against the client's
//   own sequential rate on that device (>= 3x); raw pipelining against raw one-at-a-time on the same
//   device, and the client against the byte-counting raw baselines of the earlier reports
//   (informational);
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
import { type BenchCase, median, type Sample } from '../harness';
import { type Devices, processCpuFineUs, startDevices, withDevices } from '../optommp-devices';
import {
  batchModules,
  callModules,
  clientModules,
  connectRaw,
  type Meter,
  MODULE_BYTES,
  type RawJob,
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
/** Module reads per measured run at window 16 (a few tenths of a second; the harness repeats runs). */
const PIPELINED_COUNT = 16_000;
/** Module reads per measured run one at a time. */
const SEQUENTIAL_COUNT = 4_000;
/** Raw runs of PIPELINED_COUNT reads that warm a fresh device process up before the first case. */
const DEVICE_WARMUP_RUNS = 6;
/**
 * Warm-up runs of each side of a pipelined case, at least: the client's first runs in a process are
 * several times slower than its later ones (code and heap warming up; 30 → 6 µs of CPU per read seen
 * over the first five), and one slow run alone fills the harness's minimum warm-up time.
 */
const PIPELINED_WARMUPS = 4;

/**
 * The one device process every pipelined case uses, started by the first of them and stopped by the
 * group's teardown (or when this process exits: it never keeps this process alive).
 */
let device: Promise<Devices> | undefined;

function pipelinedDevice(): Promise<Devices> {
  device ??= (async () => {
    const d = await startDevices(1, { detached: true });
    // A fresh device process answers its first tens of thousands of reads several times slower (its
    // code and heap warm up): warm it before any case measures against it, whichever case comes first.
    for (let i = 0; i < DEVICE_WARMUP_RUNS; i++) {
      await rawModules(d.ports[0]!, PIPELINED_COUNT, WINDOW, { job: 'count' });
    }
    return d;
  })();
  return device;
}

/** Stops the pipelined cases' device process (run.ts calls it after the group's last case). */
export async function teardown(): Promise<void> {
  const d = device;
  device = undefined;
  if (d !== undefined) await (await d).stop();
}

/**
 * One measured run of `read` against the shared device: its rate, with the wall time and the CPU time of
 * this process and the device process together over the timed part only (both from the run's own
 * meter), so that the harness's CPU ratio counts both sides of the link.
 */
async function onDevice(read: (port: number, meter: Meter) => Promise<number>): Promise<Sample> {
  const { ports, pid } = await pipelinedDevice();
  let t0 = 0;
  let c0 = process.cpuUsage();
  let d0 = 0;
  let seconds = 0;
  let cpu = 0;
  const meter: Meter = {
    start() {
      d0 = processCpuFineUs(pid);
      c0 = process.cpuUsage();
      t0 = performance.now();
    },
    stop() {
      seconds = (performance.now() - t0) / 1000;
      const mine = process.cpuUsage(c0);
      cpu = (mine.user + mine.system + processCpuFineUs(pid) - d0) / 1e6;
    },
  };
  const value = await read(ports[0]!, meter);
  return { value, seconds, cpu };
}

const rawPipelined = (job: RawJob, window = WINDOW, count = PIPELINED_COUNT, together = true) =>
  onDevice((port, meter) => rawModules(port, count, window, { job, together, meter }));

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

/** Rounds of raw, scanner, scanner, raw in one saturation measure (one such round swung 0.74–1.05). */
const SATURATION_ROUNDS = 3;

function saturationOnce(): Promise<{ scanner: number; raw: number }> {
  // Both against the same child fleet, raw first and the scanner after, then once more the other way;
  // SATURATION_ROUNDS such rounds, each side's figure the median of its runs.
  saturation ??= withDevices(FLEET_DEVICES, async (ports) => {
    const raw: number[] = [];
    const scanner: number[] = [];
    for (let round = 0; round < SATURATION_ROUNDS; round++) {
      raw.push(await rawSaturation(ports));
      scanner.push(await scannerSaturation(ports));
      scanner.push(await scannerSaturation(ports));
      raw.push(await rawSaturation(ports));
    }
    return { scanner: median(scanner), raw: median(raw) };
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
    // One readAnalogModule call per module (64 AnalogPoint objects each), against a raw client that
    // checks each reply and decodes the same 64 points by hand (the same job).
    name: 'optommp.pipelined-module',
    metric: `64-channel module reads, one readAnalogModule call each, window ${WINDOW}, device in a child process`,
    unit: 'modules/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: `raw net pipelining, same requests to the same device, window ${WINDOW} (onread), each reply checked and decoded into 64 point objects by hand`,
    baseline: () => rawPipelined('decode'),
    run: () => onDevice((port, meter) => clientModules(port, PIPELINED_COUNT, WINDOW, meter)),
    minWarmups: PIPELINED_WARMUPS,
  },
  {
    // The same reads as a user chasing throughput makes them: `readBlocksInto`, one promise per window,
    // the bytes in the caller's memory (no result objects).
    name: 'optommp.pipelined-module-batch',
    metric: `64-channel module reads with readBlocksInto (${WINDOW} per call, 2 callers), window ${WINDOW}, device in a child process`,
    unit: 'modules/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: `raw net pipelining, same requests to the same device, window ${WINDOW} (onread), each reply checked and copied into the caller's memory at its block's place`,
    baseline: () => rawPipelined('batch'),
    run: () => onDevice((port, meter) => batchModules(port, PIPELINED_COUNT, WINDOW, WINDOW, meter)),
    minWarmups: PIPELINED_WARMUPS,
  },
  {
    // One call per module like `optommp.pipelined-module`, each copying the module's bytes into the
    // caller's memory (`readBlockAs`): a block read per call.
    name: 'optommp.pipelined-module-per-call-bytes',
    metric: `64-channel module reads, one readBlockAs call each into caller memory, window ${WINDOW}, device in a child process`,
    unit: 'modules/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: `raw net pipelining, same requests to the same device, window ${WINDOW} (onread), each reply checked and copied into its caller's reused buffer`,
    baseline: () => rawPipelined('per-call'),
    run: () => onDevice((port, meter) => callModules(port, PIPELINED_COUNT, WINDOW, meter)),
    minWarmups: PIPELINED_WARMUPS,
  },
  {
    // The baseline of the earlier reports: a raw client that only counts reply bytes (no checks, no
    // copy). What the checks and the copy cost the honest baseline; informational.
    name: 'optommp.pipelined-module-batch-vs-raw-counting',
    metric: `64-channel module reads with readBlocksInto, window ${WINDOW}, against a raw client that only counts bytes`,
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `raw net pipelining, window ${WINDOW} (onread), reply bytes counted only`,
    baseline: () => rawPipelined('count'),
    run: () => onDevice((port, meter) => batchModules(port, PIPELINED_COUNT, WINDOW, WINDOW, meter)),
    minWarmups: PIPELINED_WARMUPS,
  },
  {
    name: 'optommp.pipelined-vs-sequential',
    metric: `module reads (readAnalogModule), window ${WINDOW} against window 1 (device in a child process)`,
    unit: 'modules/s',
    target: 3,
    compare: 'ratio>=',
    baselineName: 'the same client, one request at a time',
    baseline: () => onDevice((port, meter) => clientModules(port, SEQUENTIAL_COUNT, 1, meter)),
    run: () => onDevice((port, meter) => clientModules(port, PIPELINED_COUNT, WINDOW, meter)),
    minWarmups: PIPELINED_WARMUPS,
  },
  {
    // What the machine gives: raw pipelining against raw one-at-a-time on the same device. Pinned to one
    // CPU, client and device take turns on it, so a window can only save the per-round-trip costs
    // (wake-ups, system calls), not the work per request; this row says how far that goes here.
    name: 'optommp.pipelined-raw-vs-sequential-raw',
    metric: `raw net module reads (checked, copied), window ${WINDOW} against window 1 (device in a child process)`,
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net, one request at a time',
    baseline: () => rawPipelined('per-call', 1, SEQUENTIAL_COUNT),
    run: () => rawPipelined('per-call'),
    minWarmups: PIPELINED_WARMUPS,
  },
  {
    // The baseline of the first reports: a raw client writing one request per reply (16 system calls
    // and 16 wake-ups of the device per window where the client makes one), counting bytes. Kept to
    // compare with them.
    name: 'optommp.pipelined-module-vs-raw-per-reply',
    metric: `64-channel module reads (readAnalogModule), window ${WINDOW}, against raw pipelining writing one request per reply`,
    unit: 'modules/s',
    target: 0,
    compare: 'ratio>=',
    informational: true,
    baselineName: `raw net pipelining, window ${WINDOW}, one write per request (onread), bytes counted only`,
    baseline: () => rawPipelined('count', WINDOW, PIPELINED_COUNT, false),
    run: () => onDevice((port, meter) => clientModules(port, PIPELINED_COUNT, WINDOW, meter)),
    minWarmups: PIPELINED_WARMUPS,
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
    metric: `fleet of ${FLEET_DEVICES}: Scanner flat out, completed scans/s (median of ${SATURATION_ROUNDS * 2} runs of ${SATURATION_SECONDS} s per side, alternating)`,
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
