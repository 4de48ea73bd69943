// Benchmark harness. Every target case is compared with a baseline measured in the same run, on the same
// machine, in alternating pairs (baseline then case, case then baseline, …) so that drift and a
// neighbour's load hit both sides alike. Short cases repeat until each side has run for a minimum time
// (1 s by default); the reported ratio is the median of the per-pair ratios, with its spread. Never used
// from the test suite: speed targets live here only.

import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export type Compare = 'ratio>=' | 'ratio<=' | 'value>=' | 'value<=';

export interface BenchCase {
  /** Unique, prefixed with its group: `framing.frames-1MiB`. */
  name: string;
  /** What is measured, e.g. `throughput`, `round trips`, `cost 4 MiB / 1 MiB`, `peak RSS growth / payload`. */
  metric: string;
  unit: string;
  /** Target for the ratio (or for the value, with the `value` comparisons). */
  target: number;
  compare: Compare;
  /** What the baseline is, for the table: `raw net, onread into a reused buffer, same writes`. */
  baselineName: string;
  /** One measured run of the baseline (same unit as `run`). Omit for absolute `value` cases. */
  baseline?: () => Promise<number | Sample>;
  /** One measured run of the case. */
  run: () => Promise<number | Sample>;
  /** Exactly this many measured runs (pairs), whatever they take: long single-shot cases (soak, RSS). */
  runs?: number;
  /** Fewest measured pairs (default 5). */
  minRuns?: number;
  /** Most measured pairs (default 200). */
  maxRuns?: number;
  /** Skip the warm-up run (for long single-shot cases such as a soak). */
  noWarmup?: boolean;
  /**
   * Fewest warm-up runs of each side (default 1), on top of the minimum time: for cases whose first runs
   * are slow enough to fill the minimum time on their own while the code still warms up.
   */
  minWarmups?: number;
  /** Reported for context only: no target, never fails. */
  informational?: boolean;
  /** One run (of either side) that takes longer fails the case (default 180 000 ms). */
  runTimeoutMs?: number;
}

/**
 * A run that measured itself, e.g. in a child process (whose CPU time this process does not see): its
 * value with the wall and CPU seconds of the measured part, which the CPU ratio then uses.
 */
export interface Sample {
  value: number;
  /** Wall seconds of the measured part. */
  seconds: number;
  /** CPU seconds (user + system) of the measured part. */
  cpu: number;
}

export interface Spread {
  min: number;
  p25: number;
  p75: number;
  max: number;
}

export interface BenchEnvironment {
  node: string;
  v8: string;
  platform: string;
  cpuModel: string;
  cpus: number;
  /** How the benchmark process was placed: `pinned to CPU 1 (taskset)` or `unpinned (CPUs 0-1)`. */
  placement: string;
  /** The CPUs this process may run on (from /proc/self/status), e.g. `1` or `0-1`. */
  cpusAllowed: string;
  /** `dist` (built packages, `pnpm bench`) or `source` (`pnpm bench:src`). */
  build: 'dist' | 'source';
  /** The least work per side of a repeated case, in seconds. */
  minSeconds: number;
  /** Load average (1 min) above which a result is flagged as disturbed. */
  loadLimit: number;
}

export interface BenchResult {
  name: string;
  group: string;
  metric: string;
  unit: string;
  /** Median of the case's runs. */
  value: number;
  /** Median of the baseline's runs. */
  baseline: number | null;
  /** Median of the per-pair ratios case / baseline. */
  ratio: number | null;
  /**
   * The same ratio with each side's value scaled to the CPU time the process used instead of the wall
   * clock (median of the pairs): what the two sides cost, which a neighbour's load disturbs much less
   * than the elapsed time. Null for a case without baseline.
   */
  cpuRatio: number | null;
  /** CPU time / wall time over the case's runs (median): well below 1 means it waited, for the CPU or I/O. */
  cpuShare: number;
  /** Spread of the per-pair ratios (or of the values, for a case without baseline). */
  spread: Spread;
  /** Measured runs (pairs) after the warm-up. */
  runs: number;
  /** Wall-clock seconds the case took, warm-up included. */
  seconds: number;
  target: number;
  compare: Compare;
  baselineName: string;
  informational: boolean;
  pass: boolean;
  /** Why the case could not be measured (a run threw or overran its deadline); it then fails. */
  error?: string;
  /** 1-minute load average before and after the case. */
  load: { before: number; after: number };
  /** The load average was above the limit before or after: the figures are disturbed. */
  loaded: boolean;
  /** When the case ran (ISO time). */
  at: string;
  environment: BenchEnvironment;
}

export interface RunOptions {
  /** Least work per side, in seconds (default 1). */
  minSeconds?: number;
  /** A case stops repeating after this many seconds, whatever minRuns says (default 30). */
  maxCaseSeconds?: number;
  loadLimit?: number;
  environment: BenchEnvironment;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Linear-interpolated quantile of `values` (0 ≤ q ≤ 1). */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return s[lo]! + (s[hi]! - s[lo]!) * (at - lo);
}

