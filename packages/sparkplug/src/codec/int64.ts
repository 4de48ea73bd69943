// 64-bit integers between protobufjs (Long, or {low, high} for encoding) and JavaScript (number while
// safe, bigint beyond). Nothing is rounded in either direction.

import type Long from 'long';
import type { Int64 } from './types';

const TWO_32 = 4294967296;

/** An unsigned 64-bit wire value as a number when ≤ 2^53 − 1, else as a bigint. */
export function u64FromLong(value: Long | number): Int64 {
  if (typeof value === 'number') return value;
  const high = value.high >>> 0;
  const low = value.low >>> 0;
  if (high < 0x200000) return high * TWO_32 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** A signed 64-bit value (two's complement of the wire's uint64) as a number when safe, else a bigint. */
export function i64FromLong(value: Long | number): Int64 {
  if (typeof value === 'number') return value;
  const high = value.high | 0;
  const low = value.low >>> 0;
  // Safe when -2^53 < v < 2^53: high in [-2^21, 2^21) except the exact boundary, which bigint handles.
  if (high >= -0x200000 && high < 0x200000 && !(high === -0x200000 && low === 0)) return high * TWO_32 + low;
  return (BigInt(high) << 32n) | BigInt(low);
}

/** The bits of an unsigned 64-bit value as protobufjs's writer accepts them. */
export interface LongBits {
  low: number;
  high: number;
  unsigned: boolean;
}

/** A JavaScript integer (number or bigint) as 64 wire bits, two's complement for negatives. */
export function toLongBits(value: number | bigint): LongBits | number {
  if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) return value;
  const big = BigInt.asUintN(64, BigInt(value));
  return { low: Number(big & 0xffffffffn) | 0, high: Number(big >> 32n) | 0, unsigned: true };
}

export const U64_MAX = (1n << 64n) - 1n;
export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

/** True when `value` is an integer (number or bigint) in [min, max]. */
export function isIntegerIn(value: unknown, min: bigint, max: bigint): value is number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) return false;
    return BigInt(value) >= min && BigInt(value) <= max;
  }
  if (typeof value === 'bigint') return value >= min && value <= max;
  return false;
}
