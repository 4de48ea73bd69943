// RequestQueue over a Connection built by hand, the queued reconnect(), and the link edges a queue meets.
import { fromLatin1, latin1 } from '@labwire/framing';
import { Connection, RequestQueue, TcpInterface, toLogger } from '@labwire/tcp';
import {
  LoopbackServer,
  nextEvent,
  settle,
  startEchoServer,
  startTaggingServer,
  taggedRequest,
  tagOf,
  waitFor,
} from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { isFieldsFirstLogger } from '../src/logger';
import type { ConnectionOptions } from '../src/options';
import { codeOf, fast, freePort, record, reply24 } from './helpers';

/** The connection half of `fast`. */
const quick: ConnectionOptions = {
  timeoutMs: fast.timeoutMs,
  connectTimeoutMs: fast.connectTimeoutMs,
  reconnect: fast.reconnect,
};

describe('reconnect() in the queue (SOCS _reset, paced)', () => {
  it('runs in FIFO order behind what was queued, discards what the old link buffered, comes back at once when healthy', async () => {
    await using server = await LoopbackServer.start((c) => {
      c.write(fromLatin1(`stale ${c.id}`));
      c.socket.on('data', (d: Uint8Array) => c.write(d));
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const { reasons } = record(tcp);
    await tcp.connect();
    await waitFor(() => tcp.counters.bytesIn >= 7);
    // Proves the link healthy (the echo of x comes after the greeting): a request that completed.
    expect(latin1(await tcp.request(fromLatin1('x'), (r, o) => r.readExactly(8, o)))).toBe('stale 1x');
    const scheduled: number[] = [];
    tcp.on('reconnectScheduled', (e) => scheduled.push(e.delayMs));
    const before = tcp.send(fromLatin1('before'));
    const reconnected = tcp.reconnect({ timeoutMs: 5_000 });
    const after = tcp.readExactly(7);
    await before;
    await reconnected;
    expect(reasons).toEqual(['dropped']);
    expect(scheduled).toEqual([0]);
    // The new link's greeting, not the old link's echo of "before" (dropped with the old link).
    expect(latin1(await after)).toBe('stale 2');
  });

  it('reports the reason it is given (a protocol above that found the line out of step says desync)', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const { reasons } = record(tcp);
    expect(latin1(await tcp.request(fromLatin1('ping'), (r, o) => r.readExactly(4, o)))).toBe('ping');
    const scheduled: number[] = [];
    tcp.on('reconnectScheduled', (e) => scheduled.push(e.delayMs));
    // Writes queued before it still leave on the old link; the reconnect runs behind them.
    const before = tcp.send(fromLatin1('old'));
    await tcp.reconnect({ reason: 'desync', timeoutMs: 5_000 });
    await before;
    expect(reasons).toEqual(['desync']);
    // A deliberate drop of a healthy link: back at once, and the new link serves the next request.
    expect(scheduled).toEqual([0]);
    expect(latin1(await tcp.request(fromLatin1('new!'), (r, o) => r.readExactly(4, o)))).toBe('new!');
    await waitFor(() => server.accepts === 2);
  });

  it('on a link that proved nothing it waits for the backoff window, within its deadline', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, {
      ...fast,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await tcp.connect();
    const r = await settle(tcp.reconnect({ timeoutMs: 50 }));
    expect(codeOf(r)).toBe('Timeout');
    expect(tcp.state).toBe('backoff');
    expect(server.accepts).toBe(1);
  });
});

describe('a RequestQueue on a Connection of its own', () => {
  it('connectOnDemand: false — after the peer ended the link, nothing reconnects and operations fail NotConnected', async () => {
    await using server = await startTaggingServer();
    const connection = new Connection('127.0.0.1', server.port, {
      ...quick,
      reconnect: false,
    });
    await using queue = new RequestQueue(connection, { connectOnDemand: false });
    expect(tagOf(await queue.request(taggedRequest(1), reply24))).toBe(1);
    await server.dropConnections();
    await nextEvent(queue, 'disconnected');
    const r = await settle(queue.request(taggedRequest(2), reply24));
    expect(codeOf(r)).toBe('NotConnected');
    expect(server.accepts).toBe(1);
    // A desync of the queue's own still asks for the next link (the line is replaced, not lost).
    await connection.connect();
    const late = await settle(
      queue.request(taggedRequest(3), (reader, o) => reader.readExactly(99, o), { timeoutMs: 50 }),
    );
    expect(codeOf(late)).toBe('Timeout');
    await waitFor(() => connection.connected && server.accepts === 3);
    expect(queue.counters.completed).toBe(1);
  });

  it('after the policy gave up, waiting and new operations fail NotConnected (cause: the last error)', async () => {
    const port = await freePort();
    const connection = new Connection('127.0.0.1', port, {
      ...quick,
      reconnect: { initialDelayMs: 2, maxDelayMs: 2, maxAttempts: 1 },
    });
    await using queue = new RequestQueue(connection);
    const waiting = settle(queue.request(taggedRequest(1), reply24, { timeoutMs: 5_000 }));
    await nextEvent(queue, 'reconnectStopped', 5_000);
    expect(codeOf(await waiting)).toBe('NotConnected');
    expect(codeOf(await settle(queue.send(fromLatin1('x'))))).toBe('NotConnected');
  });

  it('closing the connection settles the queue', async () => {
    await using server = await startTaggingServer({ replyDelayMs: () => 10_000 });
    const connection = new Connection('127.0.0.1', server.port, quick);
    const queue = new RequestQueue(connection, { timeoutMs: 5_000 });
    const pending = settle(queue.request(taggedRequest(1), reply24));
    await waitFor(() => server.requests === 1);
    await connection.close();
    expect(codeOf(await pending)).toBe('Closed');
    expect(codeOf(await settle(queue.recv()))).toBe('Closed');
    await queue.close();
  });

  it('the heartbeat probe is skipped while an operation is in progress', async () => {
    let heartbeats = 0;
    await using server = await startTaggingServer({
      replyDelayMs: (_seq, req) => (tagOf(req) === 7 ? 150 : 0),
      onRequest: (req) => {
        if (tagOf(req) === 0xbeef) heartbeats++;
      },
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, {
      ...fast,
      heartbeat: { intervalMs: 20, request: taggedRequest(0xbeef), read: reply24 },
    });
    await tcp.connect();
    // Quiet for 150 ms while the request waits for its reply: the ticks find it busy and probe nothing.
    expect(tagOf(await tcp.request(taggedRequest(7), reply24))).toBe(7);
    expect(heartbeats).toBe(0);
    await waitFor(() => heartbeats >= 1);
  });
});

describe('link sends at the edges', () => {
  it('an aborted signal, a bad deadline, and a send queued behind one that never finishes', async () => {
    await using server = await LoopbackServer.start((c) => {
      c.socket.pause();
    });
    await using conn = new Connection('127.0.0.1', server.port, quick);
    const link = await conn.connect();
    expect(codeOf(await settle(link.send(fromLatin1('x'), { signal: AbortSignal.abort() })))).toBe('Aborted');
    expect((await settle(link.send(fromLatin1('x'), { timeoutMs: -1 }))).ok).toBe(false);
    const stuck = settle(
      link.send(new Uint8Array(32 * 1024 * 1024), { timeoutMs: Number.POSITIVE_INFINITY }),
    );
    const queued = settle(link.send(fromLatin1('y'), { timeoutMs: Number.POSITIVE_INFINITY }));
    const aborted = new AbortController();
    const abortedInTurn = settle(link.send(fromLatin1('z'), { signal: aborted.signal }));
    aborted.abort();
    expect(codeOf(await abortedInTurn)).toBe('Aborted');
    link.drop();
    // Dropped under them: the one writing lost its link, the one waiting never wrote.
    expect(codeOf(await stuck)).toBe('ConnectionLost');
    expect(codeOf(await queued)).toBe('NotConnected');
  });

  it('a send that times out after it started writing drops the link (half a message is on the line)', async () => {
    await using server = await LoopbackServer.start((c) => {
      c.socket.pause();
    });
    await using conn = new Connection('127.0.0.1', server.port, quick);
    const link = await conn.connect();
    const r = await settle(link.send(new Uint8Array(32 * 1024 * 1024), { timeoutMs: 100 }));
    expect(codeOf(r)).toBe('SendTimeout');
    expect(link.downReason).toBe('desync');
  });
});

describe('logger detection', () => {
  it('recognises a bunyan-style logger (levels(), fields) and leaves other shapes alone', () => {
    const calls: unknown[][] = [];
    const bunyan = {
      child: () => bunyan,
      levels: () => [],
      fields: { name: 'app' },
      debug: (...a: unknown[]) => calls.push(a),
      info: (...a: unknown[]) => calls.push(a),
      warn: (...a: unknown[]) => calls.push(a),
      error: (...a: unknown[]) => calls.push(a),
    };
    expect(isFieldsFirstLogger(bunyan)).toBe(true);
    toLogger(bunyan).error('boom', { code: 7 });
    expect(calls).toEqual([[{ code: 7 }, 'boom']]);
    expect(isFieldsFirstLogger({ child: () => 0 })).toBe(false);
    expect(isFieldsFirstLogger(null)).toBe(false);
  });
});
