// WireWriter: messages are built in scratch regions of a shared arena and copied out once. Writers may be
// nested or interleaved, outgrow their region, hold blocks by reference and open frames across all that;
// the bytes always come out as written.

import { concatBytes, toHex } from '@labwire/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { strBytes, WireWriter } from '../src/codec/wire-writer';

type Op = { u32: number } | { str: string } | { raw: Uint8Array } | { f64: number } | { frame: Op[] };

/** Writes `ops` and returns the bytes they must produce. */
function write(w: WireWriter, ops: readonly Op[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const op of ops) {
    if ('u32' in op) {
      w.u32(op.u32);
      out.push(be32(op.u32));
    } else if ('str' in op) {
      w.str(op.str);
      out.push(strBytes(op.str));
    } else if ('raw' in op) {
      w.raw(op.raw);
      out.push(op.raw);
    } else if ('f64' in op) {
      w.f64(op.f64, true);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, op.f64, true);
      out.push(b);
    } else {
      const mark = w.beginFrame();
      const payload = write(w, op.frame);
      w.endFrame(mark);
      out.push(be32(payload.length), payload);
    }
  }
  return concatBytes(out);
}

function be32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

const arbLeaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ u32: fc.nat() }),
  fc.record({ str: fc.string({ maxLength: 80 }).filter((s) => !/\p{Cs}/u.test(s)) }),
  fc.record({ raw: fc.uint8Array({ maxLength: 3000 }) }),
  fc.record({ f64: fc.double({ noNaN: true }) }),
);
const arbOps: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: arbLeaf },
    { weight: 1, arbitrary: fc.record({ frame: fc.array(arbLeaf) }) },
  ),
  { maxLength: 40 },
);

describe('WireWriter', () => {
  it('finish() and parts() give the bytes written, frames filled in, blocks by reference', () => {
    fc.assert(
      fc.property(arbOps, (ops) => {
        const a = new WireWriter();
        const expected = write(a, ops);
        expect(toHex(a.finish())).toBe(toHex(expected));
        a.release();
        const b = new WireWriter();
        write(b, ops);
        const parts = b.parts();
        b.release();
        expect(toHex(concatBytes(parts))).toBe(toHex(expected));
        const blocks = ops.filter((op): op is { raw: Uint8Array } => 'raw' in op && op.raw.length >= 1024);
        for (const { raw } of blocks) expect(parts).toContain(raw);
      }),
      { numRuns: 150 },
    );
  });

  it('interleaved and nested writers keep their own bytes, released in any order', () => {
    fc.assert(
      fc.property(arbOps, arbOps, arbOps, fc.boolean(), (first, second, third, releaseOuterFirst) => {
        const outer = new WireWriter();
        const half = Math.floor(first.length / 2);
        const expectedA = [write(outer, first.slice(0, half))];
        const inner = new WireWriter();
        const expectedInner = write(inner, second);
        expectedA.push(write(outer, first.slice(half)));
        const innerBytes = inner.finish();
        const outerBytes = outer.finish();
        if (releaseOuterFirst) {
          outer.release();
          inner.release();
        } else {
          inner.release();
          outer.release();
        }
        // A writer made afterwards reuses the arena without touching what was finished.
        const later = new WireWriter();
        const expectedLater = write(later, third);
        expect(toHex(later.finish())).toBe(toHex(expectedLater));
        later.release();
        expect(toHex(innerBytes)).toBe(toHex(expectedInner));
        expect(toHex(outerBytes)).toBe(toHex(concatBytes(expectedA)));
      }),
      { numRuns: 100 },
    );
  });

  it('a frame open while the message outgrows its scratch region gets the right length', () => {
    const w = new WireWriter();
    const mark = w.beginFrame();
    for (let i = 0; i < 5000; i++) w.u32(i);
    w.endFrame(mark);
    const bytes = w.finish();
    w.release();
    expect(bytes.length).toBe(4 + 20_000);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0)).toBe(20_000);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 + 4 * 4999)).toBe(4999);
  });

  it('writers that are never released only cost arena space: later ones still work', () => {
    for (let i = 0; i < 100; i++) new WireWriter().u32(i);
    const w = new WireWriter();
    w.str('still fine');
    expect(toHex(w.finish())).toBe(toHex(strBytes('still fine')));
    w.release();
  });

  it('finish() returns a buffer of its own, exactly the message', () => {
    const w = new WireWriter();
    w.str('abc');
    const bytes = w.finish();
    w.release();
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });
});
