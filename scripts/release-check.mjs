#!/usr/bin/env node
// `pnpm release:check`: can every public package be released as it stands?
//  1. build every package (turbo), publint --strict and attw on each (turbo task `package-check`);
//  2. pack each public package with pnpm (which rewrites workspace: ranges) and inspect the tarball:
//     types present, no tests, fixtures or sources of tests, no workspace: ranges left, a README;
//  3. install all tarballs into a fresh temporary project with npm and import every entry point there,
//     both as ESM (`import`) and as CommonJS (`require`).
// Exits non-zero on the first problem, naming it.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const env = { ...process.env, DO_NOT_TRACK: '1', TURBO_TELEMETRY_DISABLED: '1' };
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, env, stdio: 'inherit', ...opts });
const capture = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: root, env, encoding: 'utf8', ...opts });
const problems = [];
const fail = (msg) => problems.push(msg);

const packages = fs
  .readdirSync(path.join(root, 'packages'))
  .map((dir) => ({
    dir: path.join(root, 'packages', dir),
    pkg: JSON.parse(fs.readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ pkg }) => !pkg.private);

console.log(`release check: ${packages.map((p) => p.pkg.name).join(', ')}`);
if (!process.argv.includes('--skip-build'))
  run('pnpm', ['exec', 'turbo', 'run', 'package-check', '--output-logs=errors-only']);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-release-'));
const tarballs = [];
for (const { dir, pkg } of packages) {
  const out = capture('pnpm', ['pack', '--pack-destination', work], { cwd: dir }).trim().split('\n').pop();
  const tarball = path.isAbsolute(out) ? out : path.join(work, path.basename(out));
  tarballs.push(tarball);
  const files = capture('tar', ['-tzf', tarball])
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
  const manifest = JSON.parse(capture('tar', ['-xzOf', tarball, 'package/package.json']));
  const label = `${pkg.name} (${path.basename(tarball)}, ${files.length} files)`;
  if (!files.some((f) => f.endsWith('.d.ts'))) fail(`${label}: no .d.ts types`);
  if (!files.some((f) => f.endsWith('.d.cts'))) fail(`${label}: no .d.cts types for require`);
  if (!files.includes('README.md')) fail(`${label}: no README.md`);
  const banned = files.filter(
    (f) => /(^|\/)(test|tests|__tests__|fixtures|bench)\//.test(f) || /\.(test|spec)\.[cm]?[jt]s$/.test(f),
  );
  if (banned.length) fail(`${label}: ships tests or fixtures: ${banned.slice(0, 5).join(', ')}`);
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) fail(`${label}: ${field}.${name} is still ${range}`);
    }
  }
  for (const [key, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target !== 'object') continue;
    for (const cond of ['import', 'require']) {
      for (const file of Object.values(target[cond] ?? {})) {
        if (!files.includes(String(file).replace(/^\.\//, '')))
          fail(`${label}: exports["${key}"].${cond} names ${file}, not in the tarball`);
      }
    }
  }
  console.log(`  packed ${label}`);
}

// A fresh consumer project: install every tarball at once so the packages resolve to each other.
const consumer = path.join(work, 'consumer');
fs.mkdirSync(consumer);
fs.writeFileSync(
  path.join(consumer, 'package.json'),
  JSON.stringify({ name: 'consumer', private: true, version: '0.0.0' }),
);
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: consumer });

for (const { pkg } of packages) {
  const entries = Object.keys(pkg.exports ?? { '.': {} }).filter((k) => k !== './package.json');
  for (const key of entries) {
    const spec = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    const esm = `import * as m from '${spec}'; if (Object.keys(m).length === 0) { console.error('no exports'); process.exit(1); } console.log(Object.keys(m).length);`;
    const cjs = `const m = require('${spec}'); if (Object.keys(m).length === 0) { console.error('no exports'); process.exit(1); } console.log(Object.keys(m).length);`;
    try {
      const n1 = capture(process.execPath, ['--input-type=module', '-e', esm], { cwd: consumer }).trim();
      const n2 = capture(process.execPath, ['-e', cjs], { cwd: consumer }).trim();
      console.log(`  ${spec}: import ok (${n1} exports), require ok (${n2} exports)`);
    } catch (e) {
      fail(
        `${spec}: cannot be loaded from a fresh install: ${
          String(e.stderr ?? e.message)
            .trim()
            .split('\n')[0]
        }`,
      );
    }
  }
}

fs.rmSync(work, { recursive: true, force: true });
if (problems.length) {
  console.error(`\nrelease check FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `\nrelease check passed: ${packages.length} packages packed, installed and imported (ESM and require)`,
);
