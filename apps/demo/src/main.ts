#!/usr/bin/env node
// `pnpm demo`: the labwire demo. `--json` prints the report as JSON instead of narrating.

import { Command } from 'commander';
import { runDemo } from './demo';
import { formatSummary } from './report';

const program = new Command()
  .name('labwire-demo')
  .description('Walks through every labwire layer on embedded simulators (127.0.0.1 only).')
  .option('--json', 'print the report as JSON instead of narrating')
  .option('--no-progress', 'no progress bars')
  .parse();

const opts = program.opts<{ json?: boolean; progress: boolean }>();
const report = await runDemo({
  json: opts.json ?? false,
  ...(opts.progress === false ? { progress: false } : {}),
});
if (opts.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  process.stdout.write(`\nSummary\n═══════\n${formatSummary(report)}\n`);
}
process.exitCode = report.ok ? 0 : 1;
