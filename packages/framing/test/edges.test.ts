// Refusals, lifecycle edges and the less travelled paths of the reader, sendAll, OnreadSource and deadlines.

import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import {
  AbortedError,
  armDeadline,
  ByteReader,
  ClosedError,
  checkTimeout,
  EofError,
  encodeFrame,
  LimitExceededError,
  OnreadSource,
  StreamError,
  sendAll,
  TimeoutError,
  type WritableLike,
  writeFrame,
} from '@labwire/framing';
import { describe, expect, it, vi } from 'vitest';
import { readAll } from '../src/byte-reader';
import { bytes, chunksOf, LendingSocket, ManualSource, socketPair, text, tick } from './helpers';

type Read = (r: ByteReader, o: { signal?: AbortSignal; timeoutMs?: number }) => Promise<unknown>;
const reads: [string, Read][] = [
  ['readExactly', (r, o) => r.readExactly(1, o)],
  ['readUntil', (r, o) => r.readUntil('\n', o)],
  ['readFrame', (r, o) => r.readFrame(o)],
  ['readAvailable', (r, o) => r.readAvailable(10, o)],
  ['expect', (r, o) => r.expect('x', { ...o, ignore: [0] })],
  ['drain', (r, o) => r.drain(o)],
];

describe('every read refuses at once, typed, when it cannot start', () => {
  for (const [name, read] of reads) {
    it(name, async () => {
      const open = new ByteReader(new ManualSource(), { timeoutMs: 1000 });
      await expect(read(open, { signal: AbortSignal.abort('stop') })).rejects.toSatisfy((e: unknown) =>
        AbortedError.isInstance(e),
      );
      await expect(read(open, { timeoutMs: -1 })).rejects.toThrow(RangeError);
      open.close();
      await expect(read(open, {})).rejects.toSatisfy((e: unknown) => ClosedError.isInstance(e));
    });
  }
  it('readAvailable needs a positive maximum', async () => {
    const r = new ByteReader(new ManualSource());
    await expect(r.readAvailable(0)).rejects.toThrow(RangeError);
    r.close();
  });
});

describe('reader edges', () => {
  it('a source that already ended reads as EOF', async () => {
    const source = Readable.from([bytes('ab')]);
    source.resume();
    await new Promise((r) => source.once('end', r));
    const r = new ByteReader(source as unknown as Readable & { readableEnded: boolean });
    await expect(r.readExactly(1)).rejects.toSatisfy((e: unknown) => EofError.isInstance(e));
  });

  it('a drain running when the stream ends resolves with what it discarded', async () => {
    const src = new ManualSource();
    const r = new ByteReader(src, { timeoutMs: 1000 });
    const p = r.drain({ quietMs: 500 });
    src.push('junk');
    await tick(1);
    src.end();
    expect(await p).toBe(4);
  });

  it('compacts in place when consumed space makes room, and the bytes stay right', async () => {
    const src = new ManualSource();
    const r = new ByteReader(src, { timeoutMs: 1000 });
    const a = new Uint8Array(12 * 1024).map((_, i) => i & 0xff);
    const b = new Uint8Array(8 * 1024).map((_, i) => (i * 3) & 0xff);
    src.push(a);
    expect(await r.readExactly(10 * 1024)).toEqual(a.subarray(0, 10 * 1024));
    src.push(b);
    const rest = await r.readExactly(2 * 1024 + 8 * 1024);
    expect(rest.subarray(0, 2 * 1024)).toEqual(a.subarray(10 * 1024));
    expect(rest.subarray(2 * 1024)).toEqual(b);
  });

  it('a direct read cancelled before any byte arrived gives nothing back and breaks nothing', async () => {
    const src = new ManualSource();
    const r = new ByteReader(src, { timeoutMs: 1000 });
    await expect(r.readExactly(4, { into: new Uint8Array(4), timeoutMs: 5 })).rejects.toSatisfy(
      (e: unknown) => TimeoutError.isInstance(e),
    );
    src.push('wxyz');
    expect(text(await r.readExactly(4))).toBe('wxyz');
  });

  it('readAll collects until EOF and enforces its limit', async () => {
    expect(text(await readAll(new ByteReader(chunksOf([bytes('ab'), bytes('cd')]))))).toBe('abcd');
    await expect(
      readAll(new ByteReader(chunksOf([new Uint8Array(10), new Uint8Array(10)])), { maxBytes: 15 }),
    ).rejects.toSatisfy((e: unknown) => LimitExceededError.isInstance(e));
  });
});

