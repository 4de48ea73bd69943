// Per-stage timestamps for bench/diag/stream-stages.ts (issue 16): loaded with `--import` into every
// process of the 30 Hz / 1 MiB stream (detector, bridge or relay, viewer). Records, on the monotonic clock
// that all processes share (ms):
// - every chunk a socket delivers ('data' events: time and length, per socket),
// - every decoded frame: library processes through the `data` events of the pymodaq session/server
//   objects (payload `{ data: { timestamp } }`), plain-net processes through `globalThis.__labwireStage`,
// - every socket write of at least 16 bytes: when issued, its length, when its callback ran, and the
//   frame index current in this process then (the last decoded frame, or `globalThis.__labwireFrame`),
// - V8 collections (kind, start, duration), the event loop's delay, page faults, context switches and
//   /proc/self/schedstat (time on CPU, time waiting on a run queue, timeslices).
// Written as JSON to $STAGES_DIR/<role>-<pid>.json when the process exits.

import EventEmitter from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';

const stagesDir = () => process.env.STAGES_DIR;
const now = () => Number(process.hrtime.bigint()) / 1e6;
// performance.now() + offset = monotonic ms (both monotonic; offset measured once).
const offset = now() - performance.now();
const role =
  process.argv.find((a) => ['--bridge-child', '--viewer-child', 'viewer', 'relay', 'detector'].includes(a)) ??
  'main';

// The main thread's time on a CPU and waiting on a run queue (ms), read at frame boundaries only.
let schedFd;
const schedBuf = Buffer.alloc(128);
function sched2() {
  try {
    schedFd ??= fs.openSync('/proc/self/schedstat', 'r');
    const n = fs.readSync(schedFd, schedBuf, 0, 128, 0);
    const [run, wait] = schedBuf.toString('latin1', 0, n).split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}
let sinceDecode = true;
const firsts = []; // [t, runMs, waitMs]: the first chunk after a decoded frame
const sockets = new Map(); // socket -> { id, chunks: [t, len][] }
let nextId = 0;
const decoded = []; // [t, index]
const writes = []; // [tIssued, len, tDone | null, index, socketId]
const gcs = []; // [t, ms, kind]
globalThis.__labwireFrame = undefined;
let current;

function chunkArrived(socket, length) {
  let s = sockets.get(socket);
  if (s === undefined) {
    s = { id: nextId++, chunks: [] };
    sockets.set(socket, s);
  }
  const t = now();
  s.chunks.push([t, length]);
  if (sinceDecode && length > 0) {
    sinceDecode = false;
    firsts.push([t, ...sched2()]);
  }
}

// Sockets that read through `onread` (connected with the option, or accepted ones the library adopted:
// framing's adoptOnread) emit no 'data': wrap their read callback once it is set.
{
  const probe = new net.Socket({ onread: { buffer: new Uint8Array(1), callback: () => true } });
  const kBufferCb = Object.getOwnPropertySymbols(probe).find((x) => x.description === 'kBufferCb');
  probe.destroy();
  const { TCP } = process.binding('tcp_wrap');
  const orig = TCP.prototype.useUserBuffer;
  TCP.prototype.useUserBuffer = function (buf) {
    queueMicrotask(() => {
      const owner = Object.getOwnPropertySymbols(this).find((x) => x.description === 'owner_symbol');
      const socket = owner && this[owner];
      const cb = socket?.[kBufferCb];
      if (typeof cb !== 'function' || cb.__staged) return;
      const wrapped = function (n, b) {
        chunkArrived(socket, n);
        return cb.call(this, n, b);
      };
      wrapped.__staged = true;
      socket[kBufferCb] = wrapped;
    });
    return orig.call(this, buf);
  };
}

const origEmit = EventEmitter.prototype.emit;
EventEmitter.prototype.emit = function (name, ...args) {
  const a = args[0];
  if (name === 'data') {
    if (this instanceof net.Socket) chunkArrived(this, a.length);
    else if (typeof a?.data?.timestamp === 'number') {
      current = a.data.timestamp;
      decoded.push([now(), current, ...sched2()]);
      sinceDecode = true;
    }
  }
  return origEmit.call(this, name, ...args);
};
globalThis.__labwireStage = (what, index) => {
  if (what === 'decoded') {
    current = index;
    decoded.push([now(), index, ...sched2()]);
    sinceDecode = true;
  }
};

const origWrite = net.Socket.prototype.write;
net.Socket.prototype.write = function (chunk, encoding, cb) {
  if (typeof encoding === 'function') {
    cb = encoding;
    encoding = undefined;
  }
  const len = chunk?.length ?? 0;
  if (len >= 16) {
    let s = sockets.get(this);
    if (s === undefined) {
      s = { id: nextId++, chunks: [] };
      sockets.set(this, s);
    }
    const rec = [now(), len, null, globalThis.__labwireFrame ?? current ?? null, s.id];
    writes.push(rec);
    const inner = cb;
    cb = (err) => {
      rec[2] = now();
      if (inner) inner(err);
    };
  }
  return encoding === undefined ? origWrite.call(this, chunk, cb) : origWrite.call(this, chunk, encoding, cb);
};

const kinds = { 1: 'scavenge', 2: 'minor-mc', 4: 'mark-compact', 8: 'incremental', 16: 'weakcb' };
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    gcs.push([e.startTime + offset, e.duration, kinds[e.detail?.kind] ?? '?']);
}).observe({ entryTypes: ['gc'] });
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();

const schedstat = () => {
  try {
    const [run, wait, slices] = fs
      .readFileSync('/proc/self/schedstat', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return { runMs: run / 1e6, waitMs: wait / 1e6, slices };
  } catch {
    return undefined;
  }
};
const start = { t: now(), ru: process.resourceUsage(), sched: schedstat() };
globalThis.__labwireStageReset = () => {
  start.t = now();
  start.ru = process.resourceUsage();
  start.sched = schedstat();
  eld.reset();
};
// The driver signals the start of the measured stream (after the warm-up).
process.on('SIGUSR2', () => globalThis.__labwireStageReset());

process.on('exit', () => {
  const dir = stagesDir();
  if (dir === undefined) return;
  const ru = process.resourceUsage();
  const sched = schedstat();
  const out = {
    role,
    pid: process.pid,
    start: start.t,
    end: now(),
    cpuMs: (ru.userCPUTime + ru.systemCPUTime - start.ru.userCPUTime - start.ru.systemCPUTime) / 1000,
    userMs: (ru.userCPUTime - start.ru.userCPUTime) / 1000,
    systemMs: (ru.systemCPUTime - start.ru.systemCPUTime) / 1000,
    minorFaults: ru.minorPageFault - start.ru.minorPageFault,
    voluntarySwitches: ru.voluntaryContextSwitches - start.ru.voluntaryContextSwitches,
    involuntarySwitches: ru.involuntaryContextSwitches - start.ru.involuntaryContextSwitches,
    sched:
      sched && start.sched
        ? {
            runMs: sched.runMs - start.sched.runMs,
            waitMs: sched.waitMs - start.sched.waitMs,
            slices: sched.slices - start.sched.slices,
          }
        : undefined,
    eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
    sockets: [...sockets.values()],
    decoded,
    firsts,
    writes,
    gcs,
  };
  fs.writeFileSync(`${dir}/${role.replace(/^-+/, '')}-${process.pid}.json`, JSON.stringify(out));
});
