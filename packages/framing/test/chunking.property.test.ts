// docs/protocols/tcpinterface.md G1: framing is chunking-invariant. For any byte stream and any split into chunks (1-byte chunks
// included), a sequence of reads returns exactly what a reference parser computes on the whole stream.

import { ByteReader, EofError, encodeFrame, LimitExceededError, OnreadSource } from '@labwire/framing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitAt } from '../src/bytes';
import { chunksOf, LendingSocket } from './helpers';

type Op =
  | { t: 'exact'; n: number }
  | { t: 'until'; delims: Uint8Array[]; include: boolean; maxBytes: number }
  | { t: 'frame'; maxBytes: number }
  | { t: 'expect'; pattern: Uint8Array; ignoreNul: boolean; maxBytes: number };

type Outcome = { ok: number[]; index?: number } | { err: string; partial?: number[] };

/** The reference: plain synchronous code over the whole stream. */
function reference(stream: Uint8Array, ops: readonly Op[]): Outcome[] {
  let pos = 0;
  const out: Outcome[] = [];
  const rest = () => Array.from(stream.subarray(pos));
  for (const op of ops) {
    const remaining = stream.length - pos;
    if (op.t === 'exact') {
      if (remaining >= op.n) {
        out.push({ ok: Array.from(stream.subarray(pos, pos + op.n)) });
        pos += op.n;
      } else {
        out.push({ err: 'Eof', partial: rest() });
        pos = stream.length;
      }
    } else if (op.t === 'until') {
      let bestEnd = Number.POSITIVE_INFINITY;
      let bestAt = -1;
      let bestIndex = -1;
      op.delims.forEach((d, i) => {
        for (let at = pos; at + d.length <= stream.length; at++) {
          let match = true;
          for (let k = 0; k < d.length; k++) if (stream[at + k] !== d[k]) match = false;
          if (match) {
            if (at + d.length < bestEnd) {
              bestEnd = at + d.length;
              bestAt = at;
              bestIndex = i;
            }
            break;
          }
        }
      });
      const longest = Math.max(...op.delims.map((d) => d.length));
      if (bestIndex >= 0 && bestAt - pos <= op.maxBytes) {
        const end = op.include ? bestEnd : bestAt;
        out.push({ ok: Array.from(stream.subarray(pos, end)), index: bestIndex });
        pos = bestEnd;
      } else if (bestIndex >= 0 || remaining >= op.maxBytes + longest) {
        out.push({ err: 'LimitExceeded' });
      } else {
        out.push({ err: 'Eof', partial: rest() });
        pos = stream.length;
      }
    } else if (op.t === 'frame') {
      if (remaining < 4) {
        out.push({ err: 'Eof', partial: rest() });
        pos = stream.length;
        continue;
      }
      const len = new DataView(stream.buffer, stream.byteOffset + pos, 4).getUint32(0);
      if (len > op.maxBytes) out.push({ err: 'LimitExceeded' });
      else if (remaining < 4 + len) {
        out.push({ err: 'Eof', partial: rest() });
        pos = stream.length;
      } else {
        out.push({ ok: Array.from(stream.subarray(pos + 4, pos + 4 + len)) });
        pos += 4 + len;
      }
    } else {
      const k = op.pattern.length;
      const window: number[] = [];
      let found = -1;
      let scanned = 0;
      for (let at = pos; at < stream.length; at++) {
        scanned = at - pos + 1;
        const b = stream[at]!;
        if (op.ignoreNul && b === 0) continue;
        window.push(b);
        if (window.length > k) window.shift();
        if (window.length === k && window.every((v, i) => v === op.pattern[i])) {
          found = at;
          break;
        }
      }
      if (found >= 0 && scanned <= op.maxBytes + k) {
        out.push({ ok: Array.from(stream.subarray(pos, found + 1)) });
        pos = found + 1;
      } else if (remaining >= op.maxBytes + k) {
        out.push({ err: 'LimitExceeded' });
      } else {
        out.push({ err: 'Eof', partial: rest() });
        pos = stream.length;
      }
    }
  }
  return out;
}

/**
 * Runs `ops` on a reader fed with `chunks`: from an async iterable, or (`landingBytes`) through an
 * OnreadSource whose one landing buffer every read reuses (the reader borrows it; see LendingSocket).
 */
