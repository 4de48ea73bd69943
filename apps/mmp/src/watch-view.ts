// `mmp watch` output: a table redrawn in place on a terminal, JSON lines otherwise.

import type { WatchSample } from '@labwire/optommp';
import type { CliOutput } from './io';

function show(value: number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return Number.isInteger(value) ? String(value) : value.toPrecision(7);
}

export class WatchView {
  readonly #out: CliOutput;
  readonly #tty: boolean;
  #drawn = 0;

  constructor(out: CliOutput, tty: boolean) {
    this.#out = out;
    this.#tty = tty;
  }

  sample(s: WatchSample): void {
    if (!this.#tty) {
      const values: Record<string, number | boolean> = {};
      for (const v of s.values) values[v.name] = v.value;
      this.#out.write(
        `${JSON.stringify({ sequence: s.sequence, time: new Date(s.time).toISOString(), values })}\n`,
      );
      return;
    }
    const width = Math.max(5, ...s.values.map((v) => v.name.length));
    const lines = [
      `${'point'.padEnd(width)}  value        (sample ${s.sequence + 1}, ${new Date(s.time).toISOString().slice(11, 23)})`,
      ...s.values.map((v) => `${v.name.padEnd(width)}  ${show(v.value)}`),
    ];
    // Move up over the previous table and redraw every line (ESC[nA up, ESC[2K clear line).
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const line of lines) text += `\r\x1b[2K${line}\n`;
    this.#drawn = lines.length;
    this.#out.write(text);
  }
}
