import {
  AbortedError,
  ByteReader,
  ClosedError,
  EofError,
  encodeFrame,
  LimitExceededError,
  StreamError,
  TimeoutError,
} from '@labwire/framing';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../src/bytes';
import { bytes, chunksOf, ManualSource, text, tick } from './helpers';

const reader = (source: ManualSource, opts = {}) => new ByteReader(source, { timeoutMs: 2_000, ...opts });

describe('readExactly', () => {
  it('waits for exactly n bytes across chunks and leaves the rest', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const p = r.readExactly(5);
    src.push('ab');
    src.push('cdefg');
    expect(text(await p)).toBe('abcde');
    expect(r.buffered).toBe(2);
    expect(text(r.peek())).toBe('fg');
  });

  it('fills caller memory with into: the result is a view of it, the rest stays buffered', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const into = new Uint8Array(8);
    const p = r.readExactly(6, { into });
    src.push('abc');
    src.push('defgh');
    const got = await p;
    expect(text(got)).toBe('abcdef');
    expect(got.buffer).toBe(into.buffer);
    await tick(1);
    expect(text(r.peek())).toBe('gh');
    await expect(r.readExactly(9, { into })).rejects.toSatisfy((e: unknown) =>
      LimitExceededError.isInstance(e),
    );
  });

  it('returns an empty array for n = 0 without waiting', async () => {
    const r = reader(new ManualSource());
    expect((await r.readExactly(0)).length).toBe(0);
  });

  it('rejects a negative or fractional n', async () => {
    const r = reader(new ManualSource());
    await expect(r.readExactly(-1)).rejects.toThrow(RangeError);
    await expect(r.readExactly(1.5)).rejects.toThrow(RangeError);
  });

  it('a read whose bytes are buffered completes at once, in order with reads issued before and after', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('abcdefgh');
    await tick(1);
    const into = new Uint8Array(4);
    const first = r.readExactly(3);
    const second = r.readExactly(2, { into });
    const third = r.readExactly(5);
    expect(r.pending).toBe(1);
    expect(text(await first)).toBe('abc');
    const got = await second;
    expect(text(got)).toBe('de');
    expect(got.buffer).toBe(into.buffer);
    src.push('ijk');
    expect(text(await third)).toBe('fghij');
    expect(text(r.peek())).toBe('k');
  });
});

describe('onArrival', () => {
  it('is called in the source callback when no read is in line, and at the end; never for a queued read', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const seen: string[] = [];
    r.onArrival(() => {
      seen.push(`${r.buffered}${r.ended ? ' end' : ''}`);
      // It may take what arrived whole at once.
      if (r.buffered >= 3) r.discard(3);
    });
    src.push('ab');
    src.push('cd');
    await tick(1);
    expect(seen).toEqual(['2', '4']);
    expect(text(r.peek())).toBe('d');
    const waiting = r.readExactly(2);
    src.push('e');
    expect(text(await waiting)).toBe('de');
    expect(seen).toEqual(['2', '4']);
    r.onArrival(() => {
      throw new Error('swallowed');
    });
    src.push('f');
    await tick(1);
    expect(r.buffered).toBe(1);
    r.onArrival(() => seen.push(`${r.buffered}${r.ended ? ' end' : ''}`));
    src.end();
    await tick(1);
    expect(seen).toEqual(['2', '4', '1 end']);
    r.onArrival(undefined);
    r.close();
    expect(seen).toHaveLength(3);
  });
});

describe('peekInto', () => {
  it('copies what is buffered into caller memory without consuming it, at most its length', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const into = new Uint8Array(4).fill(0x2e);
    expect(r.peekInto(into)).toBe(0);
    src.push('ab');
    await tick(1);
    expect(r.peekInto(into)).toBe(2);
    expect(text(into)).toBe('ab..');
    src.push('cdefg');
    await tick(1);
    expect(r.peekInto(into)).toBe(4);
    expect(text(into)).toBe('abcd');
    expect(r.buffered).toBe(7);
    expect(r.discard(3)).toBe(true);
    expect(r.peekInto(into)).toBe(4);
    expect(text(into)).toBe('defg');
    expect(text(await r.readExactly(4))).toBe('defg');
    expect(r.peekInto(into)).toBe(0);
  });
});

