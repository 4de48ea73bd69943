// fast-check arbitraries shared by the labwire test suites.

import { splitAt } from '@labwire/framing';
import fc from 'fast-check';

/** Bytes of a bounded length. */
export function arbBytes(options: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: options.minLength ?? 0, maxLength: options.maxLength ?? 256 });
}

/** A way to cut `length` bytes: sorted cut offsets in (0, length). */
export function arbCuts(length: number, maxCuts = 32): fc.Arbitrary<number[]> {
  if (length <= 1) return fc.constant([]);
  return fc
    .uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: Math.min(maxCuts, length - 1) })
    .map((cuts) => cuts.sort((a, b) => a - b));
}

/** `bytes` cut into arbitrary chunks (single bytes included); the chunks concatenate back to `bytes`. */
export function arbChunking(bytes: Uint8Array, maxCuts = 32): fc.Arbitrary<Uint8Array[]> {
  return arbCuts(bytes.length, maxCuts).map((cuts) => splitAt(bytes, cuts));
}

/** Arbitrary bytes together with an arbitrary chunking of them. */
export function arbChunkedBytes(
  options: { minLength?: number; maxLength?: number; maxCuts?: number } = {},
): fc.Arbitrary<{ bytes: Uint8Array; chunks: Uint8Array[] }> {
  return arbBytes(options).chain((bytes) =>
    arbChunking(bytes, options.maxCuts).map((chunks) => ({ bytes, chunks })),
  );
}

/** A non-empty delimiter of 1..maxLength bytes. */
export function arbDelimiter(maxLength = 3): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: 1, maxLength });
}

/** Messages that do not contain `delimiter`, each followed by it: the wire form of a line protocol. */
export function arbDelimitedMessages(
  delimiter: Uint8Array,
  options: { maxMessages?: number; maxLength?: number } = {},
): fc.Arbitrary<Uint8Array[]> {
  const first = delimiter[0]!;
  return fc.array(
    fc.uint8Array({ maxLength: options.maxLength ?? 32 }).map((m) => m.filter((b) => b !== first)),
    { maxLength: options.maxMessages ?? 8 },
  );
}

/** Timing faults for a proxy direction: slicing and latency kept small enough for fast tests. */
export function arbFaultTiming(): fc.Arbitrary<{ sliceMax: number; latencyMs: number }> {
  return fc.record({ sliceMax: fc.integer({ min: 1, max: 8 }), latencyMs: fc.integer({ min: 0, max: 3 }) });
}
