// Where each frame of the bridge stream (30 Hz of 1 MiB 2-D frames, issue 16) spends its time, stage by
// stage, in every process: detector push -> bridge (or relay) first byte in -> whole frame decoded -> write
// issued -> viewer first byte -> whole frame. Every process loads bench/diag/stage-hooks.mjs, which notes
// chunks, decoded frames, writes, collections, event-loop delay, page faults and scheduler time on the
// monotonic clock; this script joins them per frame and prints p50/p99 per stage and the slow frames with
// the collections that overlapped them.
//
//   node --import ./bench/diag/stage-hooks.mjs bench/diag/stream-stages.mjs bridge|plain|none \
//     [--seconds=20] [--cpus=det,mid,viewer] [--node=/path/to/node] [--json=out.json]
//     ["--mid-flags=NODE FLAGS"] ["--viewer-flags=NODE FLAGS"] (e.g. --cpu-prof for that child)
//
// --cpus: the CPU of each role (`-` = placed by the kernel), default 1,1,1 (what the target rows of
// `pnpm bench --pin` do: all three on one CPU; 1,0,1 is their `-cross-cpu` layout). `bridge`: the
// library's C4 detector in this process, PymodaqBridge and a gen D PymodaqServer viewer as plain-JS child processes
// (bench/child/pymodaq-bridge-peer.mjs); `plain`: the three plain-net processes of bench/child/plain-relay.mjs;
// `none`: the library's D detector here straight to the viewer process. --node: the Node binary of the
// child processes (e.g. Node 22). Needs the built packages.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const hooks = path.join(root, 'bench/diag/stage-hooks.mjs');
const mode = process.argv[2] ?? 'bridge';
const opt = (name, dflt) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const seconds = Number(opt('seconds', '20'));
const [detCpu, midCpu, viewerCpu] = opt('cpus', '1,1,1').split(',');
const childNode = opt('node', process.execPath);
const stagesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stages-'));
process.env.STAGES_DIR = stagesDir;
const WARMUP = 60;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (detCpu !== '-' && mode !== 'plain') {
  spawnSync('taskset', ['-a', '-p', '-c', detCpu, String(process.pid)], { stdio: 'ignore' });
}

const midFlags = opt('mid-flags', '').split(' ').filter(Boolean);
const viewerFlags = opt('viewer-flags', '').split(' ').filter(Boolean);
function child(args, cpu, flags = []) {
  const argv = [childNode, ...flags, '--import', hooks, ...args];
  const c = spawn(cpu === '-' ? argv[0] : 'taskset', cpu === '-' ? argv.slice(1) : ['-c', cpu, ...argv], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, STAGES_DIR: stagesDir },
  });
  const lines = [];
  let wake;
  let out = '';
  c.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      lines.push(JSON.parse(out.slice(0, nl)));
      out = out.slice(nl + 1);
    }
    wake?.();
  });
  const exited = new Promise((r) => c.once('close', r));
  return {
    reset: () => c.kill('SIGUSR2'),
    async next(waitMs = 30_000) {
      const until = Date.now() + waitMs;
      while (lines.length === 0) {
        if (Date.now() > until) return undefined;
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return lines.shift();
    },
    tell: (line) => c.stdin.write(`${line}\n`),
    async close() {
      c.stdin.end();
      await exited;
    },
  };
}

async function libraryRun() {
  const { PymodaqDetector } = await import('@labwire/pymodaq');
  const { dataFromPlugins, dataToExport, NdArray } = await import('@labwire/pymodaq/codec');
  const peer = 'bench/child/pymodaq-bridge-peer.mjs';
  const viewer = child([peer, '--viewer-child'], viewerCpu, viewerFlags);
  const { port: viewerPort } = await viewer.next();
  const bridge =
    mode === 'none' ? undefined : child([peer, '--bridge-child', String(viewerPort)], midCpu, midFlags);
  const bridgePort = bridge === undefined ? undefined : (await bridge.next()).port;
  const detector = new PymodaqDetector({
    protocol: bridge === undefined ? 'D' : 'C4',
    port: bridgePort ?? viewerPort,
    reconnect: false,
    timeoutMs: 60_000,
    handlers: {
      grab: () => {
        throw new Error('pushed');
      },
    },
  });
  await detector.connect({ timeoutMs: 30_000 });
  await viewer.next(); // ready
  const ring = Array.from({ length: 8 }, () => new Float64Array(512 * 256));
  const frame = (pixels, i) =>
    dataToExport({
      name: 'camera',
      timestamp: i,
      data: [
        dataFromPlugins({ name: 'camera', timestamp: i, data: [NdArray.fromTyped(pixels, [512, 256])] }),
      ],
    });
  const sentAt = [];
  const pace = async (from, to) => {
    const t0 = performance.now() + 100;
    for (let i = from; i < to; i++) {
      const wait = t0 + (i - from) * (1000 / 30) - performance.now();
      if (wait > 0) await sleep(wait);
      const data = frame(ring[(i + WARMUP) % ring.length], i);
      if (i >= 0) sentAt[i] = now();
      globalThis.__labwireFrame = i;
      detector.push(data).catch(() => {});
    }
  };
  await pace(-WARMUP, 0);
  await viewer.next(5000); // warm
  globalThis.__labwireStageReset?.();
  viewer.reset();
  bridge?.reset();
  await pace(0, Math.round(seconds * 30));
  await sleep(1000);
  await detector.close();
  await bridge?.close();
  await viewer.close();
  return sentAt;
}

