// Pipelined module reads at several windows against one simulated device in a child process, with the
// CPU time of both processes per read (the steadier figure on a busy machine; pinned, the two share one
// CPU, so the rate converges to 1 / (client CPU + device CPU) per read on an idle machine). The readers
// are the bench case's own (bench/optommp-pipelined.ts).
//
//   taskset -c 1 node --import tsx bench/micro/optommp-windows.ts [raw|client|call|batch|both|all|a,b…] [1,16] [count] [reps]
//   PROF=/tmp/client.cpuprofile [PROF_SIDE=batch] …   a CPU profile of the last measured run of one side
//   BATCH=n …   n modules per readBlocksInto call (default a window)
//   RAW_JOB=count|per-call|batch|decode …   what the raw side does with each reply (default per-call)
// Sides: raw (the baseline), client (readAnalogModule per call), call (readBlockAs into caller memory per
// call), batch (readBlocksInto, a window's worth per call).

import fs from 'node:fs';
import inspector from 'node:inspector';
import { processCpuUs, threadCpuUs, withDevices } from '../optommp-devices';
import { batchModules, callModules, clientModules, type RawJob, rawModules } from '../optommp-pipelined';

const [side = 'both', windowsText = '1,16', countText = '10000', repsText = '5'] = process.argv.slice(2);
const windows = windowsText.split(',').map(Number);
const count = Number(countText);
const reps = Number(repsText);
const PROF = process.env.PROF;
/** What the raw side does with each reply (bench/optommp-pipelined.ts: count, per-call, batch, decode). */
const RAW_JOB = (process.env.RAW_JOB ?? 'per-call') as RawJob;
const sides =
  side === 'both' ? ['raw', 'client'] : side === 'all' ? ['raw', 'client', 'call', 'batch'] : side.split(',');

const session = new inspector.Session();
session.connect();
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))),
  );

interface Row {
  rate: number[];
  user: number[];
  system: number[];
  /** CPU of this process's main thread (the JavaScript); the rest is V8's and libuv's helper threads. */
  main: number[];
  device: number[];
}

const rows = new Map<string, Row>();
await withDevices(1, async ([port], pid) => {
  for (let r = 0; r <= reps; r++) {
    for (const w of windows) {
      for (const s of sides) {
        const profile = PROF !== undefined && r === reps && s === (process.env.PROF_SIDE ?? 'client');
        if (profile) {
          await post('Profiler.enable');
          await post('Profiler.setSamplingInterval', { interval: 50 });
          await post('Profiler.start');
        }
        const d0 = processCpuUs(pid);
        const m0 = threadCpuUs(process.pid, process.pid);
        const c0 = process.cpuUsage();
        const rate =
          s === 'raw'
            ? await rawModules(port!, count, w, { job: RAW_JOB })
            : s === 'batch'
              ? await batchModules(port!, count, w, Number(process.env.BATCH ?? w))
              : s === 'call'
                ? await callModules(port!, count, w)
                : await clientModules(port!, count, w);
        const c = process.cpuUsage(c0);
        const m = threadCpuUs(process.pid, process.pid) - m0;
        const d = processCpuUs(pid) - d0;
        if (profile) {
          const { profile: p } = (await post('Profiler.stop')) as { profile: unknown };
          fs.writeFileSync(PROF!, JSON.stringify(p));
        }
        if (r === 0) continue; // warm-up
        const row = rows.get(`${s} w${w}`) ?? { rate: [], user: [], system: [], main: [], device: [] };
        row.rate.push(rate);
        row.user.push(c.user / count);
        row.system.push(c.system / count);
        row.main.push(m / count);
        row.device.push(d / count);
        rows.set(`${s} w${w}`, row);
      }
    }
  }
});

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const range = (a: number[], digits = 1) =>
  `${Math.min(...a).toFixed(digits)}–${Math.max(...a).toFixed(digits)}`;
for (const [name, row] of rows) {
  const mine = row.user.map((u, i) => u + row.system[i]!);
  const total = mine.map((m, i) => m + row.device[i]!);
  console.log(
    `${name.padEnd(10)} ${median(row.rate).toFixed(0).padStart(7)} reads/s   CPU µs per read: this process ${median(mine).toFixed(1)} (user ${median(row.user).toFixed(1)}, system ${median(row.system).toFixed(1)}; main thread ${median(row.main).toFixed(1)}), device ${median(row.device).toFixed(1)}, both ${median(total).toFixed(1)} [${range(total)}]`,
  );
}

// Against raw at the same window, rep by rep (each pair ran back to back, so they met the same machine).
for (const w of windows) {
  const raw = rows.get(`raw w${w}`);
  if (raw === undefined) continue;
  const rawCpu = raw.user.map((u, i) => u + raw.system[i]! + raw.device[i]!);
  for (const s of sides) {
    const row = rows.get(`${s} w${w}`);
    if (s === 'raw' || row === undefined) continue;
    const rate = row.rate.map((r, i) => r / raw.rate[i]!);
    const cpu = row.user.map((u, i) => rawCpu[i]! / (u + row.system[i]! + row.device[i]!));
    console.log(
      `${`${s} w${w}`.padEnd(10)} / raw: rate ${median(rate).toFixed(2)} [${range(rate, 2)}], CPU (both processes) ${median(cpu).toFixed(2)} [${range(cpu, 2)}]`,
    );
  }
}