async function actual(chunks: Uint8Array[], ops: readonly Op[], landingBytes?: number): Promise<Outcome[]> {
  let socket: LendingSocket | undefined;
  let reader: ByteReader;
  if (landingBytes === undefined) {
    reader = new ByteReader(chunksOf(chunks), { timeoutMs: 5_000, maxBuffer: 48 });
  } else {
    const source = new OnreadSource(landingBytes);
    socket = new LendingSocket();
    reader = new ByteReader(source.attach(socket), { timeoutMs: 5_000, maxBuffer: 48 });
    void socket.feed(source, chunks);
  }
  const out: Outcome[] = [];
  for (const op of ops) {
    try {
      if (op.t === 'exact') out.push({ ok: Array.from(await reader.readExactly(op.n)) });
      else if (op.t === 'until') {
        const r = await reader.readUntil(op.delims, { include: op.include, maxBytes: op.maxBytes });
        out.push({ ok: Array.from(r.data), index: r.index });
      } else if (op.t === 'frame')
        out.push({ ok: Array.from(await reader.readFrame({ maxBytes: op.maxBytes })) });
      else {
        const got = await reader.expect(op.pattern, {
          ignore: op.ignoreNul ? [0] : [],
          maxBytes: op.maxBytes,
        });
        out.push({ ok: Array.from(got) });
      }
    } catch (e) {
      if (EofError.isInstance(e)) out.push({ err: 'Eof', partial: Array.from(e.partial) });
      else if (LimitExceededError.isInstance(e)) out.push({ err: 'LimitExceeded' });
      else throw e;
    }
  }
  reader.close();
  socket?.destroy();
  return out;
}

// A small alphabet so that delimiters and patterns actually occur.
const byte = fc.constantFrom(0x00, 0x0a, 0x0d, 0x41, 0x42, 0x43);
const smallBytes = (max: number) =>
  fc.uint8Array({ minLength: 0, maxLength: max }).map((a) => a.map((b) => [0, 10, 13, 65, 66, 67][b % 6]!));
const delim = fc.array(byte, { minLength: 1, maxLength: 3 }).map((a) => Uint8Array.from(a));

const segmentAndOp: fc.Arbitrary<{ seg: Uint8Array; op: Op }> = fc.oneof(
  fc
    .nat({ max: 12 })
    .chain((n) =>
      smallBytes(n).map((seg) => ({ seg, op: { t: 'exact', n: Math.max(n, seg.length) } as Op })),
    ),
  fc
    .record({
      body: smallBytes(20),
      delims: fc.array(delim, { minLength: 1, maxLength: 3 }),
      include: fc.boolean(),
      maxBytes: fc.integer({ min: 0, max: 40 }),
    })
    .map(({ body, delims, include, maxBytes }) => ({
      seg: Uint8Array.from([...body, ...delims[0]!]),
      op: { t: 'until', delims, include, maxBytes } as Op,
    })),
  fc
    .record({ payload: smallBytes(30), maxBytes: fc.integer({ min: 0, max: 40 }) })
    .map(({ payload, maxBytes }) => ({
      seg: encodeFrame(payload),
      op: { t: 'frame', maxBytes } as Op,
    })),
  fc
    .record({
      body: smallBytes(10),
      pattern: delim,
      ignoreNul: fc.boolean(),
      maxBytes: fc.integer({ min: 0, max: 40 }),
    })
    .map(({ body, pattern, ignoreNul, maxBytes }) => ({
      seg: Uint8Array.from([...body, ...pattern]),
      op: { t: 'expect', pattern, ignoreNul, maxBytes } as Op,
    })),
);

const scenario = fc
  .record({
    parts: fc.array(segmentAndOp, { minLength: 1, maxLength: 6 }),
    tail: smallBytes(6),
    extraOps: fc.array(
      segmentAndOp.map((p) => p.op),
      { maxLength: 2 },
    ),
  })
  .chain(({ parts, tail, extraOps }) => {
    const stream = Uint8Array.from([...parts.flatMap((p) => [...p.seg]), ...tail]);
    const ops = [...parts.map((p) => p.op), ...extraOps];
    return fc
      .oneof(
        fc.constant<number[] | 'bytes'>('bytes'),
        fc.array(fc.integer({ min: 1, max: Math.max(1, stream.length - 1) }), { maxLength: 12 }),
      )
      .map((cuts) => ({ stream, ops, cuts }));
  });

describe('G1: every read primitive is chunking-invariant', () => {
  it('matches the reference parser for any stream and any chunking (1,000 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ stream, ops, cuts }) => {
        const expected = reference(stream, ops);
        const chunks =
          cuts === 'bytes' ? Array.from(stream, (_, i) => stream.subarray(i, i + 1)) : splitAt(stream, cuts);
        const whole = await actual([stream], ops);
        const split = await actual(chunks, ops);
        expect(whole).toEqual(expected);
        expect(split).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('holds when the chunks are lent from one reused landing buffer (OnreadSource), 500 cases', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.integer({ min: 1, max: 40 }), async ({ stream, ops, cuts }, landing) => {
        const expected = reference(stream, ops);
        const chunks = cuts === 'bytes' ? [stream] : splitAt(stream, cuts);
        expect(await actual(chunks, ops, landing)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
