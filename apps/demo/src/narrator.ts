// Where the demo's words go: narration to stdout in text mode, nothing in JSON mode (the report is printed
// at the end). Progress bars go to stderr, only on a terminal.

import type { Writable } from 'node:stream';

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

export function textNarrator(out: Writable, err: Writable, progress: boolean): Narrator {
  return {
    progress,
    err,
    section(title, blurb) {
      out.write(`\n${title}\n${'═'.repeat(title.length)}\n${blurb}\n`);
    },
    step(title) {
      out.write(`\n▶ ${title}\n`);
    },
    say(line) {
      out.write(`  ${line}\n`);
    },
    done(ok, result, ms) {
      out.write(`  ${ok ? '✓' : '✗'} ${result} (${ms.toFixed(0)} ms)\n`);
    },
  };
}

export function silentNarrator(err: Writable): Narrator {
  return { progress: false, err, section() {}, step() {}, say() {}, done() {} };
}