describe('discard', () => {
  it('consumes buffered bytes at once, only when no read is in line and enough are buffered', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('abcdef');
    await tick(1);
    expect(r.discard(7)).toBe(false);
    expect(r.discard(-1)).toBe(false);
    expect(r.discard(1.5)).toBe(false);
    expect(r.discard(2)).toBe(true);
    expect(text(r.peek())).toBe('cdef');
    const waiting = r.readExactly(6);
    expect(r.discard(1)).toBe(false);
    expect(r.buffered).toBe(4);
    src.push('gh');
    expect(text(await waiting)).toBe('cdefgh');
    src.push('xy');
    await tick(1);
    r.close();
    expect(r.discard(1)).toBe(false);
  });
});

describe('peekView', () => {
  it('shows the buffered bytes without copying or consuming them; discard takes them', async () => {
    const src = new ManualSource();
    const r = reader(src);
    expect(r.peekView().length).toBe(0);
    src.push('abc');
    src.push('defg');
    await tick(1);
    const all = r.peekView();
    expect(text(all)).toBe('abcdefg');
    expect(text(r.peekView(3))).toBe('abc');
    // The reader's own memory, not a copy: a second view starts at the same place.
    const again = r.peekView(2);
    expect(again.buffer).toBe(all.buffer);
    expect(again.byteOffset).toBe(all.byteOffset);
    expect(r.buffered).toBe(7);
    expect(r.discard(4)).toBe(true);
    expect(text(r.peekView())).toBe('efg');
    expect(text(await r.readExactly(3))).toBe('efg');
    expect(r.peekView().length).toBe(0);
  });
});

describe('EOF in the middle of each primitive carries the partial bytes', () => {
  const cases: [string, (r: ByteReader) => Promise<unknown>, string][] = [
    ['readExactly', (r) => r.readExactly(10), 'abc'],
    ['readUntil', (r) => r.readUntil('\n'), 'abc'],
    ['readFrame (in the header)', (r) => r.readFrame(), '\x00\x00'],
    ['readFrame (in the payload)', (r) => r.readFrame(), '\x00\x00\x00\x09abc'],
    ['expect', (r) => r.expect('END'), 'abcEN'],
    ['expect with ignore', (r) => r.expect('END', { ignore: [0] }), 'abc\x00EN'],
  ];
  for (const [name, read, sent] of cases) {
    it(name, async () => {
      const src = new ManualSource();
      const r = reader(src);
      const p = read(r);
      src.push(sent);
      await tick(1);
      src.end();
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(EofError.isInstance(err)).toBe(true);
      expect(text((err as EofError).partial)).toBe(sent);
      expect((err as EofError).code).toBe('Eof');
      // After EOF every read fails at once with an empty partial.
      await expect(r.readExactly(1)).rejects.toSatisfy(
        (e: unknown) => EofError.isInstance(e) && e.partial.length === 0,
      );
    });
  }

  it('readAvailable reports EOF only when nothing is buffered', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('xy');
    src.end();
    expect(text(await r.readAvailable())).toBe('xy');
    await expect(r.readAvailable()).rejects.toSatisfy((e: unknown) => EofError.isInstance(e));
  });
});

