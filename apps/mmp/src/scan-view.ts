// What `mmp scan` prints. On a terminal: one row per device (health, scans, failures, misses, lateness,
// age of its values, the values themselves), redrawn in place, cut to the terminal's width and height
// (devices that are not ok first); the statistics when it stops. Otherwise: JSON lines, one per report,
// health change and, at the end, the statistics. Names from the fleet file and error texts from the
// network are escaped; float32 points show at float32 precision in both forms.

import {
  displayWidth,
  escapeControl,
  fitWidth,
  float32Shortest,
  formatFloat32,
  formatTable,
  wrapText,
} from '@labwire/cli-kit';
import type {
  DeviceHealth,
  FleetConfig,
  HealthEvent,
  ScannerStats,
  ScanPoint,
  ScanReport,
} from '@labwire/optommp';

const isFloat32 = (p: ScanPoint) => p.kind === 'analog' || p.kind === 'float32' || p.kind === 'f32';

/** A point's name as the Scanner reports it (its own name, else the watch-style description). */
export type PointNamer = (p: ScanPoint) => string;

/** Which reported point names carry float32 values, per device and group. */
export function float32Names(fleet: FleetConfig, nameOf: PointNamer): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const d of fleet.devices) {
    for (const g of d.groups) {
      out.set(key(d.name, g.name), new Set(g.points.filter(isFloat32).map((p) => nameOf(p))));
    }
  }
  return out;
}

const key = (device: string, group: string) => `${device}\u0000${group}`;

function shown(value: number | boolean, float: boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return float ? formatFloat32(value) : String(value);
}

function causeOf(error: Error | undefined): { name: string; code?: string; message: string } | undefined {
  if (error === undefined) return undefined;
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}

function causeText(error: Error | undefined): string {
  if (error === undefined) return '';
  const code = (error as { code?: unknown }).code;
  return escapeControl(typeof code === 'string' ? `${code}: ${error.message}` : error.message);
}

// --- JSON lines ---------------------------------------------------------------------------------------------

/** One JSON line per values report, with float32 values at float32 precision. */
export function valuesLine(report: ScanReport, floats: Map<string, Set<string>>): string {
  const f = floats.get(key(report.device, report.group));
  const values: Record<string, number | boolean> = {};
  for (const v of report.values) {
    values[v.point] = typeof v.value === 'number' && f?.has(v.point) ? float32Shortest(v.value) : v.value;
  }
  return JSON.stringify({
    type: 'values',
    device: report.device,
    group: report.group,
    sequence: report.sequence,
    time: new Date(report.time).toISOString(),
    values,
  });
}

export function healthLine(event: HealthEvent): string {
  return JSON.stringify({
    type: 'health',
    device: event.device,
    state: event.health.state,
    previous: event.previous,
    since: new Date(event.health.since).toISOString(),
    cause: causeOf(event.health.cause),
  });
}

export interface ScanSummary {
  seconds: number;
  stats: ScannerStats;
  health: Record<string, DeviceHealth>;
  /** JSON lines not written because the reader of stdout fell too far behind. */
  linesDropped: number;
}

/** The statistics as one JSON line: the fleet's totals, then per device its counts, groups and health. */
export function statsLine(s: ScanSummary): string {
  const { devices, ...fleet } = s.stats;
  const perDevice: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(devices)) {
    const h = s.health[name];
    perDevice[name] = {
      ...d,
      health: h === undefined ? undefined : { state: h.state, cause: causeOf(h.cause), window: h.window },
      lastGoodAt: h?.lastGoodAt === undefined ? null : new Date(h.lastGoodAt).toISOString(),
    };
  }
  // Times in ms to the µs (and seconds to the ms): the digits beyond say nothing.
  return JSON.stringify(
    {
      type: 'stats',
      seconds: s.seconds,
      ...fleet,
      ...(s.linesDropped > 0 ? { linesDropped: s.linesDropped } : {}),
      devices: perDevice,
    },
    (_key, value: unknown) =>
      typeof value === 'number' && !Number.isInteger(value) ? round(value, 3) : value,
  );
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

// --- the live table -----------------------------------------------------------------------------------------

