// CLI start-up (issue 13): `mmp --version` from the built program, wall time per run as a ratio of
// `node -e 0` (the cost of starting Node itself), measured in the same run. Target <= 3x: a command-line
// tool should cost little more than Node's own start. Both are spawned the same way (process.execPath
// with the script, no shell, output read to the end).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchCase } from '../harness';

const MMP = path.resolve(import.meta.dirname, '../../apps/mmp/dist/main.js');
const SPAWNS = 10;

function once(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.resume();
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited ${code}`)),
    );
  });
}

/** Mean wall time of SPAWNS sequential runs, in ms. */
async function wallMs(args: string[]): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < SPAWNS; i++) await once(args);
  return (performance.now() - t0) / SPAWNS;
}

export const cases: BenchCase[] = [
  {
    name: 'cli.mmp-version-startup',
    metric: 'wall time per run',
    unit: 'ms',
    target: 3,
    compare: 'ratio<=',
    baselineName: 'node -e 0',
    baseline: () => wallMs(['-e', '0']),
    run: () => {
      if (!fs.existsSync(MMP))
        throw new Error(`${MMP} is missing: build the mmp app first (pnpm bench does)`);
      return wallMs([MMP, '--version']);
    },
    runs: 5,
  },
];
