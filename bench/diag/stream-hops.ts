// Where the latency of the 30 Hz stream of 1 MiB frames goes (issue 16a): the stream of
// `pymodaq.bridge-stream-*` with a timestamp per frame at each hop, the event loop's delay
// (perf_hooks.monitorEventLoopDelay), V8's collections by kind, and the process's CPU time and page faults.
//
//   node --import tsx --conditions=@labwire/source bench/diag/stream-hops.ts bridge|none [seconds]
//   taskset -c 1 node --trace-gc --import tsx bench/diag/stream-hops.ts none 20    # on the built packages
//
// Env: RELEASE=1 makes the server's `data` listener hand each frame back (`server.release`), as a viewer
// does; WARM=N warm-up frames (default 60); HEAP_SAMPLE=file.json writes a sampling heap profile of the
// measured stream that keeps what collections freed (what is allocated, not what is retained). Per frame:
// `push` (the detector's push() resolved: the frame is in its socket) and `serverIn` (the server's `data`
// event), from the moment it was pushed. Frames slower than 10 ms are listed with the collections that
// ran while they were on their way; the heap's spaces and external memory are printed at the end.

import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { PymodaqBridge, PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';
import { dataFromPlugins, dataToExport, NdArray } from '@labwire/pymodaq/codec';

const mode = process.argv[2] === 'none' ? 'none' : 'bridge';
const seconds = Number(process.argv[3] ?? 20);
const warm = Number(process.env.WARM ?? 60);
const release = process.env.RELEASE === '1';

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
const GC_KINDS: Record<number, string> = {
  1: 'scavenge',
  2: 'minor-mc',
  4: 'mark-compact',
  8: 'incremental',
};
const gcs: { at: number; ms: number; kind: string }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    gcs.push({ at: e.startTime, ms: e.duration, kind: GC_KINDS[kind] ?? String(kind) });
  }
}).observe({ entryTypes: ['gc'] });

const inspector = new Session();
const hops = { push: [] as number[], serverIn: [] as number[] };

const server = new PymodaqServer({ protocol: 'D', role: 'detector', port: 0, maxMessageBytes: 64 << 20 });
const { port: serverPort } = await server.listen();
const bridge =
  mode === 'bridge'
    ? new PymodaqBridge({ clientProtocol: 'C4', serverProtocol: 'D', port: 0, serverPort })
    : undefined;
const bridgePort = bridge === undefined ? undefined : (await bridge.listen()).port;
const detector = new PymodaqDetector({
  protocol: bridge === undefined ? 'D' : 'C4',
  port: bridgePort ?? serverPort,
  reconnect: false,
  handlers: {
    grab: () => {
      throw new Error('the frames are pushed');
    },
  },
});
await detector.connect({ timeoutMs: 30_000 });
await server.waitForClient('GRABBER', { timeoutMs: 30_000 });
server.on('data', (e) => {
  const index = e.data.timestamp;
  if (index >= 0) hops.serverIn[index] = performance.now();
  if (release) server.release(e.data);
});

const ring = Array.from({ length: 8 }, () => new Float64Array(512 * 256));
const frame = (pixels: Float64Array, index: number) =>
  dataToExport({
    name: 'camera',
    timestamp: index,
    data: [
      dataFromPlugins({ name: 'camera', timestamp: index, data: [NdArray.fromTyped(pixels, [512, 256])] }),
    ],
  });

const sent: number[] = [];
const period = 1000 / 30;
const total = Math.round(seconds * 30);
let cpu0 = process.cpuUsage();
let ru0 = process.resourceUsage();
const t0 = performance.now() + 100;
for (let i = -warm; i < total; i++) {
  const wait = t0 + (i + warm) * period - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  if (i === 0) {
    if (process.env.HEAP_SAMPLE) {
      inspector.connect();
      await inspector.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    eld.reset();
    gcs.length = 0;
    cpu0 = process.cpuUsage();
    ru0 = process.resourceUsage();
  }
  const data = frame(ring[(i + warm) % ring.length]!, i);
  if (i >= 0) sent[i] = performance.now();
  const k = i;
  detector.push(data).then(
    () => {
      if (k >= 0) hops.push[k] = performance.now();
    },
    () => {},
  );
}
await new Promise((r) => setTimeout(r, 1000));
if (process.env.HEAP_SAMPLE) {
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  fs.writeFileSync(process.env.HEAP_SAMPLE, JSON.stringify(profile));
}
const cpu = process.cpuUsage(cpu0);
const ru = process.resourceUsage();
await detector.close();
await bridge?.close();
await server.close();

const f = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '-');
const q = (values: number[], p: number) => {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const latency = sent.map((t, i) => (hops.serverIn[i] ?? Number.NaN) - t);
console.log(
  `${mode}${release ? ' (frames handed back)' : ''}: ${latency.filter(Number.isFinite).length}/${total} frames; latency median ${f(q(latency, 0.5))} p90 ${f(q(latency, 0.9))} p99 ${f(q(latency, 0.99))} max ${f(q(latency, 1))} ms`,
);
console.log(
  `event loop delay p50 ${f(eld.percentile(50) / 1e6)} p99 ${f(eld.percentile(99) / 1e6)} max ${f(eld.max / 1e6)} ms; CPU user ${(cpu.user / 1e3).toFixed(0)} + system ${(cpu.system / 1e3).toFixed(0)} ms; minor page faults ${ru.minorPageFault - ru0.minorPageFault}`,
);
const byKind = new Map<string, { n: number; ms: number; max: number }>();
for (const g of gcs) {
  const e = byKind.get(g.kind) ?? { n: 0, ms: 0, max: 0 };
  e.n++;
  e.ms += g.ms;
  e.max = Math.max(e.max, g.ms);
  byKind.set(g.kind, e);
}
console.log(
  `GC: ${[...byKind].map(([k, v]) => `${k} ${v.n}x, ${v.ms.toFixed(0)} ms, longest ${v.ms > 0 ? v.max.toFixed(1) : 0}`).join('; ')}`,
);
console.log(
  `heap spaces: ${v8
    .getHeapSpaceStatistics()
    .map(
      (x) =>
        `${x.space_name} ${(x.space_size / 2 ** 20).toFixed(1)}/${(x.space_used_size / 2 ** 20).toFixed(1)} MiB`,
    )
    .join(
      ', ',
    )}; external ${(process.memoryUsage().external / 2 ** 20).toFixed(1)} MiB, array buffers ${(process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(1)} MiB`,
);
const slow = sent.map((_t, i) => i).filter((i) => !(latency[i]! <= 10));
console.log(`frames over 10 ms or lost: ${slow.length}`);
for (const i of slow.slice(0, 30)) {
  const t = sent[i]!;
  console.log(
    `  #${i} at ${f(t - sent[0]!)} ms: push ${f(hops.push[i]! - t)} serverIn ${f(hops.serverIn[i]! - t)}; GCs meanwhile: ${gcs
      .filter((g) => g.at + g.ms >= t - 2 && g.at <= (hops.serverIn[i] ?? t + 100))
      .map((g) => `${g.kind} ${f(g.ms)} at +${f(g.at - t)}`)
      .join(', ')}`,
  );
}
