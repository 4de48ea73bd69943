// `pnpm bench [options] [filter...]`: runs the benchmark cases in bench/cases/*.ts whose group (file name)
// or case name matches a filter (all when none), prints a table and merges the results into
// bench/results/latest.json. `--help` lists the options.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type BenchCase,
  type BenchEnvironment,
  type BenchResult,
  DEFAULT_LOAD_LIMIT,
  formatLegend,
  formatTable,
  groupOf,
  runCase,
} from './harness';

const HELP = `usage: pnpm bench [options] [filter...]

Runs the benchmark cases whose group (a file in bench/cases: framing, tcp, bus, optommp, pymodaq,
sparkplug, cli, node-red) or name contains a filter
(all cases when none) and prints each against its baseline, measured in the same run.

options:
  --pin[=CPU]       run on one CPU (taskset; default the last CPU): client and server share it
  --min-time=S      least seconds of work per side of a repeated case (default 1)
  --quick           --min-time=0.25: a fast look, not a figure to report
  --compare=FILE    add the ratio of an earlier results file (e.g. a --save before a change)
  --save=FILE       also write this run's results to FILE
  --list            list the cases that match and exit
  --help            this text

Results are merged into bench/results/latest.json (with Node version, placement, load averages and
repeat counts). A case whose 1-minute load average was above ${DEFAULT_LOAD_LIMIT} is flagged LOAD.
Exit 0 when every target is met, 1 when one is missed, 2 on a usage error.`;

interface ResultsFile {
  environment?: BenchEnvironment;
  results: BenchResult[];
}

function usage(message: string): never {
  console.error(`bench: ${message}\n(pnpm bench --help for usage)`);
  process.exit(2);
}

// `--pin=1` is a value for a boolean option to parseArgs: take it off before parsing.
let pinCpu: string | undefined;
const argv = process.argv.slice(2).filter((a) => {
  const m = /^--pin=(\d+)$/.exec(a);
  if (m) pinCpu = m[1];
  return m === null;
});
const parse = () =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      pin: { type: 'boolean' },
      'min-time': { type: 'string' },
      quick: { type: 'boolean' },
      compare: { type: 'string' },
      save: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
let args: ReturnType<typeof parse>;
try {
  args = parse();
} catch (error) {
  usage((error as Error).message);
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}
const pin = args.values.pin === true || pinCpu !== undefined;
const minSeconds = args.values.quick ? 0.25 : Number(args.values['min-time'] ?? 1);
if (!(minSeconds > 0))
  usage(`--min-time must be a positive number of seconds, got ${args.values['min-time']}`);

// --- which cases ---------------------------------------------------------------------------------------

const here = import.meta.dirname;
const filters = args.positionals;
const files = fs
  .readdirSync(path.join(here, 'cases'))
  .filter((f) => f.endsWith('.ts'))
  .sort();
const groups = files.map((f) => f.replace(/\.ts$/, ''));
// Only the groups that can match are loaded (a group's module may set up large buffers).
const onlyGroups = filters.length > 0 && filters.every((f) => groups.includes(f));
const selected: BenchCase[] = [];
/**
 * A group's `teardown` (optional export of its module): ends what its cases share (a device process),
 * run after the group's last case.
 */
const teardowns = new Map<string, () => Promise<void>>();
for (const file of files) {
  const group = file.replace(/\.ts$/, '');
  if (onlyGroups && !filters.includes(group)) continue;
  const mod = (await import(pathToFileURL(path.join(here, 'cases', file)).href)) as {
    cases: BenchCase[];
    teardown?: () => Promise<void>;
  };
  if (mod.teardown) teardowns.set(group, mod.teardown);
  for (const c of mod.cases) {
    if (filters.length === 0 || filters.some((f) => f === group || c.name.includes(f))) selected.push(c);
  }
}
if (selected.length === 0) {
  usage(`no benchmark matches ${filters.join(' ')}; groups: ${groups.join(', ')}`);
}
if (args.values.list) {
  for (const c of selected) console.log(`${c.name.padEnd(44)} ${c.informational ? '(info)' : ''}`.trimEnd());
  process.exit(0);
}

// --- placement -----------------------------------------------------------------------------------------

/** The CPUs this process may run on, as the kernel lists them (`0-1`, `1`), or `?` off Linux. */
function cpusAllowed(): string {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? '?';
  } catch {
    return '?';
  }
}

function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out.filter((c) => Number.isInteger(c));
}

let placement = `unpinned (CPUs ${cpusAllowed()})`;
if (pin) {
  const allowed = expandCpuList(cpusAllowed());
  const cpu = pinCpu ?? String(allowed.at(-1) ?? os.cpus().length - 1);
  // -a: every thread of this process (V8's workers, the loader's worker); threads started later inherit.
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { encoding: 'utf8' });
  if (r.error) {
    console.error('bench: taskset not found (Debian: apt-get install util-linux); running unpinned');
    placement = `unpinned: taskset missing (CPUs ${cpusAllowed()})`;
  } else if (r.status !== 0) {
    usage(`taskset could not pin to CPU ${cpu}: ${r.stderr.trim()}`);
  } else {
    placement = `pinned to CPU ${cpusAllowed()} (taskset): client and server on one CPU`;
  }
}