/** A writable whose behaviour the test scripts: only for failures a real socket cannot be made to show. */
class ScriptedWritable extends EventEmitter implements WritableLike {
  constructor(readonly onWrite: (chunk: Uint8Array, cb?: (e?: Error | null) => void) => boolean) {
    super();
  }
  write(chunk: Uint8Array, cb?: (e?: Error | null) => void): boolean {
    return this.onWrite(chunk, cb);
  }
}

describe('writeFrame writes', () => {
  /** Records cork/uncork and every write; write() reports backpressure past 16 KiB, 'drain' follows. */
  class RecordingWritable extends EventEmitter implements WritableLike {
    log: (string | Uint8Array)[] = [];
    cork(): void {
      this.log.push('cork');
    }
    uncork(): void {
      this.log.push('uncork');
    }
    write(chunk: Uint8Array): boolean {
      this.log.push(chunk);
      if (chunk.length <= 16 * 1024) return true;
      setImmediate(() => this.emit('drain'));
      return false;
    }
  }

  it('a large frame leaves as its header and the payload itself (never copied), joined under one cork', async () => {
    const w = new RecordingWritable();
    const payload = new Uint8Array(300_000).fill(5);
    await writeFrame(w, payload);
    expect(w.log.length).toBe(4);
    expect(w.log[0]).toBe('cork');
    expect(Array.from(w.log[1] as Uint8Array)).toEqual([0x00, 0x04, 0x93, 0xe0]);
    expect(w.log[2]).toBe(payload);
    expect(w.log[3]).toBe('uncork');
  });

  it('a frame above one slice: the header goes with the first 1 MiB slice, the rest in slices after drain', async () => {
    const w = new RecordingWritable();
    const payload = new Uint8Array(2.5 * 1024 * 1024);
    await writeFrame(w, payload);
    const writes = w.log.filter((x): x is Uint8Array => typeof x !== 'string');
    expect(w.log.slice(0, 4).map((x) => (typeof x === 'string' ? x : x.length))).toEqual([
      'cork',
      4,
      1024 * 1024,
      'uncork',
    ]);
    expect(writes.map((x) => x.length)).toEqual([4, 1024 * 1024, 1024 * 1024, 512 * 1024]);
    expect(writes[1]!.buffer).toBe(payload.buffer);
  });

  it('a small frame is one write of header and payload together', async () => {
    const w = new RecordingWritable();
    await writeFrame(w, Uint8Array.of(1, 2, 3));
    expect(w.log.map((x) => (typeof x === 'string' ? x : Array.from(x)))).toEqual([[0, 0, 0, 3, 1, 2, 3]]);
  });
});

