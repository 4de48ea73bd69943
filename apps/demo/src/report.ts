// The demo's record of what happened: one row per step, printed as a table that fits the terminal (or
// as blocks below 100 columns), or as JSON.

import { escapeControl, formatTable } from '@labwire/cli-kit';

export interface StepRecord {
  /** Which layer or package the step shows. */
  section: string;
  step: string;
  ok: boolean;
  /** One line: what came back. */
  result: string;
  ms: number;
  /** The narration lines of the step. */
  details: string[];
  error?: { name: string; code?: string; message: string };
}

export interface DemoReport {
  ok: boolean;
  totalMs: number;
  steps: StepRecord[];
  /** Where the embedded simulators listened (loopback only). */
  endpoints: Record<string, string>;
}

/** The closing summary: step, time, result, fitted to `width` columns. */
export function formatSummary(report: DemoReport, width = 80): string {
  // The result goes last: it is the column that wraps when the terminal is narrow.
  const rows = report.steps.map((s) => [
    s.ok ? '✓' : '✗',
    `${s.section}: ${s.step}`,
    `${s.ms.toFixed(0)} ms`,
    escapeControl(s.ok ? s.result : `FAILED: ${s.error?.message ?? s.result}`),
  ]);
  const passed = report.steps.filter((s) => s.ok).length;
  return [
    formatTable(rows, {
      head: ['', 'step', 'time', 'result'],
      align: ['left', 'left', 'right', 'left'],
      width,
      titleColumns: 2,
    }),
    '',
    `${passed} of ${report.steps.length} steps passed in ${(report.totalMs / 1000).toFixed(1)} s`,
  ].join('\n');
}