async function plainRun() {
  const script = 'bench/child/plain-relay.mjs';
  const viewer = child([script, 'viewer'], viewerCpu);
  const { port: viewerPort } = await viewer.next();
  const relay = child([script, 'relay', String(viewerPort)], midCpu, midFlags);
  const { port: relayPort } = await relay.next();
  const detector = child([script, 'detector', String(relayPort), String(seconds)], detCpu);
  await viewer.next(2000 + 5000);
  for (const c of [viewer, relay, detector]) c.reset();
  detector.tell('go');
  const { sentAt } = await detector.next(seconds * 1000 + 30_000);
  await detector.close();
  await relay.close();
  await viewer.close();
  return sentAt;
}

const sentAt = mode === 'plain' ? await plainRun() : await libraryRun();
if (mode !== 'plain') process.emit('exit'); // this process's own record (the detector)
const records = fs
  .readdirSync(stagesDir)
  .map((f) => JSON.parse(fs.readFileSync(path.join(stagesDir, f), 'utf8')));
const byRole = (r) => records.find((x) => x.role === r);
const det = byRole('main') ?? byRole('detector');
const mid = byRole('--bridge-child') ?? byRole('relay');
const view = byRole('--viewer-child') ?? byRole('viewer');

/** First decode time per index, and the index decoded before it (in order of decoding). */
function decodes(rec) {
  const at = new Map();
  const prevOf = new Map();
  let prev;
  for (const [t, i] of rec.decoded) {
    if (at.has(i)) continue;
    at.set(i, t);
    prevOf.set(i, prev);
    prev = i;
  }
  return { at, prevOf };
}
/** The inbound socket: the one with the most bytes received. */
function inbound(rec) {
  let best;
  let most = -1;
  for (const s of rec.sockets) {
    const bytes = s.chunks.reduce((n, c) => n + c[1], 0);
    if (bytes > most) {
      most = bytes;
      best = s;
    }
  }
  return best?.chunks ?? [];
}
/** First chunk at or after `t` (binary search). */
function firstChunkAfter(chunks, t) {
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (chunks[m][0] < t) lo = m + 1;
    else hi = m;
  }
  return chunks[lo]?.[0];
}
/** Per index: first big write issued and when its callback ran. */
function bigWrites(rec) {
  const out = new Map();
  for (const [t, len, done, i] of rec.writes) {
    if (len < 64 * 1024 || i === null) continue;
    const w = out.get(i);
    if (w === undefined) out.set(i, { t, done });
    else if (done !== null && (w.done === null || done > w.done)) w.done = done;
  }
  return out;
}

function stagesOf(rec) {
  const d = decodes(rec);
  const chunks = inbound(rec);
  const sched = new Map(rec.decoded.map(([t, i, run, wait]) => [i, { t, run, wait }]));
  const firsts = rec.firsts ?? [];
  return {
    /** CPU time and run-queue wait of the main thread between the first chunk of frame i and its decode. */
    split: (i) => {
      const end = sched.get(i);
      const prev = d.prevOf.get(i);
      const after = prev === undefined ? -Infinity : d.at.get(prev);
      const f = firsts.find(([t]) => t >= after && t <= end.t);
      return f === undefined ? [Number.NaN, Number.NaN] : [end.run - f[1], end.wait - f[2]];
    },
    decoded: d.at,
    first: (i) => {
      const prev = d.prevOf.get(i);
      const after = prev === undefined ? -Infinity : d.at.get(prev);
      const f = firstChunkAfter(chunks, after);
      return f !== undefined && f <= d.at.get(i) ? f : undefined;
    },
    writes: bigWrites(rec),
  };
}

const V = stagesOf(view);
const M = mid ? stagesOf(mid) : undefined;
const D = { writes: bigWrites(det) };
const names = M
  ? [
      'det write done',
      'to mid 1st byte',
      'mid receive',
      ' of it on CPU',
      ' of it runq wait',
      'mid decode->write',
      'mid write done',
      'to viewer 1st byte',
      'viewer receive',
      ' of it on CPU',
      ' of it runq wait',
      'total',
    ]
  : ['det write done', 'to viewer 1st byte', 'viewer receive', ' of it on CPU', ' of it runq wait', 'total'];