describe('sendAll edges', () => {
  it('an already aborted signal rejects before writing', async () => {
    const write = vi.fn(() => true);
    await expect(
      sendAll(new ScriptedWritable(write), Uint8Array.of(1), { signal: AbortSignal.abort() }),
    ).rejects.toSatisfy((e: unknown) => AbortedError.isInstance(e));
    expect(write).not.toHaveBeenCalled();
  });

  it('a write that fails at once is a StreamError with the cause', async () => {
    const boom = new Error('EPIPE');
    const w = new ScriptedWritable((_c, cb) => {
      cb?.(boom);
      return true;
    });
    const err = await sendAll(w, Uint8Array.of(1)).catch((e: unknown) => e);
    expect(StreamError.isInstance(err)).toBe(true);
    expect((err as StreamError).cause).toBe(boom);
    await expect(
      sendAll(
        new ScriptedWritable(() => {
          throw boom;
        }),
        Uint8Array.of(1),
      ),
    ).rejects.toSatisfy((e: unknown) => StreamError.isInstance(e));
  });

  it('large payloads: slices, abort between slices, error while waiting for drain', async () => {
    const slices: number[] = [];
    const ok = new ScriptedWritable((c) => {
      slices.push(c.length);
      return true;
    });
    await sendAll(ok, new Uint8Array(2.5 * 1024 * 1024), { timeoutMs: Number.POSITIVE_INFINITY });
    expect(slices).toEqual([1 << 20, 1 << 20, 0.5 * 1024 * 1024]);

    const ac = new AbortController();
    const full = new ScriptedWritable(() => false);
    const p = sendAll(full, new Uint8Array(3 << 20), { signal: ac.signal, timeoutMs: 1000 });
    ac.abort();
    await expect(p).rejects.toSatisfy((e: unknown) => AbortedError.isInstance(e));

    const failing = new ScriptedWritable(() => false);
    const q = sendAll(failing, new Uint8Array(3 << 20), { timeoutMs: 1000 });
    await tick(1);
    failing.emit('error', new Error('ECONNRESET'));
    await expect(q).rejects.toSatisfy((e: unknown) => StreamError.isInstance(e));
  });

  it('a socket closed while waiting for drain rejects with ClosedError', async () => {
    const { client, server, close } = await socketPair();
    server.pause();
    const p = sendAll(client, new Uint8Array(64 << 20), { timeoutMs: 5000 });
    await tick(20);
    client.destroy();
    await expect(p).rejects.toSatisfy((e: unknown) => ClosedError.isInstance(e) || StreamError.isInstance(e));
    await close();
  });
});

describe('OnreadSource edges', () => {
  it('pauses a socket attached after pause(), forwards errors only to listeners, detaches on re-attach', () => {
    const source = new OnreadSource(16);
    expect(source.readableEnded).toBe(false);
    expect(source.destroyed).toBe(false);
    source.pause();
    const calls: string[] = [];
    const fake = Object.assign(new EventEmitter(), {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      readableEnded: true,
      destroyed: false,
    });
    source.attach(fake);
    expect(calls).toEqual(['pause']);
    expect(source.readableEnded).toBe(true);
    fake.emit('error', new Error('no listener: swallowed, the owner handles it'));
    const seen: string[] = [];
    source.on('error', (e: Error) => seen.push(e.message));
    fake.emit('error', new Error('forwarded'));
    expect(seen).toEqual(['forwarded']);
    const other = Object.assign(new EventEmitter(), { pause() {}, resume() {} });
    source.attach(other);
    fake.on('error', () => {}); // the socket's owner listens; the detached source must not
    fake.emit('error', new Error('after detach'));
    expect(seen).toEqual(['forwarded']);
    source.resume();
    expect(calls).toEqual(['pause']);
    // The callback hands out views of the landing buffer and asks the socket to pause when paused.
    const got: number[][] = [];
    source.on('data', (c: Uint8Array) => got.push(Array.from(c)));
    source.onread.buffer.set([7, 8, 9]);
    expect(source.onread.callback(2, source.onread.buffer)).toBe(true);
    source.pause();
    expect(source.onread.callback(1, source.onread.buffer)).toBe(false);
    expect(got).toEqual([[7, 8], [7]]);
  });
});

