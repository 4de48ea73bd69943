#!/usr/bin/env node
// `pnpm demo`, `pnpm -s mmp …`, `pnpm -s epic-sim …`, `pnpm -s tcpbus …`, `pnpm -s pymodaq …`: runs an
// app's built program (apps/<app>/dist/main.js) inside this very process. One process, no tsx: it starts
// as fast as the installed bin, and a signal sent to `pnpm` (which passes SIGTERM/SIGINT on to the
// command it runs; the root scripts `exec` this file) reaches the app itself, so stopping `pnpm epic-sim`
// never leaves a server behind.
//
// When there is no build yet, or a source file of the app or of a workspace package it depends on is
// newer than the app's build, it builds first (turbo: only what changed, from its cache otherwise) and
// says so on stderr. LABWIRE_NO_BUILD=1 turns that off (a missing build is then an error).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const [name, ...args] = process.argv.slice(2);
const appDir = path.join(root, 'apps', name ?? '');
if (!name || !fs.existsSync(path.join(appDir, 'package.json'))) {
  const apps = fs.readdirSync(path.join(root, 'apps')).join(', ');
  process.stderr.write(`run-app: which app? one of ${apps}\n`);
  process.exit(2);
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/** Every workspace package directory by package name. */
function workspace() {
  const byName = new Map();
  for (const group of ['packages', 'apps', 'tooling']) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir)) {
      const file = path.join(dir, entry, 'package.json');
      if (fs.existsSync(file)) byName.set(readJson(file).name, path.join(dir, entry));
    }
  }
  return byName;
}

/** The app's directory and those of the workspace packages it depends on, recursively. */
function closure(dir, byName, seen = new Set()) {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const pkg = readJson(path.join(dir, 'package.json'));
  for (const deps of [pkg.dependencies, pkg.devDependencies]) {
    for (const [dep, range] of Object.entries(deps ?? {})) {
      const depDir = byName.get(dep);
      if (
        depDir &&
        String(range).startsWith('workspace:') &&
        !dep.endsWith('-config') &&
        dep !== '@labwire/testkit'
      )
        closure(depDir, byName, seen);
    }
  }
  return seen;
}

/** The newest modification time of a package's build inputs (src/, package.json, tsup.config.ts). */
function newestInput(dir) {
  let newest = 0;
  const visit = (p) => {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  visit(path.join(dir, 'src'));
  visit(path.join(dir, 'package.json'));
  visit(path.join(dir, 'tsup.config.ts'));
  return newest;
}

const main = path.join(appDir, 'dist', 'main.js');
const builtAt = fs.statSync(main, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const dirs = [...closure(appDir, workspace())];
const libsMissing = dirs.some((d) => d !== appDir && !fs.existsSync(path.join(d, 'dist')));
const stale = builtAt === 0 || libsMissing || dirs.some((d) => newestInput(d) > builtAt);

if (stale) {
  const appName = readJson(path.join(appDir, 'package.json')).name;
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: read by this launcher only, never by a turbo task
  if (process.env.LABWIRE_NO_BUILD === '1') {
    process.stderr.write(`run-app: ${appName} has no up-to-date build (LABWIRE_NO_BUILD=1)\n`);
    process.exit(1);
  }
  process.stderr.write(
    `run-app: building ${appName} (${builtAt === 0 ? 'first run' : 'sources changed'}) …\n`,
  );
  const r = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', `--filter=${appName}...`, '--output-logs=errors-only'],
    {
      cwd: root,
      // turbo's own output goes to stderr: stdout is the app's.
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DO_NOT_TRACK: '1', TURBO_TELEMETRY_DISABLED: '1' },
    },
  );
  if (r.status !== 0) {
    process.stderr.write(`run-app: the build of ${appName} failed\n`);
    process.exit(1);
  }
}

// The app reads its arguments from process.argv, as when it runs as its own bin.
process.argv = [process.argv[0], main, ...args];
await import(pathToFileURL(main).href);
