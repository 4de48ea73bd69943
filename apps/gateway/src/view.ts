// What `labwire-gateway watch` and the demo print of the Sparkplug traffic a SparkplugMonitor sees:
// - on a terminal, a compact live view redrawn in place (at most 5 times a second): each edge node, its
//   devices with their state and last values, the totals, and the latest notable events;
// - otherwise one line per message (`12:00:00.123 DDATA Lab/gw/epic-1 seq 17: analog 2/0=5.012, …`),
//   cut to the terminal width;
// - with --json one JSON object per line: {"event":"sparkplug",…} per message, other events likewise.
// Names and string values come from the network: escaped before they reach the terminal.

import {
  type CliOutput,
  displayWidth,
  escapeControl,
  fitWidth,
  float32Shortest,
  formatFloat32,
  LiveBlock,
  terminalWidth,
  toJson,
} from '@labwire/cli-kit';
import { DataType, type MetricValue } from '@labwire/sparkplug/codec';
import type { MonitoredMetric, MonitorMessage, SparkplugMonitor } from './monitor';

export type ViewMode = 'tty' | 'lines' | 'json';

const REDRAW_MS = 200;
const RECENT = 6;

export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** A metric value for a person: float32 at float32 precision, booleans on/off, strings escaped. */
export function showValue(value: MetricValue | undefined, datatype?: DataType): string {
  if (value === undefined) return '(none)';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') {
    if (datatype === DataType.Float) return formatFloat32(value);
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(10)));
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return JSON.stringify(escapeControl(value));
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Date) return value.toISOString();
  return Array.isArray(value) ? `[${value.length} values]` : '{…}';
}

function metricList(metrics: readonly MonitoredMetric[]): string {
  return metrics
    .map((m) => `${escapeControl(m.name)}=${showValue(m.value, m.datatype)}${m.historical ? ' (hist)' : ''}`)
    .join(', ');
}

/** One line per message (the non-terminal form). */
export function messageLine(m: MonitorMessage): string {
  const where = escapeControl(
    `${m.groupId}/${m.edgeNodeId}${m.deviceId === undefined ? '' : `/${m.deviceId}`}`,
  );
  const seq = m.seq === undefined ? '' : ` seq ${m.seq}`;
  const body = m.metrics.length === 0 ? '' : `: ${metricList(m.metrics)}`;
  const problems = m.problems.length === 0 ? '' : `  !! ${escapeControl(m.problems.join('; '))}`;
  return `${clock(m.at)} ${m.type.padEnd(6)} ${where}${seq}${problems}${body}`;
}

export function messageJson(m: MonitorMessage): string {
  return toJson({
    event: 'sparkplug',
    time: new Date(m.at).toISOString(),
    type: m.type,
    topic: m.topic,
    groupId: m.groupId,
    edgeNodeId: m.edgeNodeId,
    ...(m.deviceId === undefined ? {} : { deviceId: m.deviceId }),
    ...(m.seq === undefined ? {} : { seq: m.seq }),
    ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp }),
    metrics: m.metrics.map((x) => ({
      name: x.name,
      // float32 values at float32 precision (5.3104825, not 5.310482501983643)
      value:
        x.value === undefined
          ? null
          : x.datatype === DataType.Float && typeof x.value === 'number'
            ? float32Shortest(x.value)
            : x.value,
      ...(x.historical ? { historical: true } : {}),
    })),
    ...(m.problems.length === 0 ? {} : { problems: m.problems }),
  });
}

