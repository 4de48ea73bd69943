// Output that fits the terminal. A table is printed as is when it fits; when it is too wide, its last
// column wraps (hanging under itself) as long as the terminal is at least `verticalBelow` columns wide
// and the column keeps a readable width; below that, every row becomes a block of `label  value` lines.
// Widths count what a terminal shows: wide (CJK, emoji) characters take two cells, combining marks none.

export interface WidthSource {
  isTTY?: boolean;
  columns?: number;
}

/** Columns of the terminal behind `stream`; else $COLUMNS; else 80 (a pipe, a file, a CI log). */
export function terminalWidth(stream?: WidthSource, env: NodeJS.ProcessEnv = process.env): number {
  if (stream?.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0)
    return stream.columns;
  const fromEnv = Number(env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

function cellWidth(code: number): number {
  if ((code >= 0x300 && code <= 0x36f) || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f)) return 0;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** The number of terminal cells `text` takes (one line, no control characters). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const c of text) w += cellWidth(c.codePointAt(0)!);
  return w;
}

/** `text` cut to `width` terminal cells, ending in `…` when it was longer (`''` for a width below 1). */
export function fitWidth(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  let out = '';
  let w = 0;
  for (const c of text) {
    const cw = displayWidth(c);
    if (w + cw > width - 1) break;
    out += c;
    w += cw;
  }
  return `${out}…`;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Splits `text` into lines of at most `width` cells, at spaces where possible. */
export function wrapText(text: string, width: number): string[] {
  const limit = Math.max(1, width);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    let lineWidth = 0;
    for (const word of paragraph.split(' ')) {
      let rest = word;
      let restWidth = displayWidth(rest);
      const sep = line === '' ? 0 : 1;
      if (lineWidth + sep + restWidth <= limit) {
        line += (sep ? ' ' : '') + rest;
        lineWidth += sep + restWidth;
        continue;
      }
      if (line !== '') lines.push(line);
      line = '';
      lineWidth = 0;
      // A word longer than the line is cut.
      while (restWidth > limit) {
        let cut = '';
        let cutWidth = 0;
        for (const c of rest) {
          const cw = cellWidth(c.codePointAt(0)!);
          if (cutWidth + cw > limit) break;
          cut += c;
          cutWidth += cw;
        }
        lines.push(cut);
        rest = rest.slice(cut.length);
        restWidth = displayWidth(rest);
      }
      line = rest;
      lineWidth = restWidth;
    }
    lines.push(line);
  }
  return lines;
}

export interface TableOptions {
  /** Column titles; omit for a table without a heading (key/value lists). */
  head?: readonly string[];
  /** Per column; default left. */
  align?: readonly ('left' | 'right')[];
  /** Terminal columns available (see terminalWidth). */
  width: number;
  /** Narrower than this, rows are shown as blocks. Default 100. */
  verticalBelow?: number;
  /** Leading cells joined into each block's first line in the vertical form. Default 1. */
  titleColumns?: number;
  /** Labels of the other cells in the vertical form. Default: `head`. */
  labels?: readonly string[];
}

/** Narrowest the wrapped last column may get before the vertical form is used instead. */
const MIN_WRAP_WIDTH = 24;
const GAP = '  ';

/** `rows` as an aligned table, a table with its last column wrapped, or vertical blocks (see file comment). */
export function formatTable(rows: readonly (readonly string[])[], options: TableOptions): string {
  const head = options.head;
  const columns = Math.max(head?.length ?? 0, ...rows.map((r) => r.length));
  const cells = (row: readonly string[]) => Array.from({ length: columns }, (_, i) => row[i] ?? '');
  const all = [...(head ? [cells(head)] : []), ...rows.map(cells)];
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(0, ...all.map((r) => displayWidth(r[i]!))),
  );
  const natural = widths.reduce((a, b) => a + b, 0) + GAP.length * (columns - 1);
  const align = (i: number) => options.align?.[i] ?? 'left';

  const tableLines = (lastWidth: number): string[] => {
    const out: string[] = [];
    const fixed = widths.slice(0, -1);
    const indent = fixed.reduce((a, b) => a + b + GAP.length, 0);
    const emit = (row: string[]) => {
      const last = row[columns - 1]!;
      const wrapped = displayWidth(last) <= lastWidth ? [last] : wrapText(last, lastWidth);
      const first = [...row.slice(0, -1).map((c, i) => pad(c, fixed[i]!, align(i))), wrapped[0]!];
      out.push(
        columns === 1 || align(columns - 1) === 'left'
          ? first.join(GAP).trimEnd()
          : [...first.slice(0, -1), pad(wrapped[0]!, lastWidth, 'right')].join(GAP),
      );
      for (const more of wrapped.slice(1)) out.push(' '.repeat(indent) + more);
    };
    if (head) {
      emit(cells(head));
      out.push(
        widths
          .map((w, i) => '─'.repeat(i === columns - 1 ? Math.min(w, lastWidth) : w))
          .join(GAP)
          .trimEnd(),
      );
    }
    for (const r of rows) emit(cells(r));
    return out;
  };

  if (natural <= options.width) return tableLines(widths[columns - 1]!).join('\n');
  const room = options.width - (natural - widths[columns - 1]!);
  if (options.width >= (options.verticalBelow ?? 100) && room >= MIN_WRAP_WIDTH && columns > 1)
    return tableLines(room).join('\n');

  // Vertical: one block per row.
  const titleColumns = Math.min(options.titleColumns ?? 1, columns);
  const labels = options.labels ?? head ?? [];
  const labelWidth = Math.max(0, ...labels.slice(titleColumns).map((l) => displayWidth(l ?? '')));
  const out: string[] = [];
  for (const row of rows.map(cells)) {
    const title = row
      .slice(0, titleColumns)
      .filter((c) => c !== '')
      .join(' ');
    for (const l of wrapText(title, options.width)) out.push(l);
    for (let i = titleColumns; i < columns; i++) {
      const label = labels[i] ?? '';
      const prefix = `  ${label ? `${pad(label, labelWidth, 'left')}  ` : ''}`;
      const lines = wrapText(row[i]!, Math.max(MIN_WRAP_WIDTH / 2, options.width - displayWidth(prefix)));
      lines.forEach((l, k) => {
        out.push(`${k === 0 ? prefix : ' '.repeat(displayWidth(prefix))}${l}`.trimEnd());
      });
    }
  }
  return out.join('\n');
}

/** Aligned `key  value` lines whose values wrap to `width` (see formatTable). */
export function formatKeyValues(rows: readonly (readonly [string, string])[], width: number): string {
  if (rows.length === 0) return '';
  return formatTable(rows, { width, verticalBelow: 0, labels: [] });
}
