// Test helpers for framing (framing cannot use @labwire/testkit: testkit depends on framing).

import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { OnreadSource } from '@labwire/framing';

/** An async iterable that yields the given chunks, one per turn of the event loop's microtask queue. */
export async function* chunksOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

/** An async iterable fed by hand: push chunks, end, or fail, whenever the test wants. */
export class ManualSource implements AsyncIterable<Uint8Array> {
  #queue: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  #done = false;
  #error: unknown;
  push(chunk: Uint8Array | string): void {
    this.#queue.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
    this.#wake();
  }
  end(): void {
    this.#done = true;
    this.#wake();
  }
  fail(error: unknown): void {
    this.#error = error;
    this.#wake();
  }
  #wake() {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.#queue.length > 0) {
        yield this.#queue.shift()!;
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#done) return;
      await new Promise<void>((r) => {
        this.#waiter = r;
      });
    }
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Lets pending I/O callbacks and microtasks run. */
export const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A server on 127.0.0.1 with an ephemeral port, and a connected client/server socket pair. */
export async function socketPair(onread?: net.OnReadOpts): Promise<{
  client: net.Socket;
  server: net.Socket;
  close(): Promise<void>;
}> {
  const srv = net.createServer();
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  const client = net.connect({ port, host: '127.0.0.1', noDelay: true, ...(onread ? { onread } : {}) });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  const server = await accepted;
  return {
    client,
    server,
    close: async () => {
      client.destroy();
      server.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/**
 * Plays a socket read through `onread`, the way Node does it, for an OnreadSource: each chunk is copied
 * into the one landing buffer (cut to its size) and handed to the callback; the microtasks that read
 * queued run before the next read, and then the landing buffer is scribbled over (0xEE) so that a reader
 * keeping a view of it shows wrong bytes. Honours pause (the callback returning false) and resume; emits
 * 'end' and 'close' after the last chunk.
 */
export class LendingSocket extends EventEmitter {
  readableEnded = false;
  destroyed = false;
  #paused = false;
  #wake: (() => void) | undefined;

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wake?.();
  }

  /** Stops feeding (a paused feed returns). */
  destroy(): void {
    this.destroyed = true;
    this.#wake?.();
  }

  async feed(source: OnreadSource, chunks: readonly Uint8Array[]): Promise<void> {
    const landing = source.onread.buffer;
    const macrotask = () => new Promise<void>((r) => setImmediate(r));
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length; ) {
        while (this.#paused && !this.destroyed) await new Promise<void>((r) => (this.#wake = r));
        if (this.destroyed) return;
        const n = Math.min(landing.length, chunk.length - at);
        landing.set(chunk.subarray(at, at + n));
        at += n;
        if (!source.onread.callback(n, landing)) this.#paused = true;
        await macrotask();
        landing.fill(0xee);
      }
    }
    this.readableEnded = true;
    this.emit('end');
    this.emit('close');
  }
}
