// A block of lines redrawn in place on a terminal: a live table or status view that updates without
// scrolling. ESC[nA moves the cursor up over the previous drawing, ESC[2K clears each line before it is
// written again, ESC[J clears what the previous drawing had below (it may have been longer).

import type { CliOutput } from './program';

/** Redraws a block of lines in place on a terminal (cursor up, clear each line, clear below). */
export class LiveBlock {
  readonly #out: CliOutput;
  #drawn = 0;
  #width: number | undefined;

  constructor(out: CliOutput) {
    this.#out = out;
  }

  /**
   * Draws `lines` over the previous drawing. `width`: the terminal's width now; when it changed, the
   * lines drawn before may have been re-wrapped by the terminal, so moving up by their count would miss:
   * the screen is cleared instead (cursor home, erase display).
   */
  draw(lines: readonly string[], width?: number): void {
    const resized = width !== undefined && this.#width !== undefined && width !== this.#width;
    if (width !== undefined) this.#width = width;
    let text = this.#drawn === 0 ? '' : resized ? '\x1b[H\x1b[2J' : `\x1b[${this.#drawn}A\r`;
    for (const l of lines) text += `\x1b[2K${l}\n`;
    text += '\x1b[J';
    this.#drawn = lines.length;
    this.#out.write(text);
  }
}