function spreadOf(values: readonly number[]): Spread {
  return {
    min: Math.min(...values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    max: Math.max(...values),
  };
}

export function groupOf(name: string): string {
  return name.slice(0, name.indexOf('.'));
}

export const DEFAULT_LOAD_LIMIT = 1.5;

interface Timed {
  value: number;
  /** Wall-clock seconds of the call. */
  seconds: number;
  /** CPU seconds (user + system, every thread) the process used during the call. */
  cpu: number;
  /** Wall and CPU seconds of what the value measured (the call's own, unless it returned a Sample). */
  measured: { seconds: number; cpu: number };
}

/** One measured call: its value, how long it took and the CPU it used; rejects when it overruns `timeoutMs`. */
async function timed(fn: () => Promise<number | Sample>, timeoutMs: number): Promise<Timed> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a run took longer than ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const got = await Promise.race([fn(), overrun]);
    const value = typeof got === 'number' ? got : got.value;
    if (!Number.isFinite(value)) throw new Error(`a run returned ${value}`);
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu0);
    const cpu = (used.user + used.system) / 1e6;
    const measured = typeof got === 'number' ? { seconds, cpu } : { seconds: got.seconds, cpu: got.cpu };
    return { value, seconds, cpu, measured };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A run's value as if its time had been the CPU time it used: a rate (higher is better) scales with
 * 1 / time, a cost (`ratio<=` cases) with time.
 */
function perCpu(c: BenchCase, t: Timed): number {
  const { seconds, cpu } = t.measured;
  return c.compare === 'ratio<=' ? t.value * (cpu / seconds) : t.value * (seconds / cpu);
}

/**
 * Measures one case: warm-up runs of each side (until each has run for `minSeconds`), then
 * alternating pairs until both sides have run for `minSeconds` (and at least `minRuns` pairs). A run that throws or overruns its deadline ends the case
 * with `error` set (and `pass` false); the benchmark run goes on with the next case.
 */
