// `tsx bench/profile.ts <case> [case|baseline] [runs]`: runs one side of one benchmark case `runs` times
// (default 5) and nothing else, so a profiler sees only that work:
//
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx --conditions=@labwire/source \
//     bench/profile.ts framing.frames-1MiB case 5
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.case node --import tsx \
//     --conditions=@labwire/source bench/profile.ts framing.frames-1MiB case 1
//
// Instruction counts (callgrind) are stable on a shared machine where times are not; compare the case's
// with its baseline's to see what the library adds.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchCase } from './harness';

const [name, side = 'case', runsText = '5'] = process.argv.slice(2);
const runs = Number(runsText);
if (!name || (side !== 'case' && side !== 'baseline') || !(runs >= 1)) {
  console.error('usage: tsx bench/profile.ts <case name> [case|baseline] [runs]');
  process.exit(2);
}
const group = name.slice(0, name.indexOf('.'));
const file = path.join(import.meta.dirname, 'cases', `${group}.ts`);
if (!fs.existsSync(file)) {
  console.error(`profile: no group ${group} (bench/cases/${group}.ts)`);
  process.exit(2);
}
const { cases, teardown } = (await import(pathToFileURL(file).href)) as {
  cases: BenchCase[];
  teardown?: () => Promise<void>;
};
const c = cases.find((x) => x.name === name);
const fn = side === 'case' ? c?.run : c?.baseline;
if (!c || !fn) {
  console.error(`profile: no ${side} for ${name}; cases: ${cases.map((x) => x.name).join(', ')}`);
  process.exit(2);
}
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const got = await fn();
  const value = typeof got === 'number' ? got : got.value;
  console.log(
    `${name} ${side} #${i + 1}: ${value.toPrecision(4)} ${c.unit} (${(performance.now() - t0).toFixed(0)} ms)`,
  );
}
await teardown?.();
