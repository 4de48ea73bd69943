// The demo is the main job: it must run every step green on its embedded simulators and say so.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatSummary, runDemo } from '../src/index';

function sink() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  return { stream, text: () => text };
}

describe('the demo', () => {
  it('walks through every layer, narrates each step and ends green', async () => {
    const out = sink();
    const err = sink();
    const report = await runDemo({ out: out.stream, err: err.stream, progress: false });
    const failed = report.steps
      .filter((s) => !s.ok)
      .map((s) => `${s.section}: ${s.step}: ${s.error?.message}`);
    expect(failed).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.section)).toEqual([
      'OptoMMP',
      'OptoMMP',
      'OptoMMP',
      'OptoMMP',
      'OptoMMP',
      'PyMoDAQ',
      'PyMoDAQ',
      'Bus',
      'Bus',
      'Resilience',
    ]);
    const text = out.text();
    expect(text).toContain('▶ OptoMMP: uptime (seed script 1)');
    expect(text).toContain('beam centred at stage x = 2 mm (4.4 wire format)');
    expect(text).toContain('beam centred at stage x = 2 mm (5.x wire format)');
    expect(text).toContain('wrnrd_until_tcp scope "*IDN?\\n"');
    expect(text).toMatch(/recovered \d+ ms after the restart/);
    for (const endpoint of Object.values(report.endpoints)) expect(endpoint).toMatch(/^127\.0\.0\.1/);
    const summary = formatSummary(report);
    expect(summary).toContain('10 of 10 steps passed');
    // The report is plain data: what --json prints.
    expect(JSON.parse(JSON.stringify(report)).steps).toHaveLength(10);
  }, 60_000);

  it('`--json` prints the report as JSON and exits 0', () => {
    const root = path.resolve(import.meta.dirname, '../../..');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@labwire/source', 'apps/demo/src/main.ts', '--json'],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: { ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.steps.every((s) => s.ok)).toBe(true);
  }, 60_000);
});
