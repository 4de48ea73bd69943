// request(…, { atHand }): a reply that arrives whole is taken inside the socket's read callback, without
// the reply reader; everything else (pieces, a reply the taker does not handle, EOF) still ends right, and
// deadline, abort and close settle a request that waits this way exactly as they settle any other.
import { type ByteReader, EofError, type OperationOptions } from '@labwire/framing';
import { ConnectionLostError, type ReplyAtHand, TcpInterface } from '@labwire/tcp';
import { LoopbackServer, settle, startTaggingServer, taggedRequest, tagOf, waitFor } from '@labwire/testkit';
import { describe, expect, it, vi } from 'vitest';
import { codeOf, fast, record, reply24 } from './helpers';

/**
 * Takes a 24-byte tagging-server reply when it is whole and echoes `tag`; hands anything else to the reply
 * reader. Records every verdict and whether a reply reader was queued on the reader when it ran.
 */
class TaggedReply implements ReplyAtHand<number> {
  value = -1;
  readonly verdicts: string[] = [];
  readsPending = 0;

  constructor(readonly tag: number) {}

  take(reader: ByteReader): 'taken' | 'wait' | 'read' {
    this.readsPending += reader.pending;
    const bytes = reader.peekView();
    let verdict: 'taken' | 'wait' | 'read';
    if (bytes.length >= 4 && tagOf(bytes) !== this.tag) verdict = 'read';
    else if (bytes.length < 24) verdict = 'wait';
    else if (bytes.length > 24) verdict = 'read';
    else {
      this.value = tagOf(bytes);
      reader.discard(24);
      verdict = 'taken';
    }
    this.verdicts.push(verdict);
    return verdict;
  }
}

/** The reply reader of the general path: reads a 24-byte reply, resolves with its tag. */
const tag24 = (reader: ByteReader, options: OperationOptions): Promise<number> =>
  reply24(reader, options).then(tagOf);

/** tag24, counting its runs. */
function countingReader(): { read: typeof tag24; runs: () => number } {
  let runs = 0;
  return {
    read: (reader, options) => {
      runs++;
      return tag24(reader, options);
    },
    runs: () => runs,
  };
}

describe('request(…, { atHand })', () => {
  it('takes replies that arrive whole in the read callback: the reply reader never runs', async () => {
    await using server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const general = countingReader();
    for (let tag = 1; tag <= 200; tag++) {
      const atHand = new TaggedReply(tag);
      const value = await tcp.request(taggedRequest(tag), general.read, {
        atHand,
      });
      expect(value).toBe(tag);
      expect(atHand.verdicts.at(-1)).toBe('taken');
      expect(atHand.readsPending).toBe(0);
    }
    expect(general.runs()).toBe(0);
    expect(tcp.counters.completed).toBe(200);
    expect(tcp.reader?.buffered).toBe(0);
    // The link proved the peer, as a request read through the reply reader does.
    expect(tcp.connection.link?.healthy).toBe(true);
  });

  it('concurrent callers: each reply is taken for its own request, in FIFO order', async () => {
    await using server = await startTaggingServer();
    // Every deadline runs from the call: the last of 300 queued requests waits for 299 round trips, which a
    // loaded machine may not do in `fast`'s 1 s.
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, timeoutMs: 10_000 });
    const tags = Array.from({ length: 300 }, (_, i) => i + 1);
    const values = await Promise.all(
      tags.map((tag) =>
        tcp.request(taggedRequest(tag), tag24, {
          atHand: new TaggedReply(tag),
        }),
      ),
    );
    expect(values).toEqual(tags);
  });

  it('a reply that comes in pieces: waits for every piece, then takes it whole', async () => {
    let release: (() => void) | undefined;
    await using server = await LoopbackServer.start(async (c) => {
      for (;;) {
        const request = await c.reader.readExactly(16);
        const reply = new Uint8Array(24);
        reply.set(request, 0);
        // One byte per write, each after the client saw the one before (event-based, not timed).
        for (let i = 0; i < 24; i++) {
          c.write(reply.subarray(i, i + 1));
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        }
      }
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const general = countingReader();
    const atHand = new TaggedReply(7);
    const seen = { verdicts: 0 };
    const wrapped: ReplyAtHand<number> = {
      get value() {
        return atHand.value;
      },
      take(reader) {
        const verdict = atHand.take(reader);
        seen.verdicts++;
        // Let the server write the next byte once this one was looked at.
        const r = release;
        release = undefined;
        setImmediate(() => r?.());
        return verdict;
      },
    };
    const value = await tcp.request(taggedRequest(7), general.read, {
      atHand: wrapped,
    });
    expect(value).toBe(7);
    expect(general.runs()).toBe(0);
    expect(atHand.verdicts.filter((v) => v === 'wait').length).toBeGreaterThanOrEqual(1);
    expect(atHand.verdicts.at(-1)).toBe('taken');
    expect(atHand.verdicts).not.toContain('read');
  });

  it("'read' hands the same bytes to the reply reader, which reports them as usual", async () => {
    await using server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const general = countingReader();
    // The taker expects tag 9 but the request carries 5: it declines, the reply reader reads all 24 bytes.
    const atHand = new TaggedReply(9);
    const value = await tcp.request(taggedRequest(5), general.read, { atHand });
    expect(value).toBe(5);
    expect(atHand.verdicts).toEqual(['read']);
    expect(general.runs()).toBe(1);
    expect(tcp.reader?.buffered).toBe(0);
    // The next request is taken at hand again.
    const next = new TaggedReply(6);
    expect(await tcp.request(taggedRequest(6), tag24, { atHand: next })).toBe(6);
    expect(next.verdicts.at(-1)).toBe('taken');
  });

  it('what take throws rejects that request only; the next one completes', async () => {
    await using server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const failing: ReplyAtHand<number> = {
      value: 0,
      take(reader) {
        if (reader.buffered < 24) return 'wait';
        reader.discard(24);
        throw new TypeError('decoder failed');
      },
    };
    const a = await settle(tcp.request(taggedRequest(1), tag24, { atHand: failing }));
    expect((a as { error: Error }).error).toBeInstanceOf(TypeError);
    const atHand = new TaggedReply(2);
    expect(await tcp.request(taggedRequest(2), tag24, { atHand })).toBe(2);
    expect(tcp.counters.disconnects).toBe(0);
  });

  it('EOF before the reply is whole: the reply reader reports it, with the bytes that came', async () => {
    await using server = await LoopbackServer.start(async (c) => {
      await c.reader.readExactly(16);
      c.write(new Uint8Array([0, 0, 0, 3, 0xaa]));
      c.socket.end();
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, reconnect: { auto: false } });
    const general = countingReader();
    const atHand = new TaggedReply(3);
    const e = (await settle(tcp.request(taggedRequest(3), general.read, { atHand }))) as { error: Error };
    expect(ConnectionLostError.isInstance(e.error)).toBe(true);
    const cause = e.error.cause as EofError;
    expect(EofError.isInstance(cause)).toBe(true);
    expect(cause.partial).toHaveLength(5);
    expect(general.runs()).toBe(1);
    expect(atHand.verdicts).not.toContain('taken');
  });
});