describe('OnreadSource lending its landing buffer to a ByteReader', () => {
  const frameOf = (length: number, fill: number) => encodeFrame(new Uint8Array(length).fill(fill));

  it('large reads served from a lent chunk are copies, never views of the landing buffer', async () => {
    const source = new OnreadSource(300_000);
    const socket = new LendingSocket();
    const r = new ByteReader(source.attach(socket), { timeoutMs: 5000, maxFrame: 1 << 20 });
    // Two 70 000-byte frames and 100 000 loose bytes arrive in one read.
    const loose = new Uint8Array(100_000).fill(3);
    const chunk = Uint8Array.from([...frameOf(70_000, 1), ...frameOf(70_000, 2), ...loose]);
    const fed = socket.feed(source, [chunk]);
    const a = await r.readFrame();
    const b = await r.readFrame();
    const c = await r.readExactly(100_000);
    await fed; // the landing buffer has been scribbled over since
    expect(a.every((x) => x === 1) && a.length === 70_000).toBe(true);
    expect(b.every((x) => x === 2) && b.length === 70_000).toBe(true);
    expect(c.every((x) => x === 3)).toBe(true);
    expect(r.bytesRead).toBe(chunk.length);
    await expect(r.readExactly(1)).rejects.toSatisfy((e: unknown) => EofError.isInstance(e));
  });

  it('bytes left when the reader closes, peeks and EOF partials survive the reuse of the landing buffer', async () => {
    const source = new OnreadSource(64);
    const socket = new LendingSocket();
    const r = new ByteReader(source.attach(socket), { timeoutMs: 5000 });
    const fed = socket.feed(source, [bytes('HEAD'), bytes('tail-without-end')]);
    expect(text(await r.readExactly(4))).toBe('HEAD');
    await expect(r.readUntil('\n')).rejects.toSatisfy(
      (e: unknown) => EofError.isInstance(e) && text(e.partial) === 'tail-without-end',
    );
    await fed;
    const again = new OnreadSource(64);
    const other = new LendingSocket();
    const r2 = new ByteReader(again.attach(other), { timeoutMs: 5000 });
    await other.feed(again, [bytes('kept')]);
    expect(text(r2.peek())).toBe('kept');
    r2.close();
    // After close the source emits 'data' again, to whoever listens.
    const seen: string[] = [];
    again.on('data', (c: Uint8Array) => seen.push(text(c)));
    again.onread.buffer.set(bytes('x'));
    again.onread.callback(1, again.onread.buffer);
    expect(seen).toEqual(['x']);
  });

  it('a read that waits for more than the lent chunk moves its bytes into the reader and completes', async () => {
    const source = new OnreadSource(16);
    const socket = new LendingSocket();
    const r = new ByteReader(source.attach(socket), { timeoutMs: 5000 });
    const payload = new Uint8Array(100).map((_, i) => i);
    const framed = encodeFrame(payload);
    const reading = r.readFrame();
    const exact = r.readExactly(3);
    await socket.feed(source, [framed, Uint8Array.from([7, 8, 9])]);
    expect(Array.from(await reading)).toEqual(Array.from(payload));
    expect(Array.from(await exact)).toEqual([7, 8, 9]);
  });
});

describe('deadlines', () => {
  it('armDeadline: the timer or the signal wins once; clear disarms both; Infinity arms no timer', async () => {
    vi.useFakeTimers();
    try {
      const events: string[] = [];
      armDeadline(
        50,
        undefined,
        () => events.push('timeout'),
        () => events.push('abort'),
      );
      const ac = new AbortController();
      armDeadline(
        50,
        ac.signal,
        () => events.push('timeout2'),
        (r) => events.push(`abort:${String(r)}`),
      );
      ac.abort('why');
      const cleared = armDeadline(
        10,
        undefined,
        () => events.push('never'),
        () => events.push('never'),
      );
      cleared.clear();
      armDeadline(
        Number.POSITIVE_INFINITY,
        undefined,
        () => events.push('never'),
        () => events.push('never'),
      );
      await vi.advanceTimersByTimeAsync(100);
      expect(events).toEqual(['abort:why', 'timeout']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('checkTimeout accepts 0 and Infinity, refuses negatives and NaN', () => {
    expect(checkTimeout(undefined, 7)).toBe(7);
    expect(checkTimeout(0, 7)).toBe(0);
    expect(checkTimeout(Number.POSITIVE_INFINITY, 7)).toBe(Number.POSITIVE_INFINITY);
    expect(() => checkTimeout(-1, 7)).toThrow(RangeError);
    expect(() => checkTimeout(Number.NaN, 7)).toThrow(RangeError);
  });
});
