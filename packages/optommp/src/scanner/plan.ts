// From points to block reads: each point's address and type, sorted by address, and neighbours merged
// into one read while the block stays within the device's block limit and the gap between two points is
// small (the EPIC channel stride by default, so a module's channels are one read).

import {
  Address,
  epicAnalogReadAddress,
  epicDigitalReadAddress,
  scratchPadFloat32Address,
  scratchPadInt32Address,
} from '../codec/addresses';
import type { WatchPoint } from '../watch';

export type PointType = 'f32' | 'i32' | 'u32' | 'bool';

/** Where a point's value sits in a block. */
export interface PointRead {
  /** The point's position in its group. */
  readonly index: number;
  /** Byte offset in the block. */
  readonly offset: number;
  readonly type: PointType;
}

/** One read block request and the points it carries. */
export interface Block {
  readonly address: number;
  readonly length: number;
  readonly reads: readonly PointRead[];
}

/** The address and type of a point's 4-byte value. */
export function locate(point: WatchPoint): { address: number; type: PointType } {
  switch (point.kind) {
    case 'analog':
      return { address: epicAnalogReadAddress(point.module, point.channel), type: 'f32' };
    case 'digital':
      return { address: epicDigitalReadAddress(point.module, point.channel), type: 'bool' };
    case 'int32':
      return { address: scratchPadInt32Address(point.index), type: 'i32' };
    case 'float32':
      return { address: scratchPadFloat32Address(point.index), type: 'f32' };
    case 'uptime':
      return { address: Address.Uptime, type: 'u32' };
    default:
      return { address: point.address, type: point.kind };
  }
}

/**
 * The block reads for `points`: neighbours (in address order) share a block while it stays within
 * `maxBlockBytes` and the bytes between two points are at most `maxGapBytes`.
 */
export function planBlocks(points: readonly WatchPoint[], maxBlockBytes: number, maxGapBytes = 64): Block[] {
  const located = points
    .map((p, index) => ({ index, ...locate(p) }))
    .sort((a, b) => a.address - b.address || a.index - b.index);
  const blocks: Block[] = [];
  let start = -1;
  let end = 0;
  let reads: PointRead[] = [];
  const flush = () => {
    if (start >= 0) blocks.push({ address: start, length: end - start, reads });
  };
  for (const p of located) {
    const pEnd = p.address + 4;
    const fits = start >= 0 && p.address - end <= maxGapBytes && Math.max(end, pEnd) - start <= maxBlockBytes;
    if (!fits) {
      flush();
      start = p.address;
      end = pEnd;
      reads = [];
    } else {
      end = Math.max(end, pEnd);
    }
    reads.push({ index: p.index, offset: p.address - start, type: p.type });
  }
  flush();
  return blocks;
}
