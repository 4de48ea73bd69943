// Benchmark harness. Every case is compared against a baseline measured in the same run, on the same
// machine, interleaved with the case, so the ratio survives a noisy or slow machine. Medians of several
// runs after a warm-up. Never used from the test suite: speed targets live here only.

import { spawn } from 'node:child_process';
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
  /** What the baseline is, for the table: `raw net bulk, 64 KiB writes`. */
  baselineName: string;
  /** One measured run of the baseline (same unit as `run`). Omit for absolute `value` cases. */
  baseline?: () => Promise<number>;
  /** One measured run of the case. */
  run: () => Promise<number>;
  /** Measured runs after the warm-up (default 5). */
  runs?: number;
  /** Skip the warm-up run (for long single-shot cases such as a soak). */
  noWarmup?: boolean;
  /** Reported for context only: no target, never fails. */
  informational?: boolean;
}

export interface BenchResult {
  name: string;
  metric: string;
  unit: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  target: number;
  pass: boolean;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function runCase(c: BenchCase): Promise<BenchResult> {
  const runs = c.runs ?? 5;
  if (!c.noWarmup) {
    if (c.baseline) await c.baseline();
    await c.run();
  }
  const base: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleave, alternating which goes first, so drift hits both sides alike.
    if (i % 2 === 0) {
      if (c.baseline) base.push(await c.baseline());
      vals.push(await c.run());
    } else {
      vals.push(await c.run());
      if (c.baseline) base.push(await c.baseline());
    }
  }
  const value = median(vals);
  const baseline = c.baseline ? median(base) : null;
  const ratio = baseline !== null && baseline !== 0 ? value / baseline : null;
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
  if (c.informational) pass = true;
  return { name: c.name, metric: c.metric, unit: c.unit, value, baseline, ratio, target: c.target, pass };
}

export function formatTable(results: readonly BenchResult[], cases: readonly BenchCase[]): string {
  const rows = results.map((r) => {
    const c = cases.find((x) => x.name === r.name);
    const cmp = c?.compare ?? 'ratio>=';
    return [
      r.name,
      r.metric,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline === null ? '-' : `${fmt(r.baseline)} ${r.unit}`,
      r.ratio === null ? '-' : r.ratio.toFixed(3),
      c?.informational
        ? '(info)'
        : `${cmp.replace('ratio', 'ratio ').replace('value', 'value ')} ${r.target}`,
      c?.informational ? 'info' : r.pass ? 'PASS' : 'FAIL',
    ];
  });
  const head = ['case', 'metric', 'value', 'baseline', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((x, i) => x.padEnd(widths[i]!)).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function fmt(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e6) return n.toExponential(3);
  if (a >= 100) return n.toFixed(0);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/**
 * Runs a bench script in a fresh Node process (through tsx, with the parent's export conditions) and returns
 * the JSON object it prints as its last stdout line. For memory cases: a child's RSS is not polluted
 * by the baseline or by earlier cases.
 */
export function runChild<T>(script: string, args: readonly string[] = [], timeoutMs = 120_000): Promise<T> {
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
        path.resolve(root, script),
        ...args,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
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
