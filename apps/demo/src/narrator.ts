// Where the demo's words go: narration to stdout in text mode, nothing in JSON mode (the report is printed
// at the end). Progress bars go to stderr, only on a terminal. Lines wrap to the terminal's width, and
// what the simulators sent (an identification, a scratch pad string) is escaped on the way.

import type { Writable } from 'node:stream';
import { escapeControl, wrapText } from '@labwire/cli-kit';

export interface Narrator {
  /** A section heading. */
  section(title: string, blurb: string): void;
  /** A step starts. */
  step(title: string): void;
  /** One line of a step's narration (also kept in the report). */
  say(line: string): void;
  /** A step ended. */
  done(ok: boolean, result: string, ms: number): void;
  /** Whether progress bars may be drawn. */
  readonly progress: boolean;
  readonly err: Writable;
}

export function textNarrator(out: Writable, err: Writable, progress: boolean, width = 80): Narrator {
  const write = (text: string, indent = '') => {
    for (const paragraph of text.split('\n')) {
      const lines = wrapText(escapeControl(paragraph), Math.max(20, width - indent.length - 2));
      lines.forEach((l, i) => {
        out.write(`${i === 0 ? indent : `${indent}  `}${l}\n`);
      });
    }
  };
  return {
    progress,
    err,
    section(title, blurb) {
      out.write(`\n${title}\n${'═'.repeat(Math.min(title.length, width))}\n`);
      write(blurb);
    },
    step(title) {
      out.write('\n');
      write(`▶ ${title}`);
    },
    say(line) {
      write(line, '  ');
    },
    done(ok, result, ms) {
      write(`${ok ? '✓' : '✗'} ${result} (${ms.toFixed(0)} ms)`, '  ');
    },
  };
}

export function silentNarrator(err: Writable): Narrator {
  return { progress: false, err, section() {}, step() {}, say() {}, done() {} };
}