describe('a request waiting at hand settles on deadline, abort and close; late bytes reach no one', () => {
  /**
   * A server that answers request 1 with its first 5 bytes only and keeps the rest until `lateRest()`;
   * every other request in full.
   */
  async function halfAnswering() {
    let rest: (() => void) | undefined;
    const server = await LoopbackServer.start(async (c) => {
      for (;;) {
        const request = await c.reader.readExactly(16);
        const reply = new Uint8Array(24);
        reply.set(request, 0);
        if (tagOf(request) === 1) {
          c.write(reply.subarray(0, 5));
          rest = () => c.write(reply.subarray(5));
        } else {
          c.write(reply);
        }
      }
    });
    return { server, lateRest: () => rest?.() };
  }

  for (const desync of ['reconnect', 'drain'] as const) {
    it(`deadline (desync '${desync}'): TimeoutError with the bytes that came; the late rest is discarded`, async () => {
      const { server, lateRest } = await halfAnswering();
      await using _server = server;
      await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, desync, drainQuietMs: 300 });
      const { reasons } = record(tcp);
      await tcp.connect({ timeoutMs: 10_000 });
      const atHand = new TaggedReply(1);
      const general = countingReader();
      // Virtual time for the deadline (the request's watchdog reads performance.now()); real sockets and
      // timers otherwise. The deadline passes only after the first 5 bytes were seen, however slow the
      // machine.
      vi.useFakeTimers({ toFake: ['performance'] });
      let a: unknown;
      try {
        const pending = settle(tcp.request(taggedRequest(1), general.read, { atHand, timeoutMs: 150 }));
        await waitFor(() => atHand.verdicts.includes('wait'));
        vi.advanceTimersByTime(150);
        a = await pending;
      } finally {
        vi.useRealTimers();
      }
      expect(codeOf(a)).toBe('Timeout');
      expect((a as { error: { received: Uint8Array } }).error.received).toHaveLength(5);
      const takesAtTimeout = atHand.verdicts.length;
      // The rest of the timed-out reply arrives now: neither the old taker nor the next request sees it.
      const before = tcp.counters.bytesIn;
      lateRest();
      // Drain: the rest reaches the old link's drain (a replaced link never receives it).
      if (desync === 'drain') await waitFor(() => tcp.counters.bytesIn >= before + 19);
      const b = new TaggedReply(2);
      expect(await tcp.request(taggedRequest(2), tag24, { atHand: b })).toBe(2);
      expect(atHand.verdicts).toHaveLength(takesAtTimeout);
      expect(general.runs()).toBe(0);
      if (desync === 'reconnect') expect(reasons).toEqual(['desync']);
      else expect(tcp.counters.disconnects).toBe(0);
    });
  }

  it('abort: AbortedError, the line is resynchronised', async () => {
    const { server } = await halfAnswering();
    await using _server = server;
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const { reasons } = record(tcp);
    const controller = new AbortController();
    const atHand = new TaggedReply(1);
    const a = tcp.request(taggedRequest(1), tag24, {
      atHand,
      signal: controller.signal,
      timeoutMs: 10_000,
    });
    await waitFor(() => atHand.verdicts.includes('wait'));
    controller.abort();
    expect(codeOf(await settle(a))).toBe('Aborted');
    const b = new TaggedReply(2);
    expect(await tcp.request(taggedRequest(2), tag24, { atHand: b })).toBe(2);
    expect(reasons).toEqual(['desync']);
  });

  it('close(): the waiting request and the queued ones reject with ClosedError', async () => {
    const { server } = await halfAnswering();
    await using _server = server;
    const tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const atHand = new TaggedReply(1);
    const a = settle(tcp.request(taggedRequest(1), tag24, { atHand, timeoutMs: 10_000 }));
    const b = settle(tcp.request(taggedRequest(2), tag24, { atHand: new TaggedReply(2), timeoutMs: 10_000 }));
    await waitFor(() => atHand.verdicts.includes('wait'));
    await tcp.close();
    expect(codeOf(await a)).toBe('Closed');
    expect(codeOf(await b)).toBe('Closed');
    expect(atHand.verdicts).not.toContain('taken');
  });
});
