// PymodaqBridge benchmarks (issue 16), used by bench/cases/pymodaq.ts. This process plays the instrument
// (gen C4, a PyMoDAQ 4.4 client) and the server (gen D, PyMoDAQ 5); the bridge between them runs either
// in this process or as a process of its own (as `pymodaq bridge` does in a lab). All on 127.0.0.1.
//
// (a) a 30 Hz stream of 1 MiB 2-D frames for 60 s (`--bridge-seconds=N` or LABWIRE_BENCH_BRIDGE_SECONDS
//     for a shorter development run), after 2 s of the same stream to warm up (receive buffers of the
//     stream's size, compiled code) and until the warm-up's frames have arrived: end-to-end latency from
//     push() to the server's `data` event (whose listener hands each frame back with `server.release`, as a
//     viewer does once it drew it), p99 of the frames that arrived (target <= 10 ms), the share of frames
//     that arrived (target >= 0.99: latest wins may replace frames only when the server falls behind), and
//     drift: the median of the last 10 s against the first 10 s (target <= 1 ms). As in a lab, the
//     bridge and the viewer each run as a process of their own (`pymodaq bridge`; a PyMoDAQ viewer is
//     another program); the instrument is this process. Under `--pin` all three share the pinned CPU
//     (StreamLayout `one-cpu`: no transfer waits for another CPU to wake up, and the bridge competes with
//     both peers for its CPU), and the plain-net row runs the same way; the same stream with the bridge
//     (or relay) on the other CPU is reported beside them (`-cross-cpu` rows; see StreamLayout for why the
//     targets do not use it). The placement is printed with the figures. Latency is measured on
//     the monotonic clock, which every process of the machine reads the same. In one process the three
//     would pause for each other's collections (until issue 16's fourth pass every read of an accepted
//     socket was a fresh 64 KiB buffer of external memory, which drove full collections there; the
//     servers' sessions now read through one reused buffer, framing's adoptOnread). That figure is
//     reported beside it, and so is the same stream without a bridge (what the machine gives).
// (b) sequential move_abs server -> bridge -> actuator -> bridge -> server against raw round trips
//     (rawExchange, driven from the receive callback) with the server-side message sizes (target >= 0.40:
//     a bridged move crosses two links each way). Bridge in-process: a sequential round trip gains nothing
//     from a second core and a process boundary adds scheduler wake-ups raw round trips do not pay; the
//     bridge-process figure is reported too.
// (c) a stream of 32 MiB frames (2048 x 2048 <f8, at most two on their way: one being forwarded, the next
//     arriving) against a raw frame stream of the same frame size, written as writeFrame writes and
//     received through `onread` (as the server's accepted sockets now read) into one reused buffer (the
//     server's user hands each frame back, so the server receives into reused memory too) (target
//     >= 0.60). Bridge as its own process, on a CPU of its own when the run is pinned (see bridgeCpu): a
//     bridge forwards each byte twice (in, out), so on one CPU with both peers it cannot pass 0.5 of a
//     single raw transfer by construction; the in-process figure is reported too.
//
// This file doubles as the bridge and the viewer process when the bench runs on the sources
// (`node --import tsx … bench/pymodaq-bridge.ts --bridge-child <serverPort>` or `--viewer-child`): JSON
// lines on stdout, until its stdin closes. On the built packages bench/child/pymodaq-bridge-peer.mjs
// plays those roles in plain JavaScript, and bench/child/plain-relay.mjs is the plain-net stream.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { PymodaqActuator, PymodaqBridge, PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';
import {
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { MiB, rawExchange, rawFrameStream, rawRelayExchange } from './baselines';
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

/**
 * A bridge between instruments on a free port and the server on `serverPort`; a bridge process runs on
 * `cpu` (default bridgeCpu(): the other CPU when pinned).
 */
async function startBridge(
  placement: Placement,
  serverPort: number,
  cpu: string | undefined = bridgeCpu(),
): Promise<{ port: number; close(): Promise<void> }> {
  if (placement === 'in-process') {
    const bridge = new PymodaqBridge(bridgeOptions(serverPort));
    const { port } = await bridge.listen();
    return { port, close: () => bridge.close() };
  }
  const child = spawnChild(['--bridge-child', String(serverPort)], cpu);
  const { port } = (await child.next('the bridge process')) as { port: number };
  return { port, close: () => child.close() };
}

/**
 * This file as a child process (`args` select its role), on `cpu` when given. It reports through JSON
 * lines on stdout (`next()` takes them in order) and runs until its stdin closes.
 */
function spawnChild(args: string[], cpu: string | undefined, plainScript?: string) {
  const root = path.resolve(import.meta.dirname, '..');
  const conditions = process.execArgv.filter((a) => a.startsWith('--conditions'));
  // On the built packages the child is plain JavaScript, as `pymodaq bridge` is: the TypeScript loader
  // alone would add ~3 MB of old generation and carry the process over V8's 8 MB threshold for
  // incremental marking (see bench/child/pymodaq-bridge-peer.mjs). On the sources it needs the loader.
  const script =
    plainScript !== undefined
      ? [path.join(root, plainScript)]
      : conditions.some((a) => a.includes('@labwire/source'))
        ? ['--import', 'tsx', ...conditions, path.join(root, 'bench/pymodaq-bridge.ts')]
        : [path.join(root, 'bench/child/pymodaq-bridge-peer.mjs')];
  // LABWIRE_BENCH_PEER_FLAGS: Node flags for these children only, for diagnosis (e.g. `--cpu-prof`).
  const flags = process.env.LABWIRE_BENCH_PEER_FLAGS?.split(' ').filter((f) => f !== '') ?? [];
  const child = spawn(
    cpu === undefined ? process.execPath : 'taskset',
    [...(cpu === undefined ? [] : ['-c', cpu, process.execPath]), ...flags, ...script, ...args],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let exitCode: number | null | undefined;
  // 'close': the child exited and its stdout is read to the end.
  const exited = new Promise<void>((resolve) =>
    child.once('close', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    wake?.();
  });
  child.once('close', () => wake?.());
  return {
    /**
     * The next JSON line; rejects when the child exits first or says nothing for `waitMs` (with `soft`,
     * resolves undefined then).
     */
    async next(what: string, waitMs = 30_000, soft = false): Promise<unknown> {
      const until = Date.now() + waitMs;
      while (lines.length === 0) {
        if (exitCode !== undefined) throw new Error(`${what} exited with ${exitCode}`);
        if (Date.now() > until) {
          if (soft) return undefined;
          throw new Error(`${what}: no answer in ${waitMs / 1000} s`);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
        wake = undefined;
      }
      return JSON.parse(lines.shift()!);
    },
    /** Writes a line to its stdin. */
    tell(line: string) {
      child.stdin.write(`${line}\n`);
    },
    /** Closes its stdin (the child ends and may print its last lines); kills it after 5 s. */
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
  const pinned = pinnedCpu();
  // The machine's CPUs: availableParallelism() counts only those this process may use (1 once pinned).
  const cpus = os.cpus().length;
  if (pinned === undefined || cpus < 2) return undefined;
  return String(pinned === 0 ? 1 : pinned - 1);
}

/**
 * Where a stream's processes run under `--pin` (unpinned, the kernel places every process either way).
 * `one-cpu`: the bridge (or the plain relay) and the viewer each a process of its own, all on the pinned
 * CPU with the instrument (the bench process). No transfer crosses CPUs, so no frame waits for another
 * CPU to wake up; the bridge competes with both of its peers for that one CPU. `cross-cpu`: the bridge
 * or relay on the other CPU (bridgeCpu()), instrument and viewer on the pinned one. On this project's VM
 * the cross-CPU layout has episodes of several seconds in which every 1 MiB transfer across CPUs is
 * slow, plain Node as much as the library (bench/README.md, the bridge section): the target rows use
 * `one-cpu`, and the cross-CPU figures are reported beside them.
 */
type StreamLayout = 'one-cpu' | 'cross-cpu';

/** The CPU of a stream's bridge (or relay) process in `layout`; undefined: placed by the kernel. */
function streamMidCpu(layout: StreamLayout): string | undefined {
  const pinned = pinnedCpu();
  if (pinned === undefined) return undefined;
  return layout === 'one-cpu' ? String(pinned) : bridgeCpu();
}

/** The one CPU this process is pinned to (`--pin`), or undefined. */
function pinnedCpu(): number | undefined {
  let allowed: string | undefined;
  try {
    allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
  return allowed !== undefined && /^\d+$/.test(allowed) ? Number(allowed) : undefined;
}

async function runBridgeChild(serverPort: number): Promise<void> {
  const gcs = gcCounter();
  const bridge = new PymodaqBridge(bridgeOptions(serverPort));
  const { port } = await bridge.listen();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await bridge.close();
  process.stderr.write(`    bridge process: ${gcs.summary()}\n`);
}

/** Counts V8's collections by kind (what the bridge process spent its pauses on, printed when it ends). */
function gcCounter() {
  const kinds: Record<number, string> = { 1: 'scavenge', 2: 'minor-mc', 4: 'mark-compact', 8: 'incremental' };
  const seen = new Map<string, { n: number; ms: number; max: number }>();
  const cpu0 = process.cpuUsage();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      const k = seen.get(kind) ?? { n: 0, ms: 0, max: 0 };
      k.n++;
      k.ms += e.duration;
      k.max = Math.max(k.max, e.duration);
      seen.set(kind, k);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    /** CPU time and collections since the counter started; stops counting. */
    summary(): string {
      observer.disconnect();
      const cpu = process.cpuUsage(cpu0);
      const old = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'old_space');
      const gcText = [...seen].map(
        ([k, v]) => `${k} ${v.n}x ${v.ms.toFixed(0)} ms (longest ${v.max.toFixed(1)})`,
      );
      return `CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms; GC ${gcText.join(', ') || 'none'}; old space ${((old?.space_used_size ?? 0) / MiB).toFixed(1)} MiB`;
    },
  };
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

/**
 * Where the stream's parts run. `processes`: the instrument in this process, the bridge and the viewer
 * each in a process of its own, as in a lab (`pymodaq bridge`, a PyMoDAQ viewer); `in-process`: all
 * three in this process; `none`: the instrument in this process straight to a viewer process.
 */
type StreamPlacement = 'processes' | 'in-process' | 'none';

/** Monotonic milliseconds, the same clock in every process of this machine (CLOCK_MONOTONIC). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The warm-up's frames carry these indexes (negative: not measured). */
const WARMUP_FRAMES = 60;
/** How long the measured stream waits at most for the warm-up's frames to arrive (or be replaced). */
const WARMUP_WAIT_MS = 5000;

/**
 * The stream's viewer: a gen D PymodaqServer whose `data` listener notes when each frame arrived and
 * hands its memory back (`server.release`), as a long-running viewer does once it drew it.
 */
interface StreamViewer {
  port: number;
  /** The instrument (or the bridge's link for it) connected as GRABBER. */
  ready(): Promise<void>;
  /** The warm-up's last frame arrived, or a measured one did, or WARMUP_WAIT_MS passed. */
  warmedUp(): Promise<void>;
  /** Closes the viewer; arrival times (monotonicMs) by frame index. */
  finish(): Promise<(number | null)[]>;
}

function viewerServer(): PymodaqServer {
  return new PymodaqServer({
    protocol: SERVER,
    role: 'detector',
    port: 0,
    maxMessageBytes: MAX_MESSAGE,
    timeoutMs: 60_000,
    readTimeoutMs: 60_000,
  });
}

/** Notes arrivals on `server`; `onWarm` once the warm-up is over (index -1 or a measured frame arrived). */
function noteArrivals(server: PymodaqServer, onWarm: () => void): (number | null)[] {
  const arrivals: (number | null)[] = [];
  let warm = false;
  server.on('data', (e) => {
    const now = monotonicMs();
    const index = e.data.timestamp;
    if (index >= 0) arrivals[index] = now;
    if (!warm && index >= -1) {
      warm = true;
      onWarm();
    }
    // The viewer is done with the frame (it would have drawn it): its memory takes the next one.
    server.release(e.data);
  });
  return arrivals;
}

async function viewerHere(): Promise<StreamViewer> {
  const server = viewerServer();
  const { port } = await server.listen();
  let warm = false;
  const arrivals = noteArrivals(server, () => {
    warm = true;
  });
  return {
    port,
    ready: async () => {
      await server.waitForClient('GRABBER', { timeoutMs: 30_000 });
    },
    async warmedUp() {
      for (let waited = 0; !warm && waited < WARMUP_WAIT_MS; waited += 10) await sleep(10);
    },
    async finish() {
      await server.close();
      return arrivals;
    },
  };
}

async function viewerProcess(): Promise<StreamViewer> {
  const pinned = pinnedCpu();
  const child = spawnChild(['--viewer-child'], pinned === undefined ? undefined : String(pinned));
  const { port } = (await child.next('the viewer process')) as { port: number };
  return {
    port,
    ready: async () => {
      await child.next('the viewer process');
    },
    warmedUp: async () => {
      await child.next('the viewer process', WARMUP_WAIT_MS, true);
    },
    async finish() {
      await child.close();
      for (;;) {
        const line = (await child.next('the viewer process', 5000)) as { arrivals?: (number | null)[] };
        if (line.arrivals !== undefined) return line.arrivals;
      }
    },
  };
}

/** The viewer as a process of its own: JSON lines `{port}`, `{ready}`, `{warm}`, at the end `{arrivals}`. */
async function runViewerChild(): Promise<void> {
  const gcs = gcCounter();
  const server = viewerServer();
  const { port } = await server.listen();
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const arrivals = noteArrivals(server, () => say({ warm: true }));
  say({ port });
  process.stdin.resume();
  const ended = new Promise((resolve) => process.stdin.once('end', resolve));
  await Promise.race([
    server.waitForClient('GRABBER', { timeoutMs: 30_000 }).then(() => say({ ready: true })),
    ended,
  ]);
  await ended;
  await server.close();
  process.stderr.write(`    viewer process: ${gcs.summary()}\n`);
  say({ arrivals });
}

const streams = new Map<string, Promise<StreamResult>>();

/**
 * (a): 30 Hz of 1 MiB frames, paced on absolute times (no drift of our own); run once per placement and
 * layout (the layout places the bridge process; the viewer process always shares the pinned CPU).
 */
export function streamOnce(
  placement: StreamPlacement,
  layout: StreamLayout = 'one-cpu',
): Promise<StreamResult> {
  const key = `${placement} ${layout}`;
  let run = streams.get(key);
  if (run === undefined) {
    run = stream(placement, layout);
    streams.set(key, run);
  }
  return run;
}

async function stream(placement: StreamPlacement, layout: StreamLayout): Promise<StreamResult> {
  const seconds = streamSeconds();
  const viewer = placement === 'in-process' ? await viewerHere() : await viewerProcess();
  const bridge =
    placement === 'none'
      ? undefined
      : placement === 'in-process'
        ? await startBridge('in-process', viewer.port)
        : await startBridge('process', viewer.port, streamMidCpu(layout));
  const detector = new PymodaqDetector({
    protocol: bridge === undefined ? SERVER : CLIENTS,
    port: bridge?.port ?? viewer.port,
    reconnect: false,
    timeoutMs: 60_000,
    handlers: {
      grab: () => {
        throw new Error('the frames are pushed');
      },
    },
  });
  await detector.connect({ timeoutMs: 30_000 });
  await viewer.ready();
  // A ring of pixel buffers (sent by reference); the frames name themselves by their timestamp.
  const ring = Array.from({ length: 8 }, () => new Float64Array(512 * 256));
  const sentAt: number[] = [];
  const period = 1000 / 30;
  const total = Math.round(seconds * 30);
  const pace = async (from: number, to: number, send: (i: number) => void) => {
    const t0 = performance.now() + 100;
    for (let i = from; i < to; i++) {
      const wait = t0 + (i - from) * period - performance.now();
      if (wait > 0) await sleep(wait);
      send(i);
    }
  };
  // Warm-up frames carry negative indexes (not recorded). The measured stream starts once the last of
  // them arrived (or was replaced: at most 5 s): a backlog the warm-up's first frames built up while
  // nothing was compiled or faulted in yet is start-up, not the steady state the targets are about.
  await pace(-WARMUP_FRAMES, 0, (i) => {
    detector.push(frame(ring[(i + WARMUP_FRAMES) % ring.length]!, 256, i)).catch(() => {});
  });
  await viewer.warmedUp();
  const gcs = gcCounter();
  await pace(0, total, (i) => {
    const data = frame(ring[i % ring.length]!, 256, i);
    sentAt[i] = monotonicMs();
    // A push still queued when the stream is closed is aborted: that frame counts as never arrived.
    detector.push(data).catch(() => {});
  });
  await sleep(1000);
  process.stderr.write(
    `    ${placement === 'in-process' ? 'bench process (instrument, bridge, viewer)' : 'bench process (instrument)'}, measured stream: ${gcs.summary()}\n`,
  );
  await detector.close();
  await bridge?.close();
  const arrivals = await viewer.finish();
  const label =
    placement === 'none'
      ? `without a bridge (${streamPlacement(false)})`
      : placement === 'in-process'
        ? 'through the bridge, all in this process'
        : `through the bridge (${streamPlacement(true, layout)})`;
  return summarize(label, sentAt, arrivals, total);
}

/** Latency p99, drift and share delivered of a stream from its send and arrival times; printed. */
function summarize(
  label: string,
  sentAt: readonly number[],
  arrivals: readonly (number | null)[],
  total: number,
): StreamResult {
  const window = Math.min(10, streamSeconds() / 3) * 1000;
  const latency: { at: number; ms: number }[] = [];
  for (let i = 0; i < total; i++) {
    const arrived = arrivals[i];
    if (typeof arrived === 'number') latency.push({ at: sentAt[i]!, ms: arrived - sentAt[i]! });
  }
  const start = sentAt[0]!;
  const end = sentAt[total - 1]!;
  const first = latency.filter((l) => l.at - start < window).map((l) => l.ms);
  const last = latency.filter((l) => end - l.at < window).map((l) => l.ms);
  // Latency of the frames that arrived; the frames latest-wins replaced are counted by `delivered` (a
  // separate target, so dropping frames cannot make the latency look good).
  const all = latency.map((l) => l.ms).sort((a, b) => a - b);
  const delivered = latency.length / total;
  process.stderr.write(
    `  ${label}: ${latency.length} of ${total} frames; latency median ${quantile(all, 0.5).toFixed(2)} ms, p90 ${quantile(all, 0.9).toFixed(2)}, p99 ${quantile(all, 0.99).toFixed(2)}, max ${quantile(all, 1).toFixed(2)}; median first ${median(first).toFixed(2)}, last ${median(last).toFixed(2)}\n`,
  );
  return { p99: quantile(all, 0.99), drift: Math.abs(median(last) - median(first)), delivered };
}

const PLAIN_RELAY = 'bench/child/plain-relay.mjs';
const plainRuns = new Map<StreamLayout, Promise<StreamResult>>();

/**
 * The same stream in plain Node `net` (bench/child/plain-relay.mjs): detector, relay and viewer each a
 * process of its own in plain JavaScript, placed as the library's stream of the same layout is (the relay
 * where the bridge runs, detector and viewer where the instrument and the viewer run). What this machine
 * gives such a stream with no library at all; run once per layout.
 */
function plainStream(layout: StreamLayout): Promise<StreamResult> {
  let run = plainRuns.get(layout);
  if (run !== undefined) return run;
  run = (async () => {
    const seconds = streamSeconds();
    const pinned = pinnedCpu();
    const here = pinned === undefined ? undefined : String(pinned);
    const viewer = spawnChild(['viewer'], here, PLAIN_RELAY);
    const { port: viewerPort } = (await viewer.next('the plain viewer')) as { port: number };
    const relayCpu = streamMidCpu(layout);
    const relay = spawnChild(['relay', String(viewerPort)], relayCpu, PLAIN_RELAY);
    const { port: relayPort } = (await relay.next('the plain relay')) as { port: number };
    const detector = spawnChild(['detector', String(relayPort), String(seconds)], here, PLAIN_RELAY);
    // The warm-up takes 2 s; then at most WARMUP_WAIT_MS for its last frame to arrive.
    await viewer.next('the plain viewer', 2000 + WARMUP_WAIT_MS, true);
    detector.tell('go');
    const { sentAt } = (await detector.next('the plain detector', seconds * 1000 + 30_000)) as {
      sentAt: number[];
    };
    await detector.close();
    await relay.close();
    await viewer.close();
    let arrivals: (number | null)[] | undefined;
    while (arrivals === undefined) {
      arrivals = ((await viewer.next('the plain viewer', 5000)) as { arrivals?: (number | null)[] }).arrivals;
    }
    const placement =
      relayCpu === undefined
        ? 'placed by the kernel'
        : relayCpu === here
          ? `relay, detector and viewer all on CPU ${pinned}`
          : `relay on CPU ${relayCpu}, detector and viewer on CPU ${pinned}`;
    return summarize(`plain net, three processes (${placement})`, sentAt, arrivals, Math.round(seconds * 30));
  })();
  plainRuns.set(layout, run);
  return run;
}

/** (b): sequential moves through the bridge. */
export async function bridgedMoves(placement: Placement): Promise<number> {
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

/** Bytes of a `move_abs` (server → client) and a `move_done` (client → server) in a generation. */
export function moveSizes(protocol: string): { request: number; reply: number } {
  const p = resolveProfile(protocol);
  return {
    request: p.encodeCommand('move_abs').length + p.encodePosition(1.5, 'mm').length,
    reply: p.encodeCommand('move_done').length + p.encodePosition(1.5, 'mm').length,
  };
}

/** The bridged move's exchange in raw bytes: the server's request and reply sizes, MOVES round trips. */
function moveExchange() {
  const { request, reply } = moveSizes(SERVER);
  return {
    exchange: { request, replyBytes: reply, count: MOVES, serverReceive: 'onread' as const },
    baselineName: `raw net round trips, ${request} B out / ${reply} B back`,
  };
}

function moveCase(placement: Placement): BenchCase {
  const { exchange, baselineName } = moveExchange();
  return {
    name: placement === 'in-process' ? 'pymodaq.bridge-move-abs' : 'pymodaq.bridge-move-abs-process',
    metric: `sequential move_abs through the bridge (${SERVER} server, ${CLIENTS} actuator; bridge ${placement === 'in-process' ? 'in-process' : 'a process of its own'}), ${MOVES} round trips`,
    unit: 'round trips/s',
    target: 0.4,
    compare: 'ratio>=',
    informational: placement === 'process',
    baselineName,
    baseline: () => rawExchange(exchange),
    run: () => bridgedMoves(placement),
    runs: 3,
  };
}

/**
 * Beside `bridge-move-abs`: the same round trips through a plain byte relay in the same process
 * (rawRelayExchange: no decoding, no translation, `onread` on every socket), against the same baseline.
 * What any bridge could reach here, so the target row reads against its ceiling, not only against 1.
 */
function relayMoveCase(): BenchCase {
  const { exchange, baselineName } = moveExchange();
  return {
    name: 'pymodaq.bridge-move-abs-plain-relay',
    metric: `the bridge-move-abs round trips (${exchange.request} B out / ${exchange.replyBytes} B back) through a plain Node byte relay in the same process (onread on every socket, each chunk copied out and written on, nothing decoded): the ceiling of any in-process bridge, ${MOVES} round trips`,
    unit: 'round trips/s',
    target: 0.4,
    compare: 'ratio>=',
    informational: true,
    baselineName,
    baseline: () => rawExchange(exchange),
    run: () => rawRelayExchange(exchange),
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
      'raw net frame stream, same frame size and writes, received through onread (as the library server reads its accepted sockets) into one reused buffer',
    baseline: () => rawFrameStream({ payload: rawPayload(), count: STREAM_FRAMES, into: 'reused' }),
    run: () => bridgedImages(placement),
    runs: 3,
  };
}

/** Where the stream's processes run: recorded with each stream figure. */
function streamPlacement(withBridge: boolean, layout: StreamLayout = 'one-cpu'): string {
  const who = withBridge ? 'bridge and viewer each a process of its own' : 'viewer a process of its own';
  const pinned = pinnedCpu();
  if (pinned === undefined) return `${who}, placed by the kernel`;
  const cpu = streamMidCpu(layout);
  if (!withBridge || cpu === String(pinned)) {
    return `${who}: ${withBridge ? 'bridge, ' : ''}instrument (bench process) and viewer all on CPU ${pinned}`;
  }
  return `${who}: bridge on CPU ${cpu}, instrument (bench process) and viewer on CPU ${pinned}`;
}

/** The stream rows' plain-net comparison, in `layout`. */
function plainNetMetric(layout: StreamLayout): string {
  const pinned = pinnedCpu();
  const where =
    pinned === undefined
      ? 'placed by the kernel'
      : layout === 'one-cpu'
        ? `all three on CPU ${pinned}, as the bridge row`
        : `the relay on CPU ${streamMidCpu(layout)}, detector and viewer on CPU ${pinned}, as the cross-CPU bridge row`;
  return `the same stream in plain Node \`net\` (detector -> relay -> viewer, each a process of its own, ${where}; accepted sockets given onread, as the library does, frames copied into reused buffers): what this machine gives with no library`;
}

export const bridgeCases: BenchCase[] = [
  {
    name: 'pymodaq.bridge-stream-p99',
    // A getter: `--pin` pins this process after the cases are loaded.
    get metric() {
      return `30 Hz of 1 MiB 2-D frames through the bridge (${CLIENTS} -> ${SERVER}; ${streamPlacement(true)}), latency p99, ${streamSeconds()} s`;
    },
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    baselineName: '-',
    run: async () => (await streamOnce('processes')).p99,
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
    run: async () => (await streamOnce('processes')).delivered,
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
    run: async () => (await streamOnce('processes')).drift,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-p99-in-process',
    metric: `the same stream with instrument, bridge and viewer all in this process (each pauses for the others' collections)`,
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () => (await streamOnce('in-process')).p99,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-p99-no-bridge',
    get metric() {
      return `the same stream without a bridge (${SERVER} detector -> ${SERVER} server; ${streamPlacement(false)}): what this machine gives`;
    },
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () => (await streamOnce('none')).p99,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-p99-plain-net',
    get metric() {
      return plainNetMetric('one-cpu');
    },
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () => (await plainStream('one-cpu')).p99,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-p99-cross-cpu',
    get metric() {
      const unpinned =
        pinnedCpu() === undefined ? ' (unpinned: a second run of the same kernel placement)' : '';
      return `the same stream through the bridge with the bridge on the other CPU (${streamPlacement(true, 'cross-cpu')})${unpinned}: each 1 MiB transfer crosses CPUs, which this VM makes slow in episodes (bench/README.md)`;
    },
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () => (await streamOnce('processes', 'cross-cpu')).p99,
    runs: 1,
    noWarmup: true,
  },
  {
    name: 'pymodaq.bridge-stream-p99-plain-net-cross-cpu',
    get metric() {
      return plainNetMetric('cross-cpu');
    },
    unit: 'ms',
    target: 10,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () => (await plainStream('cross-cpu')).p99,
    runs: 1,
    noWarmup: true,
  },
  moveCase('in-process'),
  relayMoveCase(),
  moveCase('process'),
  imageCase('process'),
  imageCase('in-process'),
];

if (process.argv.includes('--viewer-child')) await runViewerChild();
if (process.argv.includes('--bridge-child')) {
  await runBridgeChild(Number(process.argv[process.argv.indexOf('--bridge-child') + 1]));
}
