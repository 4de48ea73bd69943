// Small byte helpers shared by every layer. Public byte types are Uint8Array; Buffers pass through.

const encoder = new TextEncoder();

/** Bytes from a string (UTF-8; identical to ASCII for instrument commands) or from bytes as they are. */
export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

/** Bytes as latin1 text: every byte becomes the code point of the same value (lossless). */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A latin1 string to bytes (code points above 255 are an error, not silently truncated). */
export function fromLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff)
      throw new RangeError(`character U+${c.toString(16).padStart(4, '0')} at ${i} is not a byte`);
    out[i] = c;
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A DataView over exactly these bytes, honouring byteOffset. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Short hex for messages: `54 45 53 54 … (+120 bytes)`. */
export function hexExcerpt(bytes: Uint8Array, max = 24): string {
  const shown = bytes.subarray(0, max);
  let s = '';
  for (let i = 0; i < shown.length; i++) s += (i ? ' ' : '') + shown[i]!.toString(16).padStart(2, '0');
  if (bytes.length > max) s += ` … (+${bytes.length - max} bytes)`;
  return s === '' ? '(empty)' : s;
}

/**
 * The u32 big-endian at `at` (a length prefix, a count). The caller checks that four bytes are there;
 * plain byte arithmetic, so it reads a Uint8Array at any byteOffset without a DataView.
 */
export function readU32BE(bytes: Uint8Array, at = 0): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Writes `value` (0..0xFFFFFFFF, checked by the caller) as a u32 big-endian at `at`. */
export function writeU32BE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/**
 * Cuts `bytes` at the given offsets (any order; duplicates and offsets outside 1..length-1 are ignored).
 * The pieces are views of `bytes` (no copy). Used by chunking tests in every layer.
 */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}
