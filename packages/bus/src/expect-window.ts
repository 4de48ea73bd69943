// Pyrame's expect (docs/protocols/cmd_tcp.md §9; buses.py expect): a window of k bytes, k = pattern length, starts as k NUL
// bytes; each byte read that is not NUL is shifted in; the match is window == pattern, tested before the
// first read and after every byte. So:
//   - an empty pattern, or one made only of NULs, matches at once without reading;
//   - a pattern without NUL matches the first time the stream, NULs removed, ends with it;
//   - a pattern that mixes NUL and other bytes can only match through the initial NUL padding (leading
//     NULs, within the first bytes of the stream) and otherwise never.
// The bus implements the first two exactly and refuses the third (see `classifyExpectPattern`).

/** How an expect pattern behaves under Pyrame's window. */
export type ExpectPatternKind = 'immediate' | 'tail' | 'mixed';

export function classifyExpectPattern(pattern: Uint8Array): ExpectPatternKind {
  let nuls = 0;
  for (const b of pattern) if (b === 0) nuls++;
  if (nuls === pattern.length) return 'immediate';
  return nuls === 0 ? 'tail' : 'mixed';
}

/** The reference model of Pyrame's expect window, byte by byte. */
export class ExpectWindow {
  readonly #pattern: Uint8Array;
  readonly #window: Uint8Array;
  #matched: boolean;

  constructor(pattern: Uint8Array) {
    this.#pattern = pattern;
    this.#window = new Uint8Array(pattern.length);
    this.#matched = this.#test();
  }

  /** True once the window equals the pattern. */
  get matched(): boolean {
    return this.#matched;
  }

  /** Feeds one byte read from the stream; NUL bytes are skipped. Returns `matched`. */
  push(byte: number): boolean {
    if (this.#matched || byte === 0) return this.#matched;
    const w = this.#window;
    if (w.length > 0) {
      w.copyWithin(0, 1);
      w[w.length - 1] = byte;
    }
    this.#matched = this.#test();
    return this.#matched;
  }

  #test(): boolean {
    const w = this.#window;
    const p = this.#pattern;
    for (let i = 0; i < p.length; i++) if (w[i] !== p[i]) return false;
    return true;
  }
}

/**
 * Runs Pyrame's expect over `stream`: the number of bytes consumed when the pattern is found (0 when it
 * matches before reading), or -1 when the stream ends first.
 */
export function pyrameExpect(pattern: Uint8Array, stream: Uint8Array): number {
  const window = new ExpectWindow(pattern);
  if (window.matched) return 0;
  for (let i = 0; i < stream.length; i++) if (window.push(stream[i]!)) return i + 1;
  return -1;
}