export interface DeviceRow {
  name: string;
  health: DeviceHealth;
  scans: number;
  failed: number;
  missed: number;
  /** Lateness p99, ms; undefined before the first scan. */
  lateP99: number | undefined;
  /** ms since the last good scan; undefined before it. */
  ageMs: number | undefined;
  /** `name=value` of its groups' latest values, escaped. */
  values: string[];
}

/** `name=value` texts of one group's latest scan. */
export function valueTexts(
  values: readonly { point: string; value: number | boolean }[],
  floats: Set<string> | undefined,
): string[] {
  return values.map((v) => `${escapeControl(v.point)}=${shown(v.value, floats?.has(v.point) === true)}`);
}

function ms(value: number | undefined): string {
  if (value === undefined) return '-';
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${value.toFixed(0)} ms`;
  if (value < 600_000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.round(value / 60_000)} min`;
}

interface Column {
  title: string;
  /** Lower goes first when the terminal is too narrow. */
  keep: number;
  align: 'left' | 'right';
  cell: (r: DeviceRow) => string;
  max?: number;
}

const COLUMNS: Column[] = [
  { title: 'device', keep: 9, align: 'left', cell: (r) => escapeControl(r.name), max: 24 },
  { title: 'health', keep: 8, align: 'left', cell: (r) => r.health.state },
  { title: 'scans', keep: 5, align: 'right', cell: (r) => String(r.scans) },
  { title: 'failed', keep: 4, align: 'right', cell: (r) => String(r.failed) },
  { title: 'missed', keep: 3, align: 'right', cell: (r) => String(r.missed) },
  { title: 'late p99', keep: 6, align: 'right', cell: (r) => ms(r.lateP99) },
  { title: 'age', keep: 2, align: 'right', cell: (r) => ms(r.ageMs) },
];
/** The values column is never narrower than this while other columns can still go. */
const MIN_VALUES = 20;
const GAP = '  ';

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

export interface TableFrame {
  /** The heading line above the table. */
  title: string;
  rows: DeviceRow[];
  /** Terminal columns and rows. */
  width: number;
  height: number;
}

/**
 * The table's lines: at most `width` cells each, at most `height - 1` lines (the cursor's line stays
 * free, so redrawing never scrolls). Devices that are not ok come first; what does not fit is summed up
 * in the last line.
 */
export function renderTable(frame: TableFrame): string[] {
  const width = Math.max(20, frame.width);
  const rows = [...frame.rows].sort(
    (a, b) => Number(a.health.state === 'ok') - Number(b.health.state === 'ok'),
  );
  const room = Math.max(1, frame.height - 1 - 2); // title and heading
  const shownRows = rows.length <= room ? rows : rows.slice(0, room - 1);
  // Widths of the fixed columns from what is shown; drop the least useful ones while values are cramped.
  let columns = COLUMNS.slice();
  const widthOf = (c: Column) =>
    Math.min(
      c.max ?? Number.POSITIVE_INFINITY,
      Math.max(displayWidth(c.title), ...shownRows.map((r) => displayWidth(c.cell(r)))),
    );
  const fixed = () => columns.reduce((n, c) => n + widthOf(c) + GAP.length, 0);
  while (width - fixed() < MIN_VALUES && columns.length > 1) {
    const drop = columns.reduce((a, b) => (b.keep < a.keep ? b : a));
    columns = columns.filter((c) => c !== drop);
  }
  const widths = columns.map(widthOf);
  const valuesWidth = Math.max(0, width - fixed());
  const line = (cells: string[], values: string) => {
    const fixedPart = cells
      .map((t, i) => pad(fitWidth(t, widths[i]!), widths[i]!, columns[i]!.align))
      .join(GAP);
    return valuesWidth > 0
      ? `${fixedPart}${GAP}${fitWidth(values, valuesWidth)}`.trimEnd()
      : fitWidth(fixedPart, width);
  };
  const out = [
    fitWidth(frame.title, width),
    line(
      columns.map((c) => c.title),
      'values',
    ),
  ];
  for (const r of shownRows) {
    // A device that is not ok shows why instead of (old) values.
    const values =
      r.health.state === 'ok' || r.health.cause === undefined
        ? r.values.join(' ')
        : causeText(r.health.cause);
    out.push(
      line(
        columns.map((c) => c.cell(r)),
        values,
      ),
    );
  }
  if (shownRows.length < rows.length) {
    const hidden = rows.slice(shownRows.length);
    const notOk = hidden.filter((r) => r.health.state !== 'ok').length;
    out.push(fitWidth(`… ${hidden.length} more device(s)${notOk > 0 ? `, ${notOk} not ok` : ''}`, width));
  }
  return out;
}

