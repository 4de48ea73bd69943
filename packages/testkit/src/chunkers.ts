// Ways to cut a byte stream into chunks, for chunking-invariance tests (docs/protocols/tcpinterface.md G1, F1).

import type net from 'node:net';
import { randomInt } from './random';

/** Chunks of `size` bytes (the last one shorter). */
export function chunkEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  if (!(size >= 1)) throw new RangeError(`chunkEvery: size must be >= 1, got ${size}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** Chunks of 1..maxChunk bytes chosen by `random`. */
export function randomChunks(bytes: Uint8Array, maxChunk: number, random: () => number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = randomInt(random, 1, maxChunk);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** An async iterable yielding the chunks (a ByteReader source), each in its own turn of the event loop. */
export async function* streamOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield chunk;
  }
}

/** Writes the chunks to a socket with a pause between them, so the peer reads them separately. */
export async function writeChunks(
  socket: net.Socket,
  chunks: readonly Uint8Array[],
  delayMs = 1,
): Promise<void> {
  for (let i = 0; i < chunks.length; i++) {
    if (i > 0 && delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (socket.destroyed) return;
    socket.write(chunks[i]!);
  }
}