export async function runCase(c: BenchCase, options: RunOptions): Promise<BenchResult> {
  const minSeconds = options.minSeconds ?? 1;
  const runTimeoutMs = c.runTimeoutMs ?? 180_000;
  const maxCaseSeconds = options.maxCaseSeconds ?? 30;
  const loadLimit = options.loadLimit ?? DEFAULT_LOAD_LIMIT;
  const loadBefore = os.loadavg()[0]!;
  const at = new Date().toISOString();
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const base: number[] = [];
  const vals: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const shares: number[] = [];
  let error: string | undefined;
  try {
    if (!c.noWarmup) {
      // Warm up until each side has run for the minimum time (at least once): code called once per
      // frame or request reaches the optimising compiler only after some thousands of calls, and the
      // compiler works in the background, which on a pinned CPU takes its time from the measured runs.
      let warmCase = 0;
      let warmBase = c.baseline ? 0 : Number.POSITIVE_INFINITY;
      const minWarmups = c.minWarmups ?? 1;
      for (let i = 0; i < 50 && (i < minWarmups || warmCase < minSeconds || warmBase < minSeconds); i++) {
        if (c.baseline) warmBase += (await timed(c.baseline, runTimeoutMs)).seconds;
        warmCase += (await timed(c.run, runTimeoutMs)).seconds;
      }
    }
    let caseSeconds = 0;
    let baseSeconds = 0;
    const minRuns = c.runs ?? c.minRuns ?? 5;
    const maxRuns = c.runs ?? c.maxRuns ?? 200;
    for (let i = 0; i < maxRuns; i++) {
      const enough = i >= minRuns && caseSeconds >= minSeconds && (!c.baseline || baseSeconds >= minSeconds);
      if (c.runs === undefined && (enough || (i >= minRuns && elapsed() > maxCaseSeconds))) break;
      // Alternate which side goes first, so that drift within a pair cancels over the pairs.
      let v: Timed;
      let b: Timed | undefined;
      if (i % 2 === 0) {
        if (c.baseline) b = await timed(c.baseline, runTimeoutMs);
        v = await timed(c.run, runTimeoutMs);
      } else {
        v = await timed(c.run, runTimeoutMs);
        if (c.baseline) b = await timed(c.baseline, runTimeoutMs);
      }
      vals.push(v.value);
      caseSeconds += v.seconds;
      shares.push(v.measured.cpu / v.measured.seconds);
      if (b) {
        base.push(b.value);
        baseSeconds += b.seconds;
        if (b.value !== 0) ratios.push(v.value / b.value);
        if (b.value !== 0 && v.measured.cpu > 0 && b.measured.cpu > 0)
          cpuRatios.push(perCpu(c, v) / perCpu(c, b));
      }
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  if (vals.length === 0) vals.push(Number.NaN);
  const value = median(vals);
  const baseline = c.baseline && base.length > 0 ? median(base) : null;
  const ratio = ratios.length > 0 ? median(ratios) : null;
  const cpuRatio = cpuRatios.length > 0 ? median(cpuRatios) : null;
  const loadAfter = os.loadavg()[0]!;
  let pass: boolean;
  switch (c.compare) {
    case 'ratio>=':
      pass = ratio !== null && ratio >= c.target;
      break;
    case 'ratio<=':
      pass = ratio !== null && ratio <= c.target;
      break;
    case 'value>=':
      pass = value >= c.target;
      break;
    case 'value<=':
      pass = value <= c.target;
      break;
  }
  const informational = c.informational ?? false;
  return {
    name: c.name,
    group: groupOf(c.name),
    metric: c.metric,
    unit: c.unit,
    value,
    baseline,
    ratio,
    cpuRatio,
    cpuShare: shares.length > 0 ? median(shares) : Number.NaN,
    spread: spreadOf(ratios.length > 0 ? ratios : vals),
    runs: vals.length,
    seconds: elapsed(),
    target: c.target,
    compare: c.compare,
    baselineName: c.baselineName,
    informational,
    pass: error === undefined && (informational || pass),
    ...(error === undefined ? {} : { error }),
    load: { before: loadBefore, after: loadAfter },
    loaded: Math.max(loadBefore, loadAfter) > loadLimit,
    at,
    environment: options.environment,
  };
}

// --- the table -----------------------------------------------------------------------------------------

export function fmt(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e6) return n.toExponential(3);
  if (a >= 100) return n.toFixed(0);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

function targetText(r: BenchResult): string {
  if (r.informational) return '(info)';
  const [kind, op] = r.compare.split(/(?=[<>])/) as [string, string];
  return `${kind} ${op} ${r.target}`;
}

function statusText(r: BenchResult): string {
  const s = r.error !== undefined ? 'ERROR' : r.informational ? 'info' : r.pass ? 'PASS' : 'FAIL';
  return r.loaded ? `${s} LOAD` : s;
}

/**
 * The results as a table: value and baseline medians, the median ratio with the range of the pair
 * ratios, runs, target, status. `previous` adds the ratio of an earlier run of the same case.
 */
export function formatTable(
  results: readonly BenchResult[],
  previous?: ReadonlyMap<string, BenchResult>,
): string {
  const head = [
    'case',
    'value',
    'baseline',
    'ratio',
    'ratio range',
    'n',
    'cpu ratio',
    ...(previous ? ['before'] : []),
    'target',
    '',
  ];
  const rows = results.map((r) => {
    const hasRatio = r.ratio !== null;
    const range = hasRatio
      ? `${r.spread.min.toFixed(2)}–${r.spread.max.toFixed(2)}`
      : `${fmt(r.spread.min)}–${fmt(r.spread.max)}`;
    const before = previous?.get(r.name);
    return [
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline === null ? '-' : fmt(r.baseline),
      hasRatio ? r.ratio!.toFixed(3) : '-',
      range,
      String(r.runs),
      r.cpuRatio === null ? '-' : r.cpuRatio.toFixed(3),
      ...(previous
        ? [
            before === undefined
              ? ''
              : before.ratio !== null
                ? before.ratio.toFixed(3)
                : `${fmt(before.value)}`,
          ]
        : []),
      targetText(r),
      statusText(r),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([1, 2, 3, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((x, i) => (right.has(i) ? x.padStart(widths[i]!) : x.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** What each case measures and against what, under the table. */
export function formatLegend(results: readonly BenchResult[]): string {
  return results
    .map(
      (r) =>
        `  ${r.name}: ${r.metric}` +
        (r.baselineName === '-' ? '' : `\n      baseline: ${r.baselineName}`) +
        (r.error === undefined ? '' : `\n      ERROR: ${r.error}`),
    )
    .join('\n');
}

// --- helpers for cases -----------------------------------------------------------------------------------

/**
 * Runs a bench script in a fresh Node process (through tsx, with the parent's export conditions) and returns
 * the JSON object it prints as its last stdout line. For memory cases: a child's RSS is not polluted
 * by the baseline or by earlier cases. The child inherits this process's CPU placement; `env` adds to its
 * environment, `execArgv` to its Node flags.
 */
export function runChild<T>(
  script: string,
  args: readonly string[] = [],
  timeoutMs = 120_000,
  { env, execArgv = [] }: { env?: NodeJS.ProcessEnv; execArgv?: readonly string[] } = {},
): Promise<T> {
  const root = path.resolve(import.meta.dirname, '..');
  return new Promise<T>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // The child resolves packages as the parent does: sources with `pnpm bench:src`, dist with `pnpm bench`.
      [
        '--import',
        'tsx',
        ...process.execArgv.filter((a) => a.startsWith('--conditions')),
        '--expose-gc',
        ...execArgv,
        path.resolve(root, script),
        ...args,
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
        ...(env ? { env: { ...process.env, ...env } } : {}),
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} exited with ${code}: ${out.slice(-500)}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON: ${out.slice(-500)}`));
      }
    });
  });
}

/** Samples RSS every `everyMs` until stopped; returns the peak growth over the RSS at start. */
export function rssSampler(everyMs = 2): { stop(): number; sample(): void } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const sample = () => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  };
  const timer = setInterval(sample, everyMs);
  return {
    sample,
    stop() {
      clearInterval(timer);
      sample();
      return peak - start;
    },
  };
}