describe('a read that times out or is aborted consumes nothing (docs/protocols/tcpinterface.md G2)', () => {
  const primitives: [
    string,
    (r: ByteReader, o: { timeoutMs?: number; signal?: AbortSignal }) => Promise<unknown>,
  ][] = [
    ['readExactly', (r, o) => r.readExactly(100, o)],
    ['readUntil', (r, o) => r.readUntil('\n', o)],
    ['readFrame', (r, o) => r.readFrame(o)],
    ['readFrame into', (r, o) => r.readFrame({ ...o, into: new Uint8Array(64) })],
    ['readExactly into', (r, o) => r.readExactly(100, { ...o, into: new Uint8Array(100) })],
    ['expect', (r, o) => r.expect('ZZ', o)],
    ['expect with ignore', (r, o) => r.expect('ZZ', { ...o, ignore: [0] })],
  ];
  // 0,0,0,9 then 'partial': a frame header with part of its payload, no newline, no ZZ.
  const sent = Uint8Array.from([0, 0, 0, 9, ...bytes('parti'), 0, ...bytes('al')]);
  for (const [name, read] of primitives) {
    it(`${name}: timeout`, async () => {
      const src = new ManualSource();
      const r = reader(src);
      src.push(sent.subarray(0, 6));
      const p = read(r, { timeoutMs: 30 });
      await tick(1);
      src.push(sent.subarray(6));
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(TimeoutError.isInstance(err)).toBe(true);
      expect((err as TimeoutError).code).toBe('Timeout');
      expect(Array.from(r.peek())).toEqual(Array.from(sent));
      expect(Array.from(await r.readExactly(sent.length))).toEqual(Array.from(sent));
    });
    it(`${name}: abort`, async () => {
      const src = new ManualSource();
      const r = reader(src);
      const ac = new AbortController();
      src.push(sent.subarray(0, 7));
      const p = read(r, { signal: ac.signal });
      await tick(1);
      src.push(sent.subarray(7));
      await tick(1);
      ac.abort(new Error('user stop'));
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(AbortedError.isInstance(err)).toBe(true);
      expect(((err as AbortedError).cause as Error).message).toBe('user stop');
      expect(Array.from(await r.readExactly(sent.length))).toEqual(Array.from(sent));
    });
  }

  it('an already aborted signal rejects at once and consumes nothing', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('abc');
    await tick(1);
    await expect(r.readExactly(1, { signal: AbortSignal.abort() })).rejects.toSatisfy((e: unknown) =>
      AbortedError.isInstance(e),
    );
    expect(text(await r.readExactly(3))).toBe('abc');
  });

  it('the timeout message shows the bytes that were buffered', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('OK');
    await expect(r.readUntil('\r\n', { timeoutMs: 10 })).rejects.toThrow(/4f 4b/);
  });
});

describe('readUntil', () => {
  it('with several delimiters reports which matched; the earliest-ending wins, ties by list order', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('one\r\ntwo;three\n');
    const a = await r.readUntil(['\r\n', '\n', ';']);
    expect([text(a.data), a.index, text(a.delimiter)]).toEqual(['one', 0, '\r\n']);
    const b = await r.readUntil(['\n', ';']);
    expect([text(b.data), b.index]).toEqual(['two', 1]);
    const c = await r.readUntil(['\n', 'e\n'], { include: true });
    expect([text(c.data), c.index]).toEqual(['three\n', 0]);
  });

  it('raises LimitExceededError and leaves the data in place when no delimiter shows up', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const p = r.readUntil('\n', { maxBytes: 8 });
    src.push('0123456789');
    await expect(p).rejects.toSatisfy((e: unknown) => LimitExceededError.isInstance(e) && e.limit === 8);
    expect(text(r.peek())).toBe('0123456789');
  });

  it('a delimiter beyond maxBytes is a limit error even when it is already buffered', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('0123456789\n');
    await tick(1);
    await expect(r.readUntil('\n', { maxBytes: 4 })).rejects.toSatisfy((e: unknown) =>
      LimitExceededError.isInstance(e),
    );
    expect(r.buffered).toBe(11);
  });

  it('rejects empty delimiters', async () => {
    const r = reader(new ManualSource());
    await expect(r.readUntil([])).rejects.toThrow(RangeError);
    await expect(r.readUntil('')).rejects.toThrow(RangeError);
  });

  it('finds a delimiter split across chunks at every split point', async () => {
    const msg = 'abc\r\ndef';
    for (let cut = 1; cut < msg.length; cut++) {
      const src = new ManualSource();
      const r = reader(src);
      const p = r.readUntil('\r\n');
      src.push(msg.slice(0, cut));
      src.push(msg.slice(cut));
      expect(text((await p).data)).toBe('abc');
      await tick(1);
      expect(text(r.peek())).toBe('def');
    }
  });
});

