// `pnpm bench [filter...]`: runs the benchmark groups in bench/cases/*.ts whose file name or case name
// matches a filter (all when none), prints a table and merges the results into bench/results/latest.json.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BenchCase, type BenchResult, formatTable, runCase } from './harness';

const here = import.meta.dirname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = fs
  .readdirSync(path.join(here, 'cases'))
  .filter((f) => f.endsWith('.ts'))
  .sort();

const selected: BenchCase[] = [];
for (const file of files) {
  const group = file.replace(/\.ts$/, '');
  const mod = (await import(pathToFileURL(path.join(here, 'cases', file)).href)) as { cases: BenchCase[] };
  for (const c of mod.cases) {
    if (filters.length === 0 || filters.some((f) => f === group || c.name.includes(f))) selected.push(c);
  }
}
if (selected.length === 0) {
  console.error(
    `no benchmark matches ${filters.join(' ')}; groups: ${files.map((f) => f.replace(/\.ts$/, '')).join(', ')}`,
  );
  process.exit(2);
}

const results: BenchResult[] = [];
for (const c of selected) {
  process.stderr.write(`running ${c.name} …\n`);
  const r = await runCase(c);
  results.push(r);
  process.stderr.write(
    `  ${r.pass ? 'PASS' : 'FAIL'} value ${r.value.toPrecision(4)} ${r.unit}` +
      (r.ratio === null ? '' : `, ratio ${r.ratio.toFixed(3)}`) +
      '\n',
  );
}

console.log(formatTable(results, selected));

const out = path.join(here, 'results', 'latest.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
let previous: BenchResult[] = [];
try {
  previous = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResult[];
} catch {
  previous = [];
}
const merged = [...previous.filter((p) => !results.some((r) => r.name === p.name)), ...results];
fs.writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
const failed = results.filter((r) => !r.pass).length;
console.log(
  `\n${results.length - failed} of ${results.length} benchmark targets met; results in ${path.relative(process.cwd(), out)}`,
);
process.exitCode = failed > 0 ? 1 : 0;
