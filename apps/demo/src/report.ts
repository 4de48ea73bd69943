// The demo's record of what happened: one row per step, printed as a table or as JSON.

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

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** The closing summary: step, result, time. */
export function formatSummary(report: DemoReport): string {
  const rows = report.steps.map((s) => [
    s.ok ? '✓' : '✗',
    `${s.section}: ${s.step}`,
    truncate(s.ok ? s.result : `FAILED: ${s.error?.message ?? s.result}`, 72),
    `${s.ms.toFixed(0)} ms`,
  ]);
  const head = ['', 'step', 'result', 'time'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const passed = report.steps.filter((s) => s.ok).length;
  return [
    line(head),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    `${passed} of ${report.steps.length} steps passed in ${(report.totalMs / 1000).toFixed(1)} s`,
  ].join('\n');
}
