import net from 'node:net';
import { ByteReader, concatBytes } from '@labwire/framing';
import {
  chunkEvery,
  failOnUnhandled,
  installProcessGuard,
  randomChunks,
  seededRandom,
  splitAt,
  startTaggingServer,
  staticLookup,
  streamOf,
  taggedRequest,
  tagOf,
  watchForStorm,
} from '@labwire/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbChunkedBytes } from '../src/arbitraries';

describe('tagging server', () => {
  it('answers each request with its tag, a sequence number and the connection id; counts duplicates', async () => {
    await using server = await startTaggingServer();
    const s = net.connect({ port: server.port, host: '127.0.0.1' });
    const reader = new ByteReader(s, { timeoutMs: 2000 });
    s.write(concatBytes([taggedRequest(7), taggedRequest(8), taggedRequest(7)]));
    const replies = [
      await reader.readExactly(24),
      await reader.readExactly(24),
      await reader.readExactly(24),
    ];
    expect(replies.map(tagOf)).toEqual([7, 8, 7]);
    const view = new DataView(replies[1]!.buffer, replies[1]!.byteOffset);
    expect(view.getUint32(16)).toBe(1);
    expect(view.getUint32(20)).toBe(1);
    expect(server.requests).toBe(3);
    expect(server.duplicates).toBe(1);
    s.destroy();
  });
});

describe('chunkers and arbitraries', () => {
  it('every chunking concatenates back to the input', () => {
    fc.assert(
      fc.property(arbChunkedBytes({ maxLength: 64 }), ({ bytes, chunks }) => {
        expect(concatBytes(chunks)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
    const b = Uint8Array.from([1, 2, 3, 4, 5]);
    expect(splitAt(b, [3, 1, 3, 9]).map((c) => [...c])).toEqual([[1], [2, 3], [4, 5]]);
    expect(chunkEvery(b, 2).length).toBe(3);
    expect(concatBytes(randomChunks(b, 2, seededRandom(3)))).toEqual(b);
  });

  it('streamOf feeds a ByteReader', async () => {
    const reader = new ByteReader(streamOf([Uint8Array.of(1), Uint8Array.of(2, 3)]));
    expect([...(await reader.readExactly(3))]).toEqual([1, 2, 3]);
  });

  it('seededRandom is reproducible', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});

describe('staticLookup and the process guard', () => {
  it('answers in the given order, filtered by family', async () => {
    const lookup = staticLookup([
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const all = await new Promise((resolve) => lookup('localhost', { all: true }, (_e, a) => resolve(a)));
    expect(all).toEqual([
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ]);
    const v4 = await new Promise((resolve) => lookup('localhost', { family: 4 }, (_e, a) => resolve(a)));
    expect(v4).toBe('127.0.0.1');
  });

  it('records an unhandled rejection', async () => {
    const guard = installProcessGuard();
    try {
      process.emit('unhandledRejection', new Error('x'), Promise.resolve());
      expect(guard.take().map((s) => s.kind)).toEqual(['unhandledRejection']);
      expect(guard.take()).toEqual([]);
    } finally {
      guard.dispose();
    }
  });

  it('failOnUnhandled fails the test after which something was unhandled, and only that one', async () => {
    const each: (() => Promise<void>)[] = [];
    const all: (() => void)[] = [];
    failOnUnhandled({ afterEach: (fn) => each.push(fn), afterAll: (fn) => all.push(fn) });
    expect([each.length, all.length]).toEqual([1, 1]);
    try {
      await each[0]!(); // nothing happened
      process.emit('unhandledRejection', new Error('lost'), Promise.resolve());
      await expect(each[0]!()).rejects.toThrow(/unhandled during the test: unhandledRejection: Error: lost/);
      await each[0]!(); // recorded once, then cleared
    } finally {
      all[0]!();
    }
    const before = process.listenerCount('unhandledRejection');
    failOnUnhandled({ afterEach: () => undefined, afterAll: (fn) => fn() });
    expect(process.listenerCount('unhandledRejection')).toBe(before);
  });

  it('watchForStorm: a caller in a loop until close() resolved, and what the peer saw', async () => {
    const peer = { accepts: 0 };
    let closed = false;
    let callsAfterClose = 0;
    const watch = await watchForStorm({
      peer,
      watchMs: 50,
      call: async () => {
        if (closed) callsAfterClose++;
        peer.accepts++;
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      close: async () => {
        closed = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    expect(watch.calls).toBeGreaterThan(1);
    expect(watch.accepts).toBeGreaterThan(0);
    expect(watch.acceptsAfterClose).toBe(peer.accepts);
    expect(watch.acceptsAfterClose - watch.accepts).toBeLessThanOrEqual(1 + callsAfterClose);
    expect(watch.closeMs).toBeGreaterThanOrEqual(4);
    const idle = await watchForStorm({ peer: { accepts: 3 }, watchMs: 1, close: async () => {} });
    expect([idle.calls, idle.accepts, idle.acceptsAfterClose]).toEqual([0, 3, 3]);
  });
});
