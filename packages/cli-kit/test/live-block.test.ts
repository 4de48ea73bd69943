// Lines redrawn in place: what reaches the terminal, and what a terminal would show.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayWidth, fitWidth, LiveBlock } from '../src/index';

function recorder() {
  const writes: string[] = [];
  return { writes, out: { write: (t: string) => writes.push(t) } };
}

describe('LiveBlock', () => {
  it('draws, then moves up over its last drawing, clearing each line and what was below', () => {
    const { writes, out } = recorder();
    const live = new LiveBlock(out);
    live.draw(['a', 'b', 'c']);
    live.draw(['d']);
    live.draw([]);
    expect(writes).toEqual([
      '\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc\n\x1b[J',
      '\x1b[3A\r\x1b[2Kd\n\x1b[J',
      '\x1b[1A\r\x1b[J',
    ]);
  });

  it('clears the screen instead when the width changed (the terminal may have re-wrapped the lines)', () => {
    const { writes, out } = recorder();
    const live = new LiveBlock(out);
    live.draw(['a', 'b'], 80);
    live.draw(['c'], 80);
    live.draw(['d'], 60);
    live.draw(['e'], 60);
    expect(writes.slice(1)).toEqual([
      '\x1b[2A\r\x1b[2Kc\n\x1b[J',
      '\x1b[H\x1b[2J\x1b[2Kd\n\x1b[J',
      '\x1b[1A\r\x1b[2Ke\n\x1b[J',
    ]);
  });
});

describe('fitWidth', () => {
  it('cuts to the width in terminal cells, ending in …; short text stays as it is', () => {
    expect(fitWidth('hello', 5)).toBe('hello');
    expect(fitWidth('hello!', 5)).toBe('hell…');
    expect(fitWidth('日本語テキスト', 6)).toBe('日本…');
    expect(fitWidth('hello', 1)).toBe('…');
    expect(fitWidth('hello', 0)).toBe('');
  });

  it('never takes more cells than the width', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 0, max: 40 }), (text, width) => {
        const out = fitWidth(text, width);
        expect(displayWidth(out)).toBeLessThanOrEqual(width);
        if (displayWidth(text) <= width) expect(out).toBe(text);
      }),
    );
  });
});
