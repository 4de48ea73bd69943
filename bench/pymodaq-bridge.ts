// PymodaqBridge benchmarks (issue 16), used by bench/cases/pymodaq.ts. This process plays the instrument
// (gen C4, a PyMoDAQ 4.4 client) and the server (gen D, PyMoDAQ 5); the bridge between them runs either
// in this process or as a process of its own (as `pymodaq bridge` does in a lab). All on 127.0.0.1.
//
// (a) a 30 Hz stream of 1 MiB 2-D frames for 60 s (`--bridge-seconds=N` or LABWIRE_BENCH_BRIDGE_SECONDS
//     for a shorter development run), bridge in-process, after 2 s of the same stream to warm up (receive
//     buffers of the stream's size, compiled code) and until the warm-up's frames have arrived: end-to-end
//     latency from push() to the server's `data` event (whose listener hands each frame back with
//     `server.release`, as a viewer does once it drew it), p99 of the frames that arrived (target <= 10 ms), the share of frames that arrived (target
//     >= 0.99: latest wins may replace frames only when the server falls behind), and drift: the median of
//     the last 10 s against the first 10 s (target <= 1 ms). The same stream without a bridge is reported
//     beside it (what the machine gives).
// (b) sequential move_abs server -> bridge -> actuator -> bridge -> server against raw round trips
//     (rawExchange, driven from the receive callback) with the server-side message sizes (target >= 0.40:
//     a bridged move crosses two links each way). Bridge in-process: a sequential round trip gains nothing
//     from a second core and a process boundary adds scheduler wake-ups raw round trips do not pay; the
//     bridge-process figure is reported too.
// (c) a stream of 32 MiB frames (2048 x 2048 <f8, at most two on their way: one being forwarded, the next
//     arriving) against a raw frame stream of the same frame size, written as writeFrame writes and
//     received through 'data' events (as the server's accepted socket must) into one reused buffer (the
//     server's user hands each frame back, so the server receives into reused memory too) (target
//     >= 0.60). Bridge as its own process, on a CPU of its own when the run is pinned (see bridgeCpu): a
//     bridge forwards each byte twice (in, out), so on one CPU with both peers it cannot pass 0.5 of a
//     single raw transfer by construction; the in-process figure is reported too.
//
// This file doubles as the bridge process: `node … bench/pymodaq-bridge.ts --bridge-child <serverPort>`
// prints `{"port":N}` once listening and runs until its stdin closes.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PymodaqActuator, PymodaqBridge, PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';
import {
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { MiB, rawExchange, rawFrameStream } from './baselines';
import type { BenchCase } from './harness';

const CLIENTS = 'C4';
const SERVER = 'D';
const MAX_MESSAGE = 64 * 1024 * 1024;
const IMAGE_SIDE = 2048;
const IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE * 8;
const STREAM_FRAMES = 8;
const MOVES = 5000;

type Placement = 'in-process' | 'process';

function streamSeconds(): number {
  const arg = process.argv.find((a) => a.startsWith('--bridge-seconds='));
  const text = arg?.slice('--bridge-seconds='.length) ?? process.env.LABWIRE_BENCH_BRIDGE_SECONDS;
  const s = text === undefined ? 60 : Number(text);
  if (!Number.isFinite(s) || s < 3) throw new Error(`--bridge-seconds must be a number >= 3, got ${text}`);
  return s;
}

function bridgeOptions(serverPort: number) {
  return {
    clientProtocol: CLIENTS,
    serverProtocol: SERVER,
    port: 0,
    serverPort,
    maxMessageBytes: MAX_MESSAGE,
    timeoutMs: 60_000,
  };
}

/** A bridge between instruments on a free port and the server on `serverPort`. */
async function startBridge(
  placement: Placement,
  serverPort: number,
): Promise<{ port: number; close(): Promise<void> }> {
  if (placement === 'in-process') {
    const bridge = new PymodaqBridge(bridgeOptions(serverPort));
    const { port } = await bridge.listen();
    return { port, close: () => bridge.close() };
  }
  const root = path.resolve(import.meta.dirname, '..');
  const cpu = bridgeCpu();
  const child = spawn(
    cpu === undefined ? process.execPath : 'taskset',
    [
      ...(cpu === undefined ? [] : ['-c', cpu, process.execPath]),
      '--import',
      'tsx',
      ...process.execArgv.filter((a) => a.startsWith('--conditions')),
      path.join(root, 'bench/pymodaq-bridge.ts'),
      '--bridge-child',
      String(serverPort),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the bridge process did not start in 30 s')), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`the bridge process exited with ${code}`)));
  });
  return {
    port,
    async close() {
      child.stdin.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Where the bridge process runs when this process is pinned to one CPU (`--pin`): on another CPU, as a
 * bridge in a lab runs beside the instrument and the viewer rather than on their CPU. A bridge forwards
 * every byte twice (in and out); sharing one CPU with both peers it could never reach 0.5 of a single
 * raw transfer, whatever its own cost. Unpinned, the kernel places it. Undefined: no taskset needed.
 */
function bridgeCpu(): string | undefined {
  let allowed: string | undefined;
  try {
    allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
  const pinned = allowed !== undefined && /^\d+$/.test(allowed) ? Number(allowed) : undefined;
  const cpus = os.availableParallelism();
  if (pinned === undefined || cpus < 2) return undefined;
  return String(pinned === 0 ? 1 : pinned - 1);
}

async function runBridgeChild(serverPort: number): Promise<void> {
  const bridge = new PymodaqBridge(bridgeOptions(serverPort));
  const { port } = await bridge.listen();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await bridge.close();
}

/** Server (D) <- bridge <- detector (C4), or detector (D) -> server without a bridge; connected. */
async function detectorChain(placement: Placement | 'none') {
  const server = new PymodaqServer({
    protocol: SERVER,
    role: 'detector',
    port: 0,
    maxMessageBytes: MAX_MESSAGE,
    timeoutMs: 60_000,
    readTimeoutMs: 60_000,
  });
  const { port: serverPort } = await server.listen();
  const bridge = placement === 'none' ? undefined : await startBridge(placement, serverPort);
  const detector = new PymodaqDetector({
    protocol: bridge === undefined ? SERVER : CLIENTS,
    port: bridge?.port ?? serverPort,
    reconnect: false,
    timeoutMs: 60_000,
    handlers: {
      grab: () => {
        throw new Error('the frames are pushed');
      },
    },
  });
  await detector.connect({ timeoutMs: 30_000 });
  await server.waitForClient('GRABBER', { timeoutMs: 30_000 });
  return {
    server,
    detector,
    async close() {
      await detector.close();
      await bridge?.close();
      await server.close();
    },
  };
}

/**
 * A 2-D float64 frame of `pixels` (sent by reference) that names itself on arrival: its DataToExport
 * timestamp is `index` (C4 and D carry it), whatever became of the pixels meanwhile.
 */
function frame(pixels: Float64Array, width: number, index: number): DataToExport {
  const camera = dataFromPlugins({
    name: 'camera',
    timestamp: index,
    data: [NdArray.fromTyped(pixels, [pixels.length / width, width])],
  });
  return dataToExport({ name: 'camera', timestamp: index, data: [camera] });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

interface StreamResult {
  /** Latency p99 of the frames that arrived, ms. */
  p99: number;
  /** |median of the last window - median of the first|, ms (NaN when a window saw no frame). */
  drift: number;
  /** Share of the frames sent that arrived (latest wins drops the others). */
  delivered: number;
}

const streams = new Map<string, Promise<StreamResult>>();

/** (a): 30 Hz of 1 MiB frames, paced on absolute times (no drift of our own); run once per placement. */
function streamOnce(placement: 'in-process' | 'none'): Promise<StreamResult> {
  let run = streams.get(placement);
  if (run === undefined) {
    run = stream(placement);
    streams.set(placement, run);
  }
  return run;
}

async function stream(placement: 'in-process' | 'none'): Promise<StreamResult> {
  const seconds = streamSeconds();
  const window = Math.min(10, seconds / 3) * 1000;
  const chain = await detectorChain(placement);
  // A ring of pixel buffers (sent by reference); the frames name themselves by their timestamp.
  const ring = Array.from({ length: 8 }, () => new Float64Array(512 * 256));
  const sentAt: number[] = [];
  const latency: { at: number; ms: number }[] = [];
  let lastWarmup = Number.NEGATIVE_INFINITY;
  chain.server.on('data', (e) => {
    const now = performance.now();
    const index = e.data.timestamp;
    if (index >= 0) latency.push({ at: sentAt[index]!, ms: now - sentAt[index]! });
    else lastWarmup = Math.max(lastWarmup, index);
    // The viewer is done with the frame (it would have drawn it): its memory takes the next one.
    chain.server.release(e.data);
  });
  const period = 1000 / 30;
  const warmup = 60;
  const total = Math.round(seconds * 30);
  const pace = async (from: number, to: number, send: (i: number) => void) => {
    const t0 = performance.now() + 100;
    for (let i = from; i < to; i++) {
      const wait = t0 + (i - from) * period - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      send(i);
    }
  };
  // Warm-up frames carry negative indexes (not recorded). The measured stream starts once the last of
  // them arrived (or was replaced: at most 5 s): a backlog the warm-up's first frames built up while
  // nothing was compiled or faulted in yet is start-up, not the steady state the targets are about.
  await pace(-warmup, 0, (i) => {
    chain.detector.push(frame(ring[(i + warmup) % ring.length]!, 256, i)).catch(() => {});
  });
  for (let waited = 0; lastWarmup < -1 && waited < 5000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await pace(0, total, (i) => {
    const data = frame(ring[i % ring.length]!, 256, i);
    sentAt[i] = performance.now();
    // A push still queued when the stream is closed is aborted: that frame counts as never arrived.
    chain.detector.push(data).catch(() => {});
  });
  await new Promise((r) => setTimeout(r, 1000));
  await chain.close();
  const start = sentAt[0]!;
  const end = sentAt[total - 1]!;
  const first = latency.filter((l) => l.at - start < window).map((l) => l.ms);
  const last = latency.filter((l) => end - l.at < window).map((l) => l.ms);
  // Latency of the frames that arrived; the frames latest-wins replaced are counted by `delivered` (a
  // separate target, so dropping frames cannot make the latency look good).
  const all = latency.map((l) => l.ms).sort((a, b) => a - b);
  const delivered = latency.length / total;
  process.stderr.write(
    `  ${placement === 'none' ? 'without a bridge' : 'through the bridge'}: ${latency.length} of ${total} frames; latency median ${quantile(all, 0.5).toFixed(2)} ms, p90 ${quantile(all, 0.9).toFixed(2)}, p99 ${quantile(all, 0.99).toFixed(2)}, max ${quantile(all, 1).toFixed(2)}; median first ${median(first).toFixed(2)}, last ${median(last).toFixed(2)}\n`,
  );
  return { p99: quantile(all, 0.99), drift: Math.abs(median(last) - median(first)), delivered };
}

/** (b): sequential moves through the bridge. */
async function bridgedMoves(placement: Placement): Promise<number> {
  const server = new PymodaqServer({ protocol: SERVER, role: 'actuator', port: 0 });
  const { port: serverPort } = await server.listen();
  const bridge = await startBridge(placement, serverPort);
  let position = 0;
  const actuator = new PymodaqActuator({
    protocol: CLIENTS,
    port: bridge.port,
    units: 'mm',
    reconnect: false,
    handlers: {
      moveAbs: (target) => {
        position = target;
        return target;
      },
      getActuatorValue: () => position,
    },
  });
  try {
    await actuator.connect({ timeoutMs: 30_000 });
    await server.waitForClient('ACTUATOR', { timeoutMs: 30_000 });
    for (let i = 0; i < 1000; i++) await server.moveAbs(-i);
    const t0 = performance.now();
    for (let i = 0; i < MOVES; i++) {
      const reached = await server.moveAbs(i);
      if (reached.value !== i) throw new Error(`move ${i} reported ${reached.value}`);
    }
    return MOVES / ((performance.now() - t0) / 1000);
  } finally {
    await actuator.close();
    await bridge.close();
    await server.close();
  }
}

/**
 * (c): a stream of 32 MiB frames; the next is pushed once all but one of those before it arrived (one
 * being forwarded, one arriving: no frame is ever replaced). Two frames first, to reach the steady state.
 */
async function bridgedImages(placement: Placement): Promise<number> {
  const chain = await detectorChain(placement);
  const ring = [0, 1, 2].map(() => new Float64Array(IMAGE_SIDE * IMAGE_SIDE));
  let arrived = 0;
  let wake: (() => void) | undefined;
  chain.server.on('data', (e) => {
    arrived++;
    // Done with it, as a viewer is: the server receives the next frame into its memory (the baseline's
    // reused destination).
    chain.server.release(e.data);
    wake?.();
  });
  const until = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (arrived < n) return;
        wake = undefined;
        resolve();
      };
      wake = check;
      check();
    });
  try {
    let pushed = 0;
    const push = () => chain.detector.push(frame(ring[pushed % ring.length]!, IMAGE_SIDE, pushed++));
    await push();
    await until(1);
    await push();
    await until(2);
    const t0 = performance.now();
    for (let k = 0; k < STREAM_FRAMES; k++) {
      await until(pushed - 1);
      await push();
    }
    await until(pushed);
    return (STREAM_FRAMES * IMAGE_BYTES) / MiB / ((performance.now() - t0) / 1000);
  } finally {
    await chain.close();
  }
}

let payload: Uint8Array | undefined;
/** The baseline's frame payload: one long-lived buffer of the image's size, as the case's ring is. */
function rawPayload(): Uint8Array {
  payload ??= new Uint8Array(IMAGE_BYTES).fill(0x5a);
  return payload;
}

function moveSizes() {
  const p = resolveProfile(SERVER);
  return {
    requestBytes: p.encodeCommand('move_abs').length + p.encodePosition(1.5, 'mm').length,
    replyBytes: p.encodeCommand('move_done').length + p.encodePosition(1.5, 'mm').length,
  };
}

function moveCase(placement: Placement): BenchCase {
  const sizes = moveSizes();
  return {
    name: placement === 'in-process' ? 'pymodaq.bridge-move-abs' : 'pymodaq.bridge-move-abs-process',
    metric: `sequential move_abs through the bridge (${SERVER} server, ${CLIENTS} actuator; bridge ${placement === 'in-process' ? 'in-process' : 'a process of its own'}), ${MOVES} round trips`,
    unit: 'round trips/s',
    target: 0.4,
    compare: 'ratio>=',
    informational: placement === 'process',
    baselineName: `raw net round trips, ${sizes.requestBytes} B out / ${sizes.replyBytes} B back`,
    baseline: () => rawExchange({ request: sizes.requestBytes, replyBytes: sizes.replyBytes, count: MOVES }),
    run: () => bridgedMoves(placement),
    runs: 3,
  };
}

function imageCase(placement: Placement): BenchCase {
  return {
    name: placement === 'process' ? 'pymodaq.bridge-image-32MiB' : 'pymodaq.bridge-image-32MiB-in-process',
    metric: `stream of 2048x2048 <f8 frames through the bridge (${CLIENTS} -> ${SERVER}; bridge ${placement === 'process' ? 'a process of its own, on a CPU of its own when pinned' : 'in-process'}), steady state`,
    unit: 'MiB/s',
    target: 0.6,
    compare: 'ratio>=',
    informational: placement === 'in-process',
    // The server's user hands every frame back (`release`), so the server receives into reused memory:
    // the baseline receives into one reused destination too.
    baselineName:
      "raw net frame stream, same frame size and writes, received through 'data' events (what the accepting server socket has) into one reused buffer",
    baseline: () =>
      rawFrameStream({ payload: rawPayload(), count: STREAM_FRAMES, into: 'reused', receive: 'data' }),
    run: () => bridgedImages(placement),
    runs: 3,
  };
}

export const bridgeCases: BenchCase[] = [
  {
    name: 'pymodaq.bridge-stream-p99',
    metric: `30 Hz of 1 MiB 2-D frames through the bridge (${CLIENTS} -> ${SERVER}, in-process), latency p99, ${streamSeconds()} s`,
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    baselineName: '-',
    run: async () => (await streamOnce('in-process')).p99,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-delivered',
    metric:
      'the same stream: share of the frames that arrived (latest wins replaces frames only when the server falls behind)',
    unit: '',
    target: 0.99,
    compare: 'value>=',
    baselineName: '-',
    run: async () => (await streamOnce('in-process')).delivered,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-drift',
    metric: 'the same stream: |median latency of the last 10 s - of the first 10 s|',
    unit: 'ms',
    target: 1,
    compare: 'value<=',
    baselineName: '-',
    run: async () => (await streamOnce('in-process')).drift,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-p99-no-bridge',
    metric: `the same stream without a bridge (${SERVER} detector -> ${SERVER} server): what this machine gives`,
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () => (await streamOnce('none')).p99,
    runs: 1,
    noWarmup: true,
  },
  moveCase('in-process'),
  moveCase('process'),
  imageCase('process'),
  imageCase('in-process'),
];

if (process.argv.includes('--bridge-child')) {
  await runBridgeChild(Number(process.argv[process.argv.indexOf('--bridge-child') + 1]));
}
