// node-red-contrib-labwire benchmark (issue 17): a scan node reading a 64-channel analog module of a
// simulated groov EPIC at 100 Hz (one block read per scan: the largest block is 4096 bytes), inside a real
// Node-RED 4 runtime started in this process, against the same scan done by a bare Scanner from
// @labwire/optommp (no Node-RED) on the same simulator. Metric: messages (scan reports) per second over the
// same window; target >= 0.90. At a fixed 100 Hz both sides deliver at most 100 per second, so the ratio
// falls below 1 only when Node-RED's share of each scan makes scans late or missed.
//
// Node-RED loads the package the way a user's install does: from its user directory's node_modules (a
// symlink to packages/node-red), through the package.json "node-red".nodes entries, i.e. the built
// dist/nodes/*.cjs files (`pnpm bench` builds them first; `pnpm bench:src` loads the same built files).
// Messages are counted with Node-RED's onSend hook on the scan node's wire.

import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Scanner } from '@labwire/optommp';
import { EpicSimulator } from '@labwire/optommp/simulator';
import type { BenchCase } from '../harness';

const PERIOD_MS = 10;
/** Seconds counted per run (after the first report arrived). */
const WINDOW_S = 2;
const RACK = { modules: [{ slot: 2, kind: 'analog-input' as const, channels: 64, drift: false }] };

const require = createRequire(import.meta.url);

interface NodeRed {
  init(server: http.Server, settings: object): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { setFlows(flows: object[], credentials?: object, type?: string): Promise<unknown> };
  hooks: { add(name: string, fn: (events: unknown) => void): void; remove(name: string): void };
}

let sim: Promise<EpicSimulator> | undefined;
function simulator(): Promise<EpicSimulator> {
  sim ??= EpicSimulator.start({ rack: RACK, maxBlockBytes: 4096 });
  return sim;
}

let runtime: Promise<NodeRed> | undefined;
/** One Node-RED runtime for every run: editor and HTTP off, logging off, a temporary user directory. */
function nodeRed(): Promise<NodeRed> {
  runtime ??= (async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-bench-node-red-'));
    fs.mkdirSync(path.join(userDir, 'node_modules'));
    const pkg = path.dirname(require.resolve('node-red-contrib-labwire/package.json'));
    fs.symlinkSync(pkg, path.join(userDir, 'node_modules', 'node-red-contrib-labwire'), 'dir');
    fs.writeFileSync(
      path.join(userDir, 'package.json'),
      JSON.stringify({ name: 'bench', private: true, dependencies: { 'node-red-contrib-labwire': '*' } }),
    );
    const RED = require('node-red') as NodeRed;
    RED.init(http.createServer(), {
      userDir,
      flowFile: 'flows.json',
      httpAdminRoot: false,
      httpNodeRoot: false,
      disableEditor: true,
      credentialSecret: false,
      logging: { console: { level: 'off', metrics: false, audit: false } },
      telemetry: { enabled: false },
      externalModules: { autoInstall: false, palette: { allowInstall: false } },
    });
    await RED.start();
    process.once('exit', () => fs.rmSync(userDir, { recursive: true, force: true }));
    return RED;
  })();
  return runtime;
}

/** Waits until `count()` moved, then counts over WINDOW_S seconds: reports per second. */
async function rate(count: () => number): Promise<number> {
  const settle = performance.now() + 20_000;
  while (count() === 0) {
    if (performance.now() > settle) throw new Error('no scan report within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const n0 = count();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000));
  return ((count() - n0) * 1000) / (performance.now() - t0);
}

/** The same scan with no Node-RED: a Scanner, one group of the module's 64 channels. */
async function bareScanner(): Promise<number> {
  const { port } = await simulator();
  const scanner = new Scanner([
    {
      name: 'epic',
      host: '127.0.0.1',
      port,
      maxBlockBytes: 4096,
      timeoutMs: 2000,
      groups: [
        {
          name: 'module 2',
          periodMs: PERIOD_MS,
          // The 64 channels: the scanner reads neighbouring points as one block (what the node's
          // module shorthand expands to).
          points: Array.from({ length: 64 }, (_, c) => ({ kind: 'analog' as const, module: 2, channel: c })),
        },
      ],
    },
  ]);
  let reports = 0;
  scanner.on('values', () => reports++);
  scanner.start();
  try {
    return await rate(() => reports);
  } finally {
    await scanner.stop();
  }
}

let deploys = 0;
/** The scan node in Node-RED: a flow with the device and the scan node is deployed, counted, removed. */
async function scanNode(): Promise<number> {
  const { port } = await simulator();
  const RED = await nodeRed();
  const id = `scan-${++deploys}`;
  let messages = 0;
  const hook = `onSend.labwire-bench-${deploys}`;
  RED.hooks.add(hook, (events) => {
    for (const e of events as { source: { id: string } }[]) if (e.source.id === id) messages++;
  });
  await RED.nodes.setFlows([
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'dev',
      type: 'labwire-mmp-device',
      host: '127.0.0.1',
      port,
      transport: 'tcp',
      timeout: 2000,
      maxBlockBytes: 4096,
    },
    {
      id,
      type: 'labwire-mmp-scan',
      z: 'tab',
      device: 'dev',
      period: PERIOD_MS,
      report: 'every-scan',
      output: 'scan',
      points: [{ kind: 'analog-module', module: 2 }],
      x: 100,
      y: 100,
      wires: [['sink']],
    },
    { id: 'sink', type: 'junction', z: 'tab', x: 300, y: 100, wires: [[]] },
  ]);
  try {
    return await rate(() => messages);
  } finally {
    RED.hooks.remove(hook);
    await RED.nodes.setFlows([{ id: 'tab', type: 'tab', label: 'bench' }]);
  }
}

export const cases: BenchCase[] = [
  {
    name: 'node-red.scan-64ch-100Hz',
    metric: 'messages',
    unit: 'msg/s',
    target: 0.9,
    compare: 'ratio>=',
    baselineName: 'the same scan by a bare Scanner (@labwire/optommp), no Node-RED, same simulator',
    baseline: bareScanner,
    run: scanNode,
    minRuns: 3,
    maxRuns: 5,
  },
];