describe('readFrame', () => {
  it('decodes frames cut at every split point', async () => {
    const stream = Uint8Array.from([
      ...encodeFrame(bytes('hello')),
      ...encodeFrame(new Uint8Array(0)),
      ...encodeFrame(bytes('w')),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new ByteReader(chunksOf([stream.subarray(0, cut), stream.subarray(cut)]), {
        timeoutMs: 1000,
      });
      expect(text(await r.readFrame())).toBe('hello');
      expect((await r.readFrame()).length).toBe(0);
      expect(text(await r.readFrame())).toBe('w');
      await expect(r.readFrame()).rejects.toSatisfy((e: unknown) => EofError.isInstance(e));
    }
  });

  it('a length prefix of 0xFFFFFFFF with maxBytes 1 MiB raises before any allocation, data left in place', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const before = process.memoryUsage().arrayBuffers;
    const p = r.readFrame({ maxBytes: 1024 * 1024 });
    src.push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(LimitExceededError.isInstance(err)).toBe(true);
    expect((err as LimitExceededError).actual).toBe(0xffffffff);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(Array.from(r.peek())).toEqual([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
  });

  it('receives into caller memory: the result is a view of it', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const into = new Uint8Array(16);
    const p = r.readFrame({ into });
    src.push(Uint8Array.from([0, 0, 0, 5, 1, 2]));
    src.push(Uint8Array.from([3, 4, 5, 9]));
    const frame = await p;
    expect(Array.from(frame)).toEqual([1, 2, 3, 4, 5]);
    expect(frame.buffer).toBe(into.buffer);
    expect(Array.from(r.peek())).toEqual([9]);
  });

  it('into memory too small is a limit error with nothing consumed', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push(Uint8Array.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
    await expect(r.readFrame({ into: new Uint8Array(4) })).rejects.toSatisfy((e: unknown) =>
      LimitExceededError.isInstance(e),
    );
    expect(Array.from(await r.readFrame())).toEqual([1, 2, 3, 4, 5]);
  });

  it('large frames (>= 64 KiB) are views, never rewritten by later reads', async () => {
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const src = new ManualSource();
    const r = reader(src);
    src.push(encodeFrame(big));
    src.push(encodeFrame(new Uint8Array(100_000).fill(7)));
    const first = await r.readFrame();
    const second = await r.readFrame();
    // bytesEqual, not toEqual: a deep equality of 200 000 elements takes seconds under coverage.
    expect(bytesEqual(first, big)).toBe(true);
    expect(second.every((b) => b === 7)).toBe(true);
    expect(bytesEqual(first, big)).toBe(true);
  });

  it('a large frame or read still on its way fills memory of exactly its size; on abort every byte is given back', async () => {
    const big = new Uint8Array(150_000).map((_, i) => (i * 13) & 0xff);
    const framed = encodeFrame(big);
    const src = new ManualSource();
    const r = reader(src, { maxFrame: 1 << 20 });
    const ac = new AbortController();
    const reading = r.readFrame({ signal: ac.signal });
    src.push(framed.subarray(0, 70_000));
    await tick(1);
    ac.abort(new Error('stop'));
    await expect(reading).rejects.toSatisfy((e: unknown) => AbortedError.isInstance(e));
    expect(r.buffered).toBe(70_000);
    expect(Array.from(r.peek(8))).toEqual(Array.from(framed.subarray(0, 8)));
    const again = r.readFrame();
    src.push(framed.subarray(70_000));
    const frame = await again;
    expect(frame).toEqual(big);
    expect(frame.byteOffset).toBe(0);
    expect(frame.buffer.byteLength).toBe(big.length);

    const exact = r.readExactly(100_000);
    src.push(big.subarray(0, 60_000));
    await tick(1);
    src.push(big.subarray(60_000));
    const got = await exact;
    expect(got).toEqual(big.subarray(0, 100_000));
    expect(got.buffer.byteLength).toBe(100_000);
    expect(Array.from(await r.readExactly(50_000))).toEqual(Array.from(big.subarray(100_000)));
  });
});

describe('expect', () => {
  it('skips ignored bytes while matching and consumes through the pattern', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const p = r.expect('OK>', { ignore: [0] });
    src.push(Uint8Array.from([...bytes('xxO'), 0, ...bytes('K'), 0, 0, ...bytes('>rest')]));
    const got = await p;
    expect(Array.from(got)).toEqual([...bytes('xxO'), 0, ...bytes('K'), 0, 0, ...bytes('>')]);
    expect(text(r.peek())).toBe('rest');
  });

  it('an empty pattern matches at once without reading', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('abc');
    expect((await r.expect('')).length).toBe(0);
    expect(text(await r.readExactly(3))).toBe('abc');
  });
});

describe('drain', () => {
  it('discards until the line is quiet and reports how much it dropped', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('stale reply 1\n');
    const p = r.drain({ quietMs: 30 });
    await tick(5);
    src.push('late reply 2\n');
    expect(await p).toBe(27);
    src.push('fresh\n');
    expect(text((await r.readUntil('\n')).data)).toBe('fresh');
  });

  it('rejects with TimeoutError when the peer never goes quiet', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const timer = setInterval(() => src.push('x'), 2);
    await expect(r.drain({ quietMs: 50, timeoutMs: 80 })).rejects.toSatisfy((e: unknown) =>
      TimeoutError.isInstance(e),
    );
    clearInterval(timer);
  });
});

