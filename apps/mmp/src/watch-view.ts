// `mmp watch` output: a table redrawn in place on a terminal, JSON lines otherwise. float32 points
// (analog channels, float scratch pad, f32 addresses) show at float32 precision, in both forms; point
// names are escaped for the terminal.

import { escapeControl, float32Shortest, formatFloat32, LiveBlock } from '@labwire/cli-kit';
import type { WatchPoint, WatchSample } from '@labwire/optommp';
import type { CliOutput } from './io';

const isFloat32 = (p: WatchPoint) => p.kind === 'analog' || p.kind === 'float32' || p.kind === 'f32';

function show(point: WatchPoint, value: number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return isFloat32(point) ? formatFloat32(value) : String(value);
}

export class WatchView {
  readonly #out: CliOutput;
  readonly #tty: boolean;
  readonly #live: LiveBlock;

  constructor(out: CliOutput, tty: boolean) {
    this.#out = out;
    this.#tty = tty;
    this.#live = new LiveBlock(out);
  }

  sample(s: WatchSample): void {
    if (!this.#tty) {
      const values: Record<string, number | boolean> = {};
      for (const v of s.values)
        values[v.name] =
          typeof v.value === 'number' && isFloat32(v.point) ? float32Shortest(v.value) : v.value;
      this.#out.write(
        `${JSON.stringify({ sequence: s.sequence, time: new Date(s.time).toISOString(), values })}\n`,
      );
      return;
    }
    const names = s.values.map((v) => escapeControl(v.name));
    const width = Math.max(5, ...names.map((n) => n.length));
    const lines = [
      `${'point'.padEnd(width)}  value        (sample ${s.sequence + 1}, ${new Date(s.time).toISOString().slice(11, 23)})`,
      ...s.values.map((v, i) => `${names[i]!.padEnd(width)}  ${show(v.point, v.value)}`),
    ];
    this.#live.draw(lines);
  }
}
