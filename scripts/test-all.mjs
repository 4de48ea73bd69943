#!/usr/bin/env node
// `pnpm test`: the whole test suite, as CI runs it. Lint (biome, typed eslint), layer boundaries,
// typecheck, every package's tests, package checks (publint, attw) and the release check. Ends with one
// plain summary line: `tests: N passed, N failed`.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const env = { ...process.env, DO_NOT_TRACK: '1', TURBO_TELEMETRY_DISABLED: '1', LABWIRE_TEST_JSON: '1' };
const skipRelease = process.argv.includes('--no-release');

const workspaces = ['packages', 'apps'].flatMap((dir) =>
  fs.existsSync(path.join(root, dir))
    ? fs.readdirSync(path.join(root, dir)).map((name) => path.join(root, dir, name))
    : [],
);
for (const ws of workspaces) fs.rmSync(path.join(ws, 'test-results.json'), { force: true });

const steps = [
  ['format and lint (biome)', 'pnpm', ['exec', 'biome', 'ci', '.']],
  ['promise safety and import cycles (eslint, typed)', 'pnpm', ['exec', 'eslint', '.']],
  ['layer boundaries (turbo)', 'pnpm', ['exec', 'turbo', 'boundaries']],
  ['changesets parse into a release plan', 'pnpm', ['exec', 'changeset', 'status', '--verbose']],
  [
    'typecheck, tests, package checks (turbo)',
    'pnpm',
    ['exec', 'turbo', 'run', 'typecheck', 'test', 'package-check', '--output-logs=new-only'],
  ],
  ...(skipRelease || !fs.existsSync(path.join(root, 'scripts/release-check.mjs'))
    ? []
    : [['release check (pack, install, import)', 'node', ['scripts/release-check.mjs']]]),
];

let failedStep;
for (const [title, cmd, args] of steps) {
  console.log(`\n▶ ${title}: ${cmd} ${args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' });
  console.log(
    `◀ ${title}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (r.status !== 0) {
    failedStep = title;
    break;
  }
}

// Sum the vitest JSON reports of every workspace package.
let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = [];
for (const ws of workspaces) {
  const file = path.join(ws, 'test-results.json');
  if (!fs.existsSync(file)) continue;
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  perPackage.push(`${path.relative(root, ws)} ${report.numPassedTests}/${report.numTotalTests}`);
}
if (perPackage.length > 0) console.log(`\nper package: ${perPackage.join(', ')}`);
if (failedStep) console.log(`\nfailed step: ${failedStep}`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failedStep || failed > 0 ? 1 : 0);
