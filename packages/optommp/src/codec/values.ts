// Typed values in OptoMMP memory: every number is big-endian, floats are IEEE-754 binary32 (docs/protocols/optommp.md §1).
// These replace the python package's broken packers (docs/protocols/optommp.md §4, D1–D3, D11).

// The readers below take the bytes themselves: a DataView per value costs more than the rest of a
// decode (~150 ns on Node 20; a whole uptime read's decode is this one value).

function checkAt(bytes: Uint8Array, at: number, size: number): void {
  if (!(at >= 0 && at + size <= bytes.length)) {
    throw new RangeError(`${size} bytes at offset ${at} are outside a ${bytes.length}-byte buffer`);
  }
}

/** u32 from 4 bytes at `at`. */
export function readU32(bytes: Uint8Array, at = 0): number {
  checkAt(bytes, at, 4);
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** i32 from 4 bytes at `at`. */
export function readI32(bytes: Uint8Array, at = 0): number {
  checkAt(bytes, at, 4);
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/** Scratch for one binary32: its bytes in the platform's order, read back as a float. */
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** f32 from 4 bytes at `at`. */
export function readF32(bytes: Uint8Array, at = 0): number {
  checkAt(bytes, at, 4);
  if (LITTLE_ENDIAN) {
    F32_BYTES[0] = bytes[at + 3]!;
    F32_BYTES[1] = bytes[at + 2]!;
    F32_BYTES[2] = bytes[at + 1]!;
    F32_BYTES[3] = bytes[at]!;
  } else {
    F32_BYTES[0] = bytes[at]!;
    F32_BYTES[1] = bytes[at + 1]!;
    F32_BYTES[2] = bytes[at + 2]!;
    F32_BYTES[3] = bytes[at + 3]!;
  }
  return F32[0]!;
}

/** i64 (as bigint) from 8 bytes at `at`. */
export function readI64(bytes: Uint8Array, at = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigInt64(at, false);
}

/** u64 (as bigint) from 8 bytes at `at`. */
export function readU64(bytes: Uint8Array, at = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, false);
}

/** u16 from 2 bytes at `at`. */
export function readU16(bytes: Uint8Array, at = 0): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/**
 * A 32-bit integer as 4 bytes: two's complement for negatives, so −2³¹ … 2³² − 1 are all accepted
 * (unsigned input for masks). The python package raises for values > 255 on Python 3 (D3).
 */
export function encodeInt32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0xffff_ffff) {
    throw new RangeError(`a 32-bit integer must be in -2147483648..4294967295, got ${value}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, false);
  return out;
}

/** A float as IEEE-754 binary32 big-endian (values round to the nearest float32; NaN/±Inf kept). */
export function encodeFloat32(value: number): Uint8Array {
  if (typeof value !== 'number') throw new TypeError(`a float32 value must be a number, got ${typeof value}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setFloat32(0, value, false);
  return out;
}

/** A 64-bit integer as 8 bytes big-endian: −2⁶³ … 2⁶⁴ − 1. */
export function encodeInt64(value: bigint): Uint8Array {
  if (typeof value !== 'bigint' || value < -(1n << 63n) || value >= 1n << 64n) {
    throw new RangeError(`a 64-bit integer must be a bigint in -2^63..2^64-1, got ${String(value)}`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), false);
  return out;
}

/** A 64-bit mask (scratch-pad bits, module quality): bits 63–32 first, then 31–0. */
export function encodeMask64(mask: bigint): Uint8Array {
  if (typeof mask !== 'bigint' || mask < 0n || mask >= 1n << 64n) {
    throw new RangeError(`a 64-bit mask must be a bigint in 0..2^64-1, got ${String(mask)}`);
  }
  return encodeInt64(mask);
}

const RELEASE_TYPES = ['A', 'B', 'R', 'S'];

/**
 * Firmware / loader version from `[major, minor, release type, build]`: release type 0 A, 1 B, 2 R, 3 S;
 * build 0 'a', 1 'b', … So `04 01 02 02` is "R4.1c" (docs/protocols/optommp.md §3.1; the python package gets this wrong on
 * Python 3, D1).
 */
export function decodeFirmwareVersion(bytes: Uint8Array, at = 0): string {
  const major = bytes[at]!;
  const minor = bytes[at + 1]!;
  const type = bytes[at + 2]!;
  const build = bytes[at + 3]!;
  const letter = RELEASE_TYPES[type] ?? `?${type}`;
  const buildText = build < 26 ? String.fromCharCode(97 + build) : `+${build}`;
  return `${letter}${major}.${minor}${buildText}`;
}

/** Four octets in dotted decimal. */
export function decodeIPv4(bytes: Uint8Array, at = 0): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** Dotted decimal to 4 bytes; anything else is a RangeError. */
export function encodeIPv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new RangeError(`not a dotted IPv4 address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map(Number));
}

/** Six bytes as two-digit uppercase hex joined by `-` (the Opto 22 style, docs/protocols/optommp.md D1). */
export function decodeMac(bytes: Uint8Array, at = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(bytes[at + i]!.toString(16).toUpperCase().padStart(2, '0'));
  return out.join('-');
}

/** `00-A0-3D-12-0A-FE` (or with `:`) to 6 bytes. */
export function encodeMac(text: string): Uint8Array {
  const parts = text.split(/[-:]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`not a MAC address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

/** Latin-1 text up to the first NUL (part numbers and dates are NUL-padded, docs/protocols/optommp.md D11). */
export function decodeAsciiz(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return latin1Of(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Bytes as latin-1 text (every byte one character). */
export function latin1Of(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Text as latin-1 bytes; a character above U+00FF is a RangeError, never silently mangled. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff)
      throw new RangeError(`character U+${c.toString(16).padStart(4, '0')} at ${i} is not latin-1`);
    out[i] = c;
  }
  return out;
}

/** A 64-bit mask from 8 bytes: the high word (bits 63–32) first. */
export function readMask64(bytes: Uint8Array, at = 0): bigint {
  return readU64(bytes, at);
}
