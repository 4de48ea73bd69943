// Alternates one case's run and baseline (as the harness does) and prints, per run: value, wall ms,
// CPU ms, minor page faults and GC time. `node --import tsx bench/diag/alternate.ts <case> [pairs]`.
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { BenchCase } from '../harness';

const [name, pairsText = '6'] = process.argv.slice(2);
const group = name!.slice(0, name!.indexOf('.'));
const { cases } = (await import(
  pathToFileURL(path.join(import.meta.dirname, '..', 'cases', `${group}.ts`)).href
)) as { cases: BenchCase[] };
const c = cases.find((x) => x.name === name)!;
let gcMs = 0;
let gcN = 0;
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    gcMs += e.duration;
    gcN++;
  }
}).observe({ entryTypes: ['gc'] });
async function one(side: 'case' | 'baseline') {
  const fn = side === 'case' ? c.run : c.baseline!;
  const ru0 = process.resourceUsage();
  const g0 = gcMs;
  const n0 = gcN;
  const t0 = performance.now();
  const got = await fn();
  const v = typeof got === 'number' ? got : got.value;
  const wall = performance.now() - t0;
  const ru = process.resourceUsage();
  console.log(
    `${side.padEnd(8)} ${v.toFixed(1).padStart(8)} ${c.unit}  wall ${wall.toFixed(0).padStart(5)} ms  cpu ${((ru.userCPUTime + ru.systemCPUTime - ru0.userCPUTime - ru0.systemCPUTime) / 1000).toFixed(0).padStart(5)} ms  minflt ${String(ru.minorPageFault - ru0.minorPageFault).padStart(6)}  gc ${(gcMs - g0).toFixed(0).padStart(4)} ms (${gcN - n0})`,
  );
  return v;
}
await one('case');
await one('baseline');
for (let i = 0; i < Number(pairsText); i++) {
  const a = i % 2 === 0 ? await one('baseline') : 0;
  const b = await one('case');
  const a2 = i % 2 === 1 ? await one('baseline') : a;
  console.log(`  ratio ${(b / a2).toFixed(3)}`);
}
