// Global setup: which Node-RED runtime the tests load. Node 20 runs Node-RED 4 (the dev dependency, pinned:
// 4.x needs Node >= 18.5). Node >= 22.9 runs Node-RED 5, which needs it and so cannot be a dev dependency
// of a workspace that installs on Node 20 (engineStrict): it is installed with npm, pinned, into
// .tmp/node-red-<version> on first use and reused after that. LABWIRE_NODE_RED=4 keeps Node-RED 4 on Node 22.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

export const NODE_RED_5 = '5.0.7';

declare module 'vitest' {
  export interface ProvidedContext {
    nodeRed: { path: string; major: number; version: string };
  }
}

const require = createRequire(import.meta.url);

function nodeAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = process.versions.node.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

function installNodeRed5(): string {
  const dir = path.join(import.meta.dirname, '..', '.tmp', `node-red-${NODE_RED_5}`);
  const manifest = path.join(dir, 'node_modules', 'node-red', 'package.json');
  const installed =
    fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).version === NODE_RED_5;
  if (!installed) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": "node-red-5-for-tests", "private": true }\n');
    const t0 = performance.now();
    execFileSync(
      'npm',
      [
        'install',
        `node-red@${NODE_RED_5}`,
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--loglevel=error',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 },
    );
    console.log(
      `installed node-red@${NODE_RED_5} for the tests in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return require.resolve('node-red', { paths: [dir] });
}

/**
 * node-red-node-test-helper finds the runtime's internal modules (@node-red/runtime, registry, editor-api,
 * nodes) beside the node-red package, as npm lays them out. pnpm keeps them elsewhere (registry is not even
 * a sibling), so a directory with npm's layout is made of symlinks to the very files node-red loads; since
 * require() follows symlinks to the real paths, the helper and the runtime share one copy of each module.
 */
function npmLayout(runtime: string): string {
  const nodeRedDir = fs.realpathSync(path.join(path.dirname(runtime), '..'));
  const version = JSON.parse(fs.readFileSync(path.join(nodeRedDir, 'package.json'), 'utf8'))
    .version as string;
  const root = path.join(import.meta.dirname, '..', '.tmp', `node-red-${version}-layout`, 'node_modules');
  const link = (target: string, at: string) => {
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.rmSync(at, { force: true, recursive: true });
    fs.symlinkSync(target, at, 'dir');
  };
  link(nodeRedDir, path.join(root, 'node-red'));
  const runtimeDir = path.dirname(require.resolve('@node-red/runtime/package.json', { paths: [nodeRedDir] }));
  for (const name of ['runtime', 'editor-api', 'nodes', 'util']) {
    const dir = path.dirname(require.resolve(`@node-red/${name}/package.json`, { paths: [nodeRedDir] }));
    link(fs.realpathSync(dir), path.join(root, '@node-red', name));
  }
  const registry = path.dirname(require.resolve('@node-red/registry/package.json', { paths: [runtimeDir] }));
  link(fs.realpathSync(registry), path.join(root, '@node-red', 'registry'));
  return path.join(root, 'node-red', path.relative(nodeRedDir, fs.realpathSync(runtime)));
}

export default function setup(project: TestProject): void {
  const five = nodeAtLeast(22, 9) && process.env.LABWIRE_NODE_RED !== '4';
  const runtime = five ? installNodeRed5() : npmLayout(require.resolve('node-red'));
  const version = JSON.parse(fs.readFileSync(path.join(path.dirname(runtime), '..', 'package.json'), 'utf8'))
    .version as string;
  project.provide('nodeRed', { path: runtime, major: five ? 5 : 4, version });
}
