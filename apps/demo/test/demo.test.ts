// The demo is the main job: it must run every step green on its embedded simulators and say so.

import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { displayWidth } from '@labwire/cli-kit';
import { builtMain, runApp } from '@labwire/cli-kit/testing';
import { describe, expect, it } from 'vitest';
import { type DemoReport, formatSummary, runDemo } from '../src/index';
import { textNarrator } from '../src/narrator';

const appDir = path.resolve(import.meta.dirname, '..');
const widest = (text: string) => Math.max(...text.split('\n').map(displayWidth));

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
    const report = await runDemo({ out: out.stream, err: err.stream, progress: false, width: 200 });
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
    // The actuator's unit, from its Infos XML (it printed "" before).
    expect(text.match(/actuator units "mm" \(from its Infos XML\)/g)).toHaveLength(2);
    // float32 values at float32 precision: no float64 tail on the analog input.
    expect(text).toMatch(/AI 2\/0 = -?\d+(\.\d{1,8})?(e[+-]\d+)?,/);
    for (const endpoint of Object.values(report.endpoints)) expect(endpoint).toMatch(/^127\.0\.0\.1/);
    const summary = formatSummary(report);
    expect(summary).toContain('10 of 10 steps passed');
    // The report is plain data: what --json prints.
    expect(JSON.parse(JSON.stringify(report)).steps).toHaveLength(10);
  }, 60_000);

  it('`--json` from the built program prints the report as JSON and exits 0 (no tsx)', async () => {
    const r = await runApp(builtMain(appDir), ['--json'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; steps: { ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.steps.every((s) => s.ok)).toBe(true);
  }, 60_000);
});

describe('rough edges (issue 13)', () => {
  const report: DemoReport = {
    ok: false,
    totalMs: 2500,
    endpoints: {},
    steps: [
      {
        section: 'OptoMMP',
        step: 'write a digital point and read it back (seed script 3)',
        ok: true,
        result: 'module 0 channel 3 now on (read back)',
        ms: 6,
        details: [],
      },
      {
        section: 'Bus',
        step: 'wrnrd_until *IDN?',
        ok: false,
        result: '',
        ms: 2001,
        details: [],
        error: { name: 'TimeoutError', message: 'no reply within 2000 ms from \x1b[31m127.0.0.1:5025' },
      },
    ],
  };

  it('the summary fits the terminal: a table when wide, blocks below 100 columns', () => {
    const wide = formatSummary(report, 160);
    expect(widest(wide)).toBeLessThanOrEqual(160);
    expect(wide).toMatch(
      /^✓ {2}OptoMMP: write a digital point and read it back \(seed script 3\) +6 ms {2}module 0/m,
    );
    for (const width of [80, 60]) {
      const narrow = formatSummary(report, width);
      expect(widest(narrow), narrow).toBeLessThanOrEqual(width);
      expect(narrow).toContain('✗ Bus: wrnrd_until *IDN?');
      expect(narrow).toMatch(/ {2}time {4}2001 ms/);
    }
    // What came from the network is escaped.
    expect(wide).toContain('\\x1b[31m127.0.0.1:5025');
    expect(wide.includes('\x1b')).toBe(false);
  });

  it('the narration wraps to the terminal and escapes what devices sent', () => {
    const out = sink();
    const narrator = textNarrator(out.stream, out.stream, false, 60);
    narrator.section('A section', `${'word '.repeat(30)}end`);
    narrator.say('device says: LABWIRE\x1b]0;owned\x07,SIM');
    expect(widest(out.text())).toBeLessThanOrEqual(60);
    expect(out.text()).toContain('device says: LABWIRE\\x1b]0;owned\\x07,SIM');
  });

  it('--version, and usage mistakes exit 2 (JSON under --json)', async () => {
    const main = builtMain(appDir);
    const version = JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')).version;
    expect(await runApp(main, ['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const bad = await runApp(main, ['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--bogus'");
    const json = await runApp(main, ['--json', '--bogus']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({
      error: { kind: 'usage', code: 'commander.unknownOption' },
    });
  });
});
