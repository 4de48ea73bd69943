#!/usr/bin/env node
// `pnpm release:check`: can every public package be released as it stands?
//  1. build every package (turbo), publint --strict and attw on each (turbo task `package-check`);
//  2. pack each public package (packages/* and the apps) with pnpm (which rewrites workspace: ranges) and
//     inspect the tarball: types present (libraries), bins present, executable and starting with a node
//     shebang (apps), no tests, fixtures or sources of tests, no workspace: ranges and no dependency on a
//     private workspace package left, a README;
//  3. install all tarballs into a fresh temporary project with npm and import every entry point there,
//     both as ESM (`import`) and as CommonJS (`require`); TypeScript with `moduleResolution: node10`
//     finds every subpath's types; Node-RED node packages: each node module in `node-red`.nodes is packed
//     with its HTML, loads with require() from the install and registers types that have a template and
//     help text;
//  4. the apps, from that project with no tsx anywhere: each `--help` and `--version`, `npx mmp
//     --version`, and one real command each against its simulator (mmp uptime, epic-sim + mmp, tcpbus sim
//     + a tcpbus script, pymodaq decode, labwire-gateway --demo, the whole demo); then `npm i -g` of the tarballs into a
//     temporary prefix and every bin's `--version` from there.
// npm never asks a registry for an @labwire package here (the scope points at a closed port): they come
// from the tarballs only. Reports every problem, then exits non-zero if there was one.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
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

const workspacePackages = ['packages', 'apps'].flatMap((group) =>
  fs
    .readdirSync(path.join(root, group))
    .filter((dir) => fs.existsSync(path.join(root, group, dir, 'package.json')))
    .map((dir) => ({
      dir: path.join(root, group, dir),
      pkg: JSON.parse(fs.readFileSync(path.join(root, group, dir, 'package.json'), 'utf8')),
    })),
);
const packages = workspacePackages.filter(({ pkg }) => !pkg.private);
const privateNames = new Set(workspacePackages.filter(({ pkg }) => pkg.private).map(({ pkg }) => pkg.name));
const isApp = (pkg) => pkg.bin !== undefined;
// No registry is ever asked for an @labwire package: they come from the tarballs.
const npmLocal = [
  '--no-audit',
  '--no-fund',
  '--loglevel=error',
  '--@labwire:registry=http://127.0.0.1:9/',
  '--fetch-retries=0',
];

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
  if (isApp(pkg)) {
    const listing = capture('tar', ['-tvzf', tarball]);
    for (const [bin, target] of Object.entries(manifest.bin ?? {})) {
      const file = String(target).replace(/^\.\//, '');
      const line = listing.split('\n').find((l) => l.endsWith(`package/${file}`));
      if (!line) {
        fail(`${label}: bin ${bin} names ${target}, not in the tarball`);
        continue;
      }
      if (!/^-rwx/.test(line)) fail(`${label}: bin ${bin} (${file}) is not executable`);
      const head = capture('tar', ['-xzOf', tarball, `package/${file}`]).split('\n')[0];
      if (head !== '#!/usr/bin/env node') fail(`${label}: bin ${bin} starts with ${JSON.stringify(head)}`);
    }
  } else {
    if (!files.some((f) => f.endsWith('.d.ts'))) fail(`${label}: no .d.ts types`);
    if (!files.some((f) => f.endsWith('.d.cts'))) fail(`${label}: no .d.cts types for require`);
  }
  if (!files.includes('README.md')) fail(`${label}: no README.md`);
  if (files.some((f) => f.startsWith('src/') && isApp(pkg))) fail(`${label}: ships its sources`);
  const banned = files.filter(
    (f) => /(^|\/)(test|tests|__tests__|fixtures|bench)\//.test(f) || /\.(test|spec)\.[cm]?[jt]s$/.test(f),
  );
  if (banned.length) fail(`${label}: ships tests or fixtures: ${banned.slice(0, 5).join(', ')}`);
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) fail(`${label}: ${field}.${name} is still ${range}`);
      if (privateNames.has(name)) fail(`${label}: ${field}.${name} is a private workspace package`);
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
  if (manifest['node-red'] !== undefined) checkNodeRedTarball(label, manifest, files);
  console.log(`  packed ${label}`);
}