export class LiveView {
  readonly #out: CliOutput;
  readonly #mode: ViewMode;
  readonly #monitor: SparkplugMonitor;
  readonly #env: NodeJS.ProcessEnv | undefined;
  readonly #header: string[];
  readonly #recent: string[] = [];
  readonly #live: LiveBlock;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    out: CliOutput,
    mode: ViewMode,
    monitor: SparkplugMonitor,
    options: { header?: string[]; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.#out = out;
    this.#mode = mode;
    this.#monitor = monitor;
    this.#env = options.env;
    this.#header = options.header ?? [];
    this.#live = new LiveBlock(out);
    monitor.on('message', (m) => this.#message(m));
    if (mode === 'tty') this.#schedule();
  }

  get #width(): number {
    return terminalWidth(this.#out, this.#env);
  }

  /** A notable event from elsewhere (the gateway, the demo's script): a line, or a JSON object. */
  note(text: string, json: Record<string, unknown>): void {
    if (this.#closed) return;
    if (this.#mode === 'json')
      this.#out.write(`${toJson({ event: json.event, time: new Date().toISOString(), ...json })}\n`);
    else if (this.#mode === 'lines')
      this.#out.write(`${fitWidth(`${clock(Date.now())} ${text}`, this.#width)}\n`);
    else this.#remember(`${clock(Date.now())} ${text}`);
  }

  /** Draws the last state (terminal) and stops redrawing. */
  close(): void {
    if (this.#closed) return;
    if (this.#mode === 'tty') this.#draw();
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #message(m: MonitorMessage): void {
    if (this.#closed) return;
    if (this.#mode === 'json') {
      this.#out.write(`${messageJson(m)}\n`);
      return;
    }
    if (this.#mode === 'lines') {
      this.#out.write(`${fitWidth(messageLine(m), this.#width)}\n`);
      return;
    }
    const notable = m.type !== 'DDATA' && m.type !== 'NDATA';
    if (notable || m.problems.length > 0) {
      const where = escapeControl(`${m.edgeNodeId}${m.deviceId === undefined ? '' : `/${m.deviceId}`}`);
      const problems = m.problems.length > 0 ? ` !! ${escapeControl(m.problems.join('; '))}` : '';
      this.#remember(
        `${clock(m.at)} ${m.type} ${where}${m.seq === undefined ? '' : ` seq ${m.seq}`}${problems}`,
      );
    }
  }

  #remember(line: string): void {
    this.#recent.push(line);
    if (this.#recent.length > RECENT) this.#recent.shift();
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      if (this.#closed) return;
      this.#draw();
      this.#schedule();
    }, REDRAW_MS);
    this.#timer.unref?.();
  }

  /** The terminal screen as lines (exported through render() for tests). */
  render(): string[] {
    const width = Math.max(40, this.#width);
    const lines: string[] = [...this.#header.map((h) => fitWidth(h, width))];
    const counts = Object.entries(this.#monitor.counts)
      .map(([type, n]) => `${type} ${n}`)
      .join('  ');
    lines.push(
      fitWidth(
        `messages: ${counts || 'none yet'}${this.#monitor.problems ? `  problems ${this.#monitor.problems}` : ''}`,
        width,
      ),
    );
    for (const node of this.#monitor.nodes.values()) {
      const online = [...node.devices.values()].filter((d) => d.state === 'online').length;
      lines.push(
        fitWidth(
          `${escapeControl(`${node.groupId}/${node.edgeNodeId}`)}  ${node.state}  bdSeq ${node.bdSeq ?? '-'}  seq ${node.seq ?? '-'}  ` +
            `devices ${online}/${node.devices.size} online  messages ${node.messages}  metrics ${node.metrics}` +
            (node.seqGaps ? `  seq gaps ${node.seqGaps}` : ''),
          width,
        ),
      );
      const devices = [...node.devices.values()];
      const idWidth = Math.min(
        24,
        Math.max(6, ...devices.map((d) => displayWidth(escapeControl(d.deviceId)))),
      );
      for (const d of devices) {
        const values = [...d.values]
          .filter(([, v]) => v !== undefined)
          .map(
            ([name, v]) =>
              `${escapeControl(name)}=${showValue(v, node.catalog.datatypes({ name }) as DataType)}`,
          )
          .join(' ');
        const id = fitWidth(escapeControl(d.deviceId), idWidth).padEnd(idWidth);
        lines.push(
          fitWidth(
            `  ${id}  ${d.state.padEnd(7)}  births ${d.births}  msgs ${String(d.messages).padStart(5)}  ${values}`,
            width,
          ),
        );
      }
    }
    if (this.#recent.length > 0) {
      lines.push('recent:');
      for (const r of this.#recent) lines.push(fitWidth(`  ${r}`, width));
    }
    return lines;
  }

  #draw(): void {
    this.#live.draw(this.render(), this.#width);
  }
}
