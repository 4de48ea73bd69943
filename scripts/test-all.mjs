#!/usr/bin/env node
// `pnpm test`: the whole test suite, as CI runs it. Lint (biome, typed eslint), layer boundaries,
// changesets, typecheck, every package's tests, package checks (publint, attw) and the release check.
//
// Every step runs even when an earlier one failed, and turbo runs with --continue, so one failure never
// hides the state of the rest. Ends with one plain summary line that counts every workspace package with
// a `test` script: `tests: N passed, N failed; packages: N of N ok`. Counted as failures besides failing
// tests: a test file that failed outside its tests (it did not load, or a hook threw), a package whose
// tests did not run (no test-results.json), and a package whose test task exited non-zero although no
// test failed (unhandled errors, coverage thresholds).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const env = { ...process.env, DO_NOT_TRACK: '1', TURBO_TELEMETRY_DISABLED: '1', LABWIRE_TEST_JSON: '1' };
const skipRelease = process.argv.includes('--no-release');

/** Workspace packages (pnpm-workspace.yaml) that have a `test` script. */
function testedPackages() {
  const yaml = fs.readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8');
  const block = /^packages:\n((?:[ \t]+-.*\n?)+)/m.exec(yaml)?.[1] ?? '';
  const globs = [...block.matchAll(/-\s*['"]?([^'"\n]+?)['"]?\s*$/gm)].map((m) => m[1]);
  const dirs = globs.flatMap((g) => {
    if (!g.endsWith('/*')) return [path.join(root, g)];
    const parent = path.join(root, g.slice(0, -2));
    return fs.existsSync(parent) ? fs.readdirSync(parent).map((name) => path.join(parent, name)) : [];
  });
  return dirs
    .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => typeof pkg.scripts?.test === 'string')
    .map(({ dir, pkg }) => ({ dir, name: pkg.name ?? path.relative(root, dir) }))
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/**
 * The ref changesets compares against: the configured base branch, else its remote-tracking copy (a clone of
 * another branch has only `origin/main`), else HEAD (a shallow clone may have neither; only parsing is left).
 */
function changesetBase() {
  const config = JSON.parse(fs.readFileSync(path.join(root, '.changeset/config.json'), 'utf8'));
  const base = config.baseBranch ?? 'main';
  const exists = (ref) =>
    spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: root, stdio: 'ignore' })
      .status === 0;
  return [base, `origin/${base}`].find(exists) ?? 'HEAD';
}

const packages = testedPackages();
for (const p of packages) fs.rmSync(path.join(p.dir, 'test-results.json'), { force: true });

const runsDir = path.join(root, '.turbo', 'runs');
const listRuns = () => new Set(fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []);
const runsBefore = listRuns();

const steps = [
  ['format and lint (biome)', 'pnpm', ['exec', 'biome', 'ci', '.']],
  ['promise safety and import cycles (eslint, typed)', 'pnpm', ['exec', 'eslint', '.']],
  ['layer boundaries (turbo)', 'pnpm', ['exec', 'turbo', 'boundaries']],
  [
    'protocol citations resolve to docs/protocols (none left to rewrite)',
    'node',
    ['scripts/cite-protocol-docs.mjs', '--check', '--strict'],
  ],
  [
    'changesets parse into a release plan',
    'pnpm',
    ['exec', 'changeset', 'status', '--verbose', `--since=${changesetBase()}`],
  ],
  [
    'typecheck, tests, package checks (turbo)',
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'typecheck',
      'test',
      'package-check',
      '--continue',
      '--summarize',
      '--output-logs=new-only',
    ],
  ],
  // The reports are read from dist/*.d.ts: every package built (cached by turbo after package-check).
  ['build every package (turbo)', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']],
  ['API reports match the built surface (api-extractor)', 'node', ['scripts/api-report.mjs', '--check']],
  ...(skipRelease || !fs.existsSync(path.join(root, 'scripts/release-check.mjs'))
    ? []
    : [['release check (pack, install, import)', 'node', ['scripts/release-check.mjs']]]),
];