// A fresh consumer project: install every tarball at once so the packages resolve to each other.
const consumer = path.join(work, 'consumer');
fs.mkdirSync(consumer);
fs.writeFileSync(
  path.join(consumer, 'package.json'),
  JSON.stringify({ name: 'consumer', private: true, version: '0.0.0' }),
);
run('npm', ['install', ...npmLocal, ...tarballs], { cwd: consumer });

for (const { pkg } of packages.filter(({ pkg }) => !isApp(pkg))) {
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

// CommonJS bundles each entry point apart: a value made through one must still be accepted by the other.
{
  // The main entry no longer re-exports the codec's names: its detector simulator makes the arrays here.
  const cjs = `const { NdArray, resolveProfile } = require('@labwire/pymodaq/codec'); const { GaussianDetector } = require('@labwire/pymodaq');
const dte = new GaussianDetector({ width: 4, height: 3 }).grab('2D');
const a = dte.data[0].data[0];
if (!(a instanceof NdArray)) { console.error('not an NdArray to the other entry point'); process.exit(1); }
resolveProfile('D').encodeValue(dte); console.log('ok');`;
  try {
    capture(process.execPath, ['-e', cjs], { cwd: consumer });
    console.log('  @labwire/pymodaq require: an NdArray made by the main entry encodes through ./codec: ok');
  } catch (e) {
    fail(
      `@labwire/pymodaq: an NdArray from the main entry is refused by ./codec (CommonJS): ${
        String(e.stderr ?? e.message)
          .trim()
          .split('\n')[0]
      }`,
    );
  }
}

checkNodeRedModules(consumer);
checkNode10Types(consumer);
await checkApps(consumer);
checkGlobalInstall();

fs.rmSync(work, { recursive: true, force: true });
if (problems.length) {
  console.error(`\nrelease check FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `\nrelease check passed: ${packages.length} packages packed and installed; libraries imported (ESM, require, ` +
    'node10 types); apps run from the install and from a global install',
);

/** A Node-RED node package: every module named in `node-red`.nodes is packed with its editor HTML beside it. */
function checkNodeRedTarball(label, manifest, files) {
  const nodes = Object.entries(manifest['node-red'].nodes ?? {});
  if (nodes.length === 0) fail(`${label}: "node-red" names no node modules`);
  for (const [name, file] of nodes) {
    const js = String(file).replace(/^\.\//, '');
    if (!files.includes(js)) fail(`${label}: node module ${name} names ${file}, not in the tarball`);
    const html = js.replace(/\.[cm]?js$/, '.html');
    if (!files.includes(html)) fail(`${label}: node module ${name} has no editor HTML (${html}) beside it`);
  }
  if (!manifest.keywords?.includes('node-red'))
    fail(`${label}: no "node-red" keyword (the palette manager needs it)`);
  if ((manifest.files ?? []).includes('examples') && !files.some((f) => f.startsWith('examples/')))
    fail(`${label}: lists examples/ but packs none`);
}

/**
 * Node-RED node packages, as Node-RED loads them from a fresh install: require() each node module, call it
 * with a RED that records registrations; every registered type has an edit template and help text in the
 * module's HTML.
 */
function checkNodeRedModules(dir) {
  for (const { pkg } of packages.filter(({ pkg }) => pkg['node-red'] !== undefined)) {
    for (const [name, file] of Object.entries(pkg['node-red'].nodes ?? {})) {
      const installed = path.join(dir, 'node_modules', pkg.name, String(file));
      const script = `
        const types = [];
        const register = require(${JSON.stringify(installed)});
        if (typeof register !== 'function') { console.error('module.exports is not a function'); process.exit(1); }
        register({ nodes: { registerType: (t) => types.push(t), createNode() {}, getNode() {} }, version: () => '4.1.0' });
        console.log(types.join(' '));`;
      try {
        const types = capture(process.execPath, ['-e', script], { cwd: dir })
          .trim()
          .split(/\s+/)
          .filter(Boolean);
        const html = fs.readFileSync(installed.replace(/\.[cm]?js$/, '.html'), 'utf8');
        const missing = types.filter(
          (t) => !html.includes(`data-template-name="${t}"`) || !html.includes(`data-help-name="${t}"`),
        );
        if (types.length === 0) fail(`${pkg.name} ${name}: registers no node type`);
        else if (missing.length > 0)
          fail(`${pkg.name} ${name}: no template or help for ${missing.join(', ')}`);
        else console.log(`  ${pkg.name} ${name}: require ok, registers ${types.join(', ')}`);
      } catch (e) {
        fail(
          `${pkg.name} ${name}: ${
            String(e.stderr ?? e.message)
              .trim()
              .split('\n')[0]
          }`,
        );
      }
    }
  }
}

/** TypeScript with `moduleResolution: node10` (older projects) finds the types of every subpath. */
function checkNode10Types(dir) {
  const subpaths = packages
    .filter(({ pkg }) => !isApp(pkg))
    .flatMap(({ pkg }) =>
      Object.keys(pkg.exports ?? {})
        .filter((k) => k !== '.' && k !== './package.json')
        .map((k) => `${pkg.name}/${k.slice(2)}`),
    );
  const lines = subpaths.map((spec, i) => `import * as m${i} from '${spec}';`);
  lines.push(`export const loaded = [${subpaths.map((_, i) => `Object.keys(m${i})`).join(', ')}];`);
  fs.writeFileSync(path.join(dir, 'node10.ts'), `${lines.join('\n')}\n`);
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'commonjs',
        moduleResolution: 'node10',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['node10.ts'],
    }),
  );
  try {
    capture(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir });
    console.log(`  moduleResolution node10 finds ${subpaths.join(', ')}`);
  } catch (e) {
    fail(
      `moduleResolution node10: ${String(e.stdout ?? e.message)
        .trim()
        .split('\n')
        .slice(0, 3)
        .join(' | ')}`,
    );
  }
}

/** An environment without the workspace: no node_modules/.bin on PATH, nothing but node and npm. */
function cleanEnv() {
  const nodeDir = path.dirname(process.execPath);
  return {
    PATH: [nodeDir, '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter),
    HOME: process.env.HOME ?? os.homedir(),
    DO_NOT_TRACK: '1',
  };
}

/** Runs a bin to its end (30 s at most). */
function runBin(file, args, opts = {}) {
  return spawnSync(file, args, { encoding: 'utf8', timeout: 60_000, env: cleanEnv(), ...opts });
}

/** Starts a server bin; resolves with its first stdout line and a stop function. */
function startBin(file, args, cwd) {
  const child = spawn(file, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const first = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no output from ${path.basename(file)} within 20 s`)),
      20_000,
    );
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.split('\n')[0]);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(file)} exited (${code}) before listening: ${err.trim()}`));
    });
  });
  return {
    first,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

async function checkApps(dir) {
  const apps = packages.filter(({ pkg }) => isApp(pkg));
  if (apps.length === 0) return;
  const bin = (name) => path.join(dir, 'node_modules', '.bin', name);
  const tsx = spawnSync(process.execPath, ['-e', "require.resolve('tsx')"], { cwd: dir, env: cleanEnv() });
  if (tsx.status === 0) fail('the fresh project resolves tsx: the apps must not need it');
  const check = (what, r, test) => {
    const ok = r.status === 0 && (test === undefined || test(r.stdout));
    if (ok) console.log(`  ${what}: ok`);
    else
      fail(
        `${what}: exit ${r.status ?? r.signal}; ${(r.stderr || r.stdout || r.error?.message || '').trim().split('\n')[0]}`,
      );
  };
  for (const { pkg } of apps) {
    for (const name of Object.keys(pkg.bin)) {
      check(`${name} --help`, runBin(bin(name), ['--help'], { cwd: dir }), (out) =>
        out.includes(`Usage: ${name}`),
      );
      check(
        `${name} --version`,
        runBin(bin(name), ['--version'], { cwd: dir }),
        (out) => out.trim() === pkg.version,
      );
    }
  }
  const has = (name) => fs.existsSync(bin(name));
  if (has('mmp')) {
    check('npx mmp --version', runBin('npx', ['--no', 'mmp', '--version'], { cwd: dir }), (o) =>
      /^\d+\.\d+\.\d+/.test(o),
    );
    check('mmp uptime (embedded simulator)', runBin(bin('mmp'), ['uptime'], { cwd: dir }), (o) =>
      /^uptime \d+ ms/.test(o),
    );
  }
  if (has('epic-sim') && has('mmp')) {
    const sim = startBin(bin('epic-sim'), ['--port', '0'], dir);
    try {
      const port = /^listening on 127\.0\.0\.1:(\d+)$/.exec(await sim.first)?.[1];
      check(
        'epic-sim --port 0, then mmp --port <it> uptime',
        runBin(bin('mmp'), ['--port', String(port), '--json', 'uptime'], { cwd: dir }),
        (o) => typeof JSON.parse(o).uptimeMs === 'number',
      );
    } catch (e) {
      fail(`epic-sim --port 0: ${e.message}`);
    } finally {
      const r = await sim.stop();
      if (r.code !== 0) fail(`epic-sim did not stop cleanly on SIGTERM (${r.code ?? r.signal})`);
    }
  }
  if (has('tcpbus')) {
    const sim = startBin(bin('tcpbus'), ['sim', '--port', '0'], dir);
    try {
      const port = /^listening on 127\.0\.0\.1:(\d+)$/.exec(await sim.first)?.[1];
      const script = `init_tcp 1 tcp(host=127.0.0.1,port=${port},timeout=5)\nconfig_tcp 1\nwrnrd_until_tcp 1 *IDN?\\n \\n\n`;
      check(
        'tcpbus sim --port 0, then a tcpbus script',
        runBin(bin('tcpbus'), ['--strict'], { cwd: dir, input: script }),
        (o) => o.includes('1 LABWIRE,TCPBUS-SIM'),
      );
    } catch (e) {
      fail(`tcpbus sim --port 0: ${e.message}`);
    } finally {
      const r = await sim.stop();
      if (r.code !== 0) fail(`tcpbus sim did not stop cleanly on SIGTERM (${r.code ?? r.signal})`);
    }
  }
  if (has('pymodaq')) {
    // A gen D frame: the string command "move_abs".
    const hex = '0000001300000003737472000000086d6f76655f616273';
    check(
      'pymodaq decode --protocol D',
      runBin(bin('pymodaq'), ['decode', '--protocol', 'D', hex], { cwd: dir }),
      (o) => JSON.parse(o).messages?.[0]?.value === 'move_abs',
    );
  }
  if (has('labwire-gateway')) {
    // The demo: a simulated fleet, the embedded broker on a free loopback port, a subscriber, a DCMD write.
    check(
      'labwire-gateway --demo --json (fleet, embedded broker, Sparkplug traffic)',
      runBin(bin('labwire-gateway'), ['--demo', '--devices', '2', '--duration', '4', '--json'], { cwd: dir }),
      (o) => JSON.parse(o.trim().split('\n').at(-1)).ok === true,
    );
  }
  if (has('labwire-demo')) {
    check(
      'labwire-demo --json (the whole demo)',
      runBin(bin('labwire-demo'), ['--json'], { cwd: dir }),
      (o) => JSON.parse(o).ok === true,
    );
  }
}

/** `npm i -g` of the tarballs (into a temporary prefix): every bin answers --version from there. */
function checkGlobalInstall() {
  const apps = packages.filter(({ pkg }) => isApp(pkg));
  if (apps.length === 0) return;
  const prefix = path.join(work, 'global');
  try {
    capture('npm', ['install', '--global', '--prefix', prefix, ...npmLocal, ...tarballs], {
      cwd: work,
      env: { ...env, ...cleanEnv() },
    });
  } catch (e) {
    fail(
      `npm i -g of the tarballs failed: ${
        String(e.stderr ?? e.message)
          .trim()
          .split('\n')[0]
      }`,
    );
    return;
  }
  for (const { pkg } of apps) {
    for (const name of Object.keys(pkg.bin)) {
      const r = runBin(path.join(prefix, 'bin', name), ['--version'], { cwd: work });
      if (r.status === 0 && r.stdout.trim() === pkg.version)
        console.log(`  npm i -g, then ${name} --version: ok`);
      else
        fail(`npm i -g, then ${name} --version: exit ${r.status}; ${(r.stderr || '').trim().split('\n')[0]}`);
    }
  }
}