// --- the statistics on a terminal ---------------------------------------------------------------------------

/** Columns of the statistics, the least useful last: dropped from the end on narrow terminals. */
const STATS_COLUMNS: { title: string; cell: (d: ScannerStats) => string }[] = [
  { title: 'scans', cell: (d) => String(d.scans) },
  { title: 'failed', cell: (d) => String(d.failed) },
  { title: 'missed', cell: (d) => String(d.missed) },
  { title: 'late p99', cell: (d) => quantile(d.lateness.p99, d.lateness.count) },
  { title: 'skipped', cell: (d) => String(d.skipped) },
  { title: 'late max', cell: (d) => quantile(d.lateness.max, d.lateness.count) },
  { title: 'scan p99', cell: (d) => quantile(d.duration.p99, d.duration.count) },
  { title: 'late p50', cell: (d) => quantile(d.lateness.p50, d.lateness.count) },
  { title: 'requests', cell: (d) => String(d.requests) },
  { title: 'bytes', cell: (d) => String(d.bytes) },
];

const quantile = (n: number, count: number) => (count === 0 ? '-' : n.toFixed(2));

/**
 * The statistics as a table that fits `width` (the least useful columns go first on a narrow terminal),
 * then one line per device that is not ok, with the cause.
 */
export function formatStats(s: ScanSummary, width: number): string {
  const entries: [string, ScannerStats, string][] = Object.entries(s.stats.devices).map(([name, d]) => [
    escapeControl(name),
    d as unknown as ScannerStats,
    s.health[name]?.state ?? '-',
  ]);
  const okCount = Object.values(s.health).filter((h) => h.state === 'ok').length;
  entries.push(['(fleet)', s.stats, `${okCount}/${entries.length} ok`]);
  let columns = STATS_COLUMNS.length;
  const table = () => {
    const head = ['device', 'health', ...STATS_COLUMNS.slice(0, columns).map((c) => c.title)];
    const rows = entries.map(([name, d, health]) => [
      name,
      health,
      ...STATS_COLUMNS.slice(0, columns).map((c) => c.cell(d)),
    ]);
    const natural = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
    const fits = natural.reduce((a, b) => a + b, 0) + 2 * (head.length - 1) <= width;
    return { head, rows, fits };
  };
  let t = table();
  while (!t.fits && columns > 4) {
    columns--;
    t = table();
  }
  const lines = [
    ...wrapText(`statistics after ${s.seconds.toFixed(1)} s (lateness and scan times in ms)`, width),
    // Still too wide (a very narrow terminal, long names): formatTable turns rows into blocks.
    formatTable(t.rows, {
      head: t.head,
      width,
      align: t.head.map((_, i) => (i < 2 ? 'left' : 'right')),
      verticalBelow: t.fits ? 0 : Number.POSITIVE_INFINITY,
    }),
  ];
  for (const [name, h] of Object.entries(s.health)) {
    if (h.state !== 'ok' && h.cause !== undefined) {
      lines.push(fitWidth(`${escapeControl(name)}: ${h.state}: ${causeText(h.cause)}`, width));
    }
  }
  // Faults of pipelining are not in the table's columns: said per device.
  for (const [name, d] of Object.entries(s.stats.devices)) {
    if (d.desyncs === 0 && d.windowFallbacks === 0) continue;
    const parts: string[] = [];
    if (d.windowFallbacks > 0) parts.push('one request at a time now (pipelined requests failed)');
    if (d.desyncs > 0)
      parts.push(`${d.desyncs} ${d.desyncs === 1 ? 'reply' : 'replies'} out of step (desync)`);
    lines.push(...wrapText(`${escapeControl(name)}: ${parts.join('; ')}`, width));
  }
  if (s.linesDropped > 0)
    lines.push(`${s.linesDropped} output line(s) dropped: stdout was not read fast enough`);
  return lines.join('\n');
}