const failedSteps = [];
for (const [title, cmd, args] of steps) {
  console.log(`\n▶ ${title}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  console.log(
    `◀ ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (r.status !== 0) failedSteps.push(title);
}

// Exit codes of the turbo test tasks, from the run summary the turbo step wrote (absent if turbo never ran).
const testExit = new Map();
const summaryFile = [...listRuns()]
  .filter((f) => !runsBefore.has(f) && f.endsWith('.json'))
  .sort()
  .at(-1);
if (summaryFile) {
  const summary = JSON.parse(fs.readFileSync(path.join(runsDir, summaryFile), 'utf8'));
  for (const t of summary.tasks ?? []) {
    if (t.task === 'test') testExit.set(t.package, t.execution?.exitCode);
  }
  fs.rmSync(path.join(runsDir, summaryFile), { force: true });
}

// Sum the vitest JSON reports of every package that has tests; what is missing counts as failed.
let passed = 0;
let failedTests = 0;
let failedFiles = 0;
let skipped = 0;
const perPackage = [];
const notRun = [];
const brokenRun = [];
const failedPackages = [];
for (const p of packages) {
  const rel = path.relative(root, p.dir);
  const file = path.join(p.dir, 'test-results.json');
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    notRun.push(p.name);
    perPackage.push(`${rel} did not run`);
    continue;
  }
  const files = report.testResults ?? [];
  // A file that failed although none of its tests did: it did not load, or a hook outside tests threw.
  const outside = files.filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  passed += report.numPassedTests ?? 0;
  failedTests += report.numFailedTests ?? 0;
  failedFiles += outside;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const exit = testExit.get(p.name);
  const own = (report.numFailedTests ?? 0) + outside;
  const notes = [];
  if (outside > 0) notes.push(`${outside} file${outside > 1 ? 's' : ''} failed outside its tests`);
  if (own === 0 && (exit ?? 0) !== 0) {
    brokenRun.push(p.name);
    notes.push(`exit ${exit} with no failing test`);
  }
  if (own > 0 || (exit ?? 0) !== 0) failedPackages.push(p.name);
  const note = notes.length > 0 ? ` (${notes.join('; ')})` : '';
  perPackage.push(`${rel} ${report.numPassedTests ?? 0}/${report.numTotalTests ?? 0}${note}`);
}

const failed = failedTests + failedFiles + notRun.length + brokenRun.length;
const why = [
  failedTests && `${failedTests} test${failedTests > 1 ? 's' : ''}`,
  failedFiles && `${failedFiles} test file${failedFiles > 1 ? 's' : ''} failed outside its tests`,
  notRun.length && `${notRun.length} package${notRun.length > 1 ? 's' : ''} whose tests did not run`,
  brokenRun.length &&
    `${brokenRun.length} test run${brokenRun.length > 1 ? 's' : ''} that failed outside tests`,
].filter(Boolean);
const ok = packages.length - failedPackages.length - notRun.length;

console.log(`\nper package: ${perPackage.join(', ')}`);
if (failedPackages.length > 0) console.log(`failed packages: ${failedPackages.join(', ')}`);
if (notRun.length > 0) console.log(`packages whose tests did not run: ${notRun.join(', ')}`);
if (failedSteps.length > 0) console.log(`failed steps: ${failedSteps.join('; ')}`);
console.log(
  `tests: ${passed} passed, ${failed} failed${why.length ? ` (${why.join(', ')})` : ''}` +
    `${skipped ? `, ${skipped} skipped` : ''}; packages: ${ok} of ${packages.length} ok` +
    `${failedSteps.length ? `; ${failedSteps.length} step${failedSteps.length > 1 ? 's' : ''} failed` : ''}`,
);
process.exit(failedSteps.length > 0 || failed > 0 ? 1 : 0);