describe('queueing and lifecycle', () => {
  it('concurrent reads are served in call order, never interleaved', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const reads = Array.from({ length: 50 }, (_, i) =>
      r.readUntil('\n').then((x) => [i, text(x.data)] as const),
    );
    for (let i = 0; i < 50; i++) src.push(`line ${i}\n`.slice(0, 3));
    await tick(1);
    for (let i = 0; i < 50; i++) src.push(`line ${i}\n`.slice(3));
    // The chunks above were sliced without regard to lines; all that matters is order.
    const results = await Promise.all(reads);
    const joined =
      Array.from({ length: 50 }, (_, i) => `line ${i}\n`.slice(0, 3)).join('') +
      Array.from({ length: 50 }, (_, i) => `line ${i}\n`.slice(3)).join('');
    const expected = joined.split('\n').slice(0, 50);
    expect(results.map((x) => x[1])).toEqual(expected);
    expect(results.map((x) => x[0])).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('a queued read that times out is removed without disturbing the head', async () => {
    const src = new ManualSource();
    const r = reader(src);
    const head = r.readExactly(4);
    const queued = r.readExactly(4, { timeoutMs: 10 });
    await expect(queued).rejects.toSatisfy((e: unknown) => TimeoutError.isInstance(e));
    src.push('abcd');
    expect(text(await head)).toBe('abcd');
  });

  it('close() settles every pending read with ClosedError, and later reads reject', async () => {
    const r = reader(new ManualSource());
    const pending = [r.readExactly(1), r.readUntil('\n'), r.readFrame(), r.drain()];
    r.close();
    r.close();
    for (const p of pending) await expect(p).rejects.toSatisfy((e: unknown) => ClosedError.isInstance(e));
    await expect(r.readExactly(1)).rejects.toSatisfy((e: unknown) => ClosedError.isInstance(e));
    expect(r.pending).toBe(0);
  });

  it('a failing source rejects the head with StreamError carrying the cause, after buffered data is served', async () => {
    const src = new ManualSource();
    const r = reader(src);
    src.push('ab');
    await tick(1);
    src.fail(new Error('ECONNRESET'));
    expect(text(await r.readExactly(2))).toBe('ab');
    const err = await r.readExactly(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StreamError.isInstance(err)).toBe(true);
    expect(((err as StreamError).cause as Error).message).toBe('ECONNRESET');
  });

  it('[Symbol.asyncDispose] closes the reader', async () => {
    const src = new ManualSource();
    let p: Promise<unknown>;
    {
      await using r = reader(src);
      p = r.readExactly(3);
    }
    await expect(p).rejects.toSatisfy((e: unknown) => ClosedError.isInstance(e));
  });

  it('rejects a negative timeout', async () => {
    const r = reader(new ManualSource());
    await expect(r.readExactly(1, { timeoutMs: -5 })).rejects.toThrow(RangeError);
  });

  it('stops pulling from the source above maxBuffer until a read needs more (bounded memory)', async () => {
    let produced = 0;
    async function* endless() {
      for (let i = 0; i < 10_000; i++) {
        produced += 1024;
        yield new Uint8Array(1024);
      }
    }
    const r = new ByteReader(endless(), { maxBuffer: 8 * 1024, timeoutMs: 1000 });
    await tick(20);
    expect(r.buffered).toBeLessThanOrEqual(9 * 1024);
    expect(produced).toBeLessThanOrEqual(10 * 1024);
    await r.readExactly(32 * 1024);
    await tick(20);
    expect(produced).toBeLessThan(64 * 1024);
    r.close();
  });
});

describe('a source read by one reader after another', () => {
  it('keeps one late-error listener, however many readers it had', async () => {
    const { PassThrough } = await import('node:stream');
    const source = new PassThrough();
    const before = source.listenerCount('error');
    for (let i = 0; i < 50; i++) {
      const r = new ByteReader(source, { timeoutMs: 2_000 });
      source.write(Uint8Array.of(i));
      expect(Array.from(await r.readExactly(1))).toEqual([i]);
      r.close();
    }
    expect(source.listenerCount('error')).toBe(before + 1);
    // A late error after the last reader left is absorbed, not thrown as an unhandled 'error' event.
    source.emit('error', new Error('late'));
    source.destroy();
  });
});
