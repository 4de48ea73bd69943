#!/usr/bin/env node
// labwire-demo (`pnpm demo`): every labwire layer on embedded simulators. `--json` prints the report as
// JSON instead of narrating.

import { createProgram, ExitCode, readPackageVersion, runProgram, terminalWidth } from '@labwire/cli-kit';

const io = { stdout: process.stdout, stderr: process.stderr };
let status: number = ExitCode.Ok;
const program = createProgram({
  name: 'labwire-demo',
  description:
    'Walks through every labwire layer (OptoMMP, PyMoDAQ, the cmd_tcp bus, a device restarted mid-run) on ' +
    'embedded simulators, 127.0.0.1 only. Exit status 0 when every step passed.',
  version: readPackageVersion(new URL('../package.json', import.meta.url)),
  io,
})
  .option('--no-progress', 'no progress bars')
  .action(async (opts: { json?: boolean; progress: boolean }) => {
    const { runDemo } = await import('./demo');
    const { formatSummary } = await import('./report');
    const report = await runDemo({
      json: opts.json === true,
      ...(opts.progress === false ? { progress: false } : {}),
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else
      process.stdout.write(`\nSummary\n═══════\n${formatSummary(report, terminalWidth(process.stdout))}\n`);
    status = report.ok ? ExitCode.Ok : ExitCode.Failure;
  });

process.exitCode = await runProgram(program, process.argv.slice(2), { io, status: () => status });