const rows = [];
for (let i = 0; i < sentAt.length; i++) {
  const s = sentAt[i];
  const vd = V.decoded.get(i);
  if (vd === undefined) {
    rows.push(undefined);
    continue;
  }
  const vf = V.first(i);
  const dw = D.writes.get(i);
  if (M) {
    const mf = M.first(i);
    const md = M.decoded.get(i);
    const mw = M.writes.get(i);
    rows.push({
      i,
      s,
      v: [
        dw?.done - s,
        mf - s,
        md - mf,
        ...M.split(i),
        mw?.t - md,
        mw?.done - mw?.t,
        vf - mw?.t,
        vd - vf,
        ...V.split(i),
        vd - s,
      ],
    });
  } else rows.push({ i, s, v: [dw?.done - s, vf - s, vd - vf, ...V.split(i), vd - s] });
}
const got = rows.filter(Boolean);
const q = (xs, p) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const load = os.loadavg()[0].toFixed(2);
console.log(
  `${mode} cpus det=${detCpu} mid=${midCpu} viewer=${viewerCpu} node(children)=${childNode === process.execPath ? process.version : childNode}: ${got.length}/${sentAt.length} frames, load ${load}`,
);
console.log(
  `${'stage'.padEnd(20)} ${'p50'.padStart(7)} ${'p90'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`,
);
names.forEach((n, k) => {
  const xs = got.map((r) => r.v[k]);
  console.log(
    `${n.padEnd(20)} ${f(q(xs, 0.5)).padStart(7)} ${f(q(xs, 0.9)).padStart(7)} ${f(q(xs, 0.99)).padStart(7)} ${f(q(xs, 1)).padStart(7)}`,
  );
});
const total = got.map((r) => r.v[r.v.length - 1]);
const first = got.filter((r) => r.s - sentAt[0] < 10_000).map((r) => r.v.at(-1));
const last = got.filter((r) => sentAt.at(-1) - r.s < 10_000).map((r) => r.v.at(-1));
console.log(`drift ${f(Math.abs(q(last, 0.5) - q(first, 0.5)))} ms`);
for (const [name, r] of [
  ['detector', det],
  ['mid', mid],
  ['viewer', view],
]) {
  if (!r) continue;
  const byKind = {};
  for (const [t, ms, kind] of r.gcs) {
    if (t < r.start) continue;
    byKind[kind] ??= { n: 0, ms: 0, max: 0 };
    const k = byKind[kind];
    k.n++;
    k.ms += ms;
    k.max = Math.max(k.max, ms);
  }
  console.log(
    `  ${name.padEnd(8)} cpu ${r.cpuMs.toFixed(0)} ms (user ${r.userMs.toFixed(0)}, sys ${r.systemMs.toFixed(0)}), faults ${r.minorFaults}, ctxsw vol ${r.voluntarySwitches} invol ${r.involuntarySwitches}, runqueue wait ${f(r.sched?.waitMs)} ms over ${r.sched?.slices} slices, eld p50 ${f(r.eld.p50)} p99 ${f(r.eld.p99)} max ${f(r.eld.max)}; GC ${Object.entries(
      byKind,
    )
      .map(([k, v]) => `${k} ${v.n}x ${v.ms.toFixed(0)} ms max ${v.max.toFixed(1)}`)
      .join(', ')}`,
  );
}
const threshold = Math.max(10, q(total, 0.98));
const slow = got.filter((r) => r.v.at(-1) >= threshold);
console.log(
  `frames >= ${f(threshold)} ms: ${slow.length}; stage (ms) and collections overlapping [push, viewer decoded]:`,
);
for (const r of slow.slice(0, 25)) {
  const end = r.s + r.v.at(-1);
  const gcText = [
    ['det', det],
    ['mid', mid],
    ['view', view],
  ]
    .filter(([, x]) => x)
    .flatMap(([n, x]) =>
      x.gcs
        .filter(([t, ms]) => t + ms >= r.s && t <= end)
        .map(([t, ms, k]) => `${n}:${k} ${ms.toFixed(1)}@+${(t - r.s).toFixed(1)}`),
    );
  console.log(`  #${r.i}: ${r.v.map(f).join(' | ')}  ${gcText.join(', ')}`);
}
const json = opt('json', undefined);
if (json)
  fs.writeFileSync(json, JSON.stringify({ mode, cpus: [detCpu, midCpu, viewerCpu], load, names, rows: got }));
fs.rmSync(stagesDir, { recursive: true, force: true });
delete process.env.STAGES_DIR;
process.exit(0);