const environment: BenchEnvironment = {
  node: process.version,
  v8: process.versions.v8,
  platform: `${process.platform} ${os.release()} ${process.arch}`,
  cpuModel: os.cpus()[0]?.model ?? '?',
  cpus: os.cpus().length,
  placement,
  cpusAllowed: cpusAllowed(),
  build: process.execArgv.some((a) => a.includes('@labwire/source')) ? 'source' : 'dist',
  minSeconds,
  loadLimit: DEFAULT_LOAD_LIMIT,
};

// --- earlier results -----------------------------------------------------------------------------------

function readResults(file: string): ResultsFile | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile | BenchResult[];
    // Files written before the environment was recorded are a bare array of results.
    return Array.isArray(parsed) ? { results: parsed } : parsed;
  } catch {
    return undefined;
  }
}

let previous: Map<string, BenchResult> | undefined;
if (args.values.compare) {
  const file = readResults(args.values.compare);
  if (!file) usage(`--compare: cannot read results from ${args.values.compare}`);
  previous = new Map(file.results.map((r) => [r.name, r]));
}

// --- run -----------------------------------------------------------------------------------------------

const loadBefore = os.loadavg();
const started = performance.now();
console.error(
  `labwire bench: ${selected.length} cases; node ${environment.node}, ${environment.build} build, ${placement}; ` +
    `load average ${loadBefore[0]!.toFixed(2)}; at least ${minSeconds} s of work per side`,
);
const results: BenchResult[] = [];
for (const [i, c] of selected.entries()) {
  process.stderr.write(`running ${c.name} …`);
  const r = await runCase(c, { minSeconds, environment });
  results.push(r);
  const group = groupOf(c.name);
  if (groupOf(selected[i + 1]?.name ?? '.') !== group) await teardowns.get(group)?.();
  process.stderr.write(
    (r.error !== undefined
      ? ` ERROR ${r.error}`
      : ` ${r.informational ? 'info' : r.pass ? 'PASS' : 'FAIL'}`) +
      ` ${r.value.toPrecision(4)} ${r.unit}` +
      (r.ratio === null
        ? ''
        : `, ratio ${r.ratio.toFixed(3)} (${r.spread.min.toFixed(2)}–${r.spread.max.toFixed(2)})`) +
      (r.cpuRatio === null ? '' : `, cpu ratio ${r.cpuRatio.toFixed(3)}`) +
      `, n=${r.runs}, ${r.seconds.toFixed(1)} s${r.loaded ? `, load ${r.load.after.toFixed(2)}` : ''}\n`,
  );
}
const seconds = (performance.now() - started) / 1000;
const loadAfter = os.loadavg();
const loaded = results.some((r) => r.loaded);

console.log(`\nbaselines:\n${formatLegend(results)}\n`);
console.log(formatTable(results, previous));
console.log(
  `\nnode ${environment.node} (${environment.build} build), ${placement}; ${environment.cpus} × ${environment.cpuModel}\n` +
    `load average (1 min) ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after; ` +
    `${seconds.toFixed(0)} s; ratio = median of alternating case/baseline pairs, range = min–max of the pairs,\n` +
    'cpu ratio = the same with each side timed by the CPU it used (steadier under load; the ratio is the target)',
);
if (loaded) {
  console.log(
    `LOAD: the load average was above ${DEFAULT_LOAD_LIMIT} during the flagged cases; their figures are disturbed ` +
      '(re-run on a quiet machine, or with --pin, before reporting them)',
  );
}

const out = path.join(here, 'results', 'latest.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
const kept = (readResults(out)?.results ?? []).filter((p) => !results.some((r) => r.name === p.name));
const groupsRun = [...new Set(results.map((r) => groupOf(r.name)))];
const summary = {
  environment,
  run: {
    startedAt: new Date(Date.now() - seconds * 1000).toISOString(),
    seconds,
    filters,
    groups: groupsRun,
    loadBefore,
    loadAfter,
    loaded,
  },
};
fs.writeFileSync(out, `${JSON.stringify({ ...summary, results: [...kept, ...results] }, null, 2)}\n`);
if (args.values.save)
  fs.writeFileSync(args.values.save, `${JSON.stringify({ ...summary, results }, null, 2)}\n`);
const failed = results.filter((r) => !r.pass).length;
const targets = results.filter((r) => !r.informational).length;
console.log(
  `\n${targets - failed} of ${targets} benchmark targets met${loaded ? ' (LOAD: disturbed run)' : ''}; results in ${path.relative(process.cwd(), out)}`,
);
process.exitCode = failed > 0 ? 1 : 0;
