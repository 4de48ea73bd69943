// Edge cases of the operation queue, the connect path, the heartbeat and the error classes.
import { ClosedError, DecodeError, EofError, fromLatin1, LabwireError, latin1 } from '@labwire/framing';
import {
  ConnectionError,
  ConnectionLostError,
  ConnectTimeoutError,
  TcpError,
  TcpInterface,
} from '@labwire/tcp';
import {
  hangingLookup,
  LoopbackServer,
  nextEvent,
  settle,
  startEchoServer,
  startTaggingServer,
  staticLookup,
  taggedRequest,
  tagOf,
  waitFor,
} from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import {
  ConnectFailedError,
  ConnectionResetError,
  ConnectRefusedError,
  NotConnectedError,
} from '../src/errors';
import { codeOf, fast, freePort, record, reply24 } from './helpers';

describe('argument and option checks', () => {
  it('rejects bad arguments without touching the line', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    expect((await settle(tcp.recv(0))) as object).toMatchObject({ ok: false });
    expect(codeOf(await settle(tcp.request(Uint8Array.of(1), reply24, { timeoutMs: -1 })))).toBeUndefined();
    const aborted = AbortSignal.abort(new Error('no'));
    expect(codeOf(await settle(tcp.send(Uint8Array.of(1), { signal: aborted })))).toBe('Aborted');
    expect(codeOf(await settle(tcp.connect({ timeoutMs: -5 })))).toBeUndefined();
    await tcp.send(fromLatin1('still fine'));
    expect(latin1(await tcp.readExactly(10))).toBe('still fine');
  });

  it('an empty host is reported, not thrown', async () => {
    await using tcp = new TcpInterface('', 5025, fast);
    expect(tcp.state).toBe('closed');
    expect(ConnectFailedError.isInstance(tcp.lastError)).toBe(true);
    const r = await settle(tcp.connect());
    expect(ConnectFailedError.isInstance((r as { error: unknown }).error)).toBe(true);
  });

  it('timeoutMs: Infinity disables the deadline of one operation', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const pending = tcp.readExactly(3, { timeoutMs: Number.POSITIVE_INFINITY });
    await tcp.connect();
    await waitFor(() => server.sockets.length === 1);
    server.sockets[0]!.write(fromLatin1('abc'));
    expect(latin1(await pending)).toBe('abc');
  });
});

describe('the queue', () => {
  it('an operation aborted while queued is removed without being written', async () => {
    await using server = await startTaggingServer({ replyDelayMs: (seq) => (seq === 0 ? 40 : 0) });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const controller = new AbortController();
    const a = tcp.request(taggedRequest(1), reply24);
    const b = settle(tcp.request(taggedRequest(2), reply24, { signal: controller.signal }));
    const c = tcp.request(taggedRequest(3), reply24);
    controller.abort();
    expect(codeOf(await b)).toBe('Aborted');
    expect([tagOf(await a), tagOf(await c)]).toEqual([1, 3]);
    expect(server.requests).toBe(2);
  });

  it('thousands of queued sends stay in order (queue compaction)', async () => {
    const received: number[] = [];
    await using server = await LoopbackServer.start(async (c) => {
      for (;;) received.push((await c.reader.readExactly(2))[1]!);
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, timeoutMs: 10_000 });
    const sends = Array.from({ length: 3000 }, (_, i) => tcp.send(Uint8Array.of(0, i & 0xff)));
    await Promise.all(sends);
    await waitFor(() => received.length === 3000);
    expect(received.every((v, i) => v === (i & 0xff))).toBe(true);
    expect(tcp.pending).toBe(0);
  });

  it('a request larger than the socket buffer waits for drain and still leaves in order', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const big = new Uint8Array(512 * 1024).map((_, i) => i & 0xff);
    const huge = new Uint8Array(3 * 1024 * 1024).fill(9);
    const [a, b] = await Promise.all([
      tcp.request(big, (r, o) => r.readExactly(big.length, o)),
      tcp.request(huge, (r, o) => r.readExactly(huge.length, { ...o, timeoutMs: 5_000 }), {
        timeoutMs: 5_000,
      }),
    ]);
    // Buffer.equals, not toEqual: a deep compare of 512 Ki elements takes seconds on a loaded machine.
    expect(Buffer.from(a.buffer, a.byteOffset, a.length).equals(big)).toBe(true);
    expect(b.length).toBe(huge.length);
    expect(b.every((x) => x === 9)).toBe(true);
  });

  it('a reply reader that fails after consuming the whole reply keeps the link; leftovers desynchronise', async () => {
    await using server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const { reasons } = record(tcp);
    const clean = await settle(
      tcp.request(taggedRequest(1), async (r, o) => {
        await r.readExactly(24, o);
        throw new DecodeError('device said no', 0);
      }),
    );
    expect(codeOf(clean)).toBe('Decode');
    expect(reasons).toEqual([]);
    // Half a reply left behind: the next caller must not see it.
    const leftover = await settle(
      tcp.request(taggedRequest(2), async (r, o) => {
        await r.readExactly(4, o);
        throw new Error('not a labwire error');
      }),
    );
    expect((leftover as { error: Error }).error.message).toBe('not a labwire error');
    expect(reasons).toEqual(['desync']);
    await waitFor(() => tcp.state === 'connected');
    const limit = await settle(
      tcp.request(taggedRequest(3), (r, o) => r.readUntil('\n', { ...o, maxBytes: 4 })),
    );
    expect(codeOf(limit)).toBe('LimitExceeded');
    expect(reasons).toEqual(['desync', 'desync']);
    expect(tagOf(await tcp.request(taggedRequest(4), reply24))).toBe(4);
  });
});

describe('connect edges', () => {
  it('a resolver failure is ConnectFailedError with the cause', async () => {
    await using tcp = new TcpInterface('nowhere.invalid', 5025, {
      ...fast,
      reconnect: false,
      lookup: staticLookup([]),
    });
    const r = await settle(tcp.connect());
    const error = (r as { error: ConnectFailedError }).error;
    expect(ConnectFailedError.isInstance(error)).toBe(true);
    expect(error.code).toBe('ConnectFailed');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });

  it("connect()'s own deadline can be shorter than the attempt's; the attempt goes on", async () => {
    const lookup = hangingLookup();
    await using tcp = new TcpInterface('device.invalid', 5025, {
      ...fast,
      connectTimeoutMs: 100,
      reconnect: false,
      lookup: lookup.lookup,
    });
    const r = await settle(tcp.connect({ timeoutMs: 10 }));
    expect(codeOf(r)).toBe('Timeout');
    expect(tcp.state).toBe('connecting');
    const attempt = await settle(tcp.connect());
    expect(ConnectTimeoutError.isInstance((attempt as { error: unknown }).error)).toBe(true);
    lookup.release();
  });

  it('close() while connecting rejects the waiters with ClosedError', async () => {
    const lookup = hangingLookup();
    const tcp = new TcpInterface('device.invalid', 5025, { ...fast, lookup: lookup.lookup });
    const waiting = settle(tcp.connect());
    const request = settle(tcp.request(taggedRequest(1), reply24));
    await waitFor(() => lookup.calls === 1);
    await tcp.close();
    expect(ClosedError.isInstance(((await waiting) as { error: unknown }).error)).toBe(true);
    expect(ClosedError.isInstance(((await request) as { error: unknown }).error)).toBe(true);
    expect(codeOf(await settle(tcp.connect()))).toBe('Closed');
    lookup.release();
  });

  it('connect() during a backoff delay waits for the scheduled attempt (no path skips the window)', async () => {
    const port = await freePort();
    await using tcp = new TcpInterface('127.0.0.1', port, {
      ...fast,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await nextEvent(tcp, 'reconnectScheduled');
    await using again = await startEchoServer({ port });
    const r = await settle(tcp.connect({ timeoutMs: 50 }));
    expect(codeOf(r)).toBe('Timeout');
    expect(tcp.state).toBe('backoff');
    expect(again.accepts).toBe(0);
  });

  it('operations issued while connecting wait for that connect; with offlineQueue they ride out failures', async () => {
    const port = await freePort();
    await using tcp = new TcpInterface('127.0.0.1', port, {
      ...fast,
      offlineQueue: 4,
      reconnect: { initialDelayMs: 20, maxDelayMs: 20 },
    });
    const request = tcp.request(taggedRequest(7), reply24, { timeoutMs: 2_000 });
    await waitFor(() => tcp.counters.connectFailures >= 2);
    await using again = await startTaggingServer({ port });
    expect(tagOf(await request)).toBe(7);
    expect(again.accepts).toBe(1);
  });
});

describe('heartbeat', () => {
  it('is not sent while the link is busy and rearms after each success', async () => {
    let heartbeats = 0;
    await using server = await startTaggingServer({
      onRequest: (req) => {
        if (tagOf(req) === 0xbeef) heartbeats++;
      },
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, {
      ...fast,
      heartbeat: { intervalMs: 30, request: taggedRequest(0xbeef), read: reply24 },
    });
    await tcp.connect();
    const until = performance.now() + 100;
    let i = 0;
    while (performance.now() < until) await tcp.request(taggedRequest(i++), reply24);
    expect(heartbeats).toBe(0);
    await waitFor(() => heartbeats >= 2);
    expect(tcp.state).toBe('connected');
  });

  it('a heartbeat whose reply is wrong drops the link', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, {
      ...fast,
      heartbeat: {
        intervalMs: 20,
        request: fromLatin1('PING\n'),
        read: async (r, o) => {
          const line = await r.readUntil('\n', o);
          if (latin1(line.data) !== 'PONG')
            throw new DecodeError(`expected PONG, got ${latin1(line.data)}`, 0);
        },
      },
    });
    const down = await nextEvent<{ reason: string; error: Error }>(tcp, 'disconnected', 2_000);
    expect(down.reason).toBe('heartbeat');
    expect(down.error.message).toContain('expected PONG');
  });
});

describe('error classes', () => {
  it('have stable codes, brands, retryability and readable messages', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const ctx = { host: 'h', port: 1, op: 'request', linkId: 'L', cause };
    const all: [TcpError, string][] = [
      [new ConnectRefusedError(ctx), 'ConnectRefused'],
      [new ConnectTimeoutError(5, ctx), 'ConnectTimeout'],
      [new ConnectFailedError(ctx), 'ConnectFailed'],
      [new ConnectionResetError(ctx), 'Reset'],
      [new ConnectionLostError(ctx), 'ConnectionLost'],
      [new NotConnectedError(ctx), 'NotConnected'],
    ];
    for (const [error, code] of all) {
      expect(error.code).toBe(code);
      expect(error.isRetryable).toBe(true);
      expect(ConnectionError.isInstance(error)).toBe(true);
      expect(TcpError.isInstance(error)).toBe(true);
      expect(LabwireError.isInstance(error)).toBe(true);
      expect(error.op).toBe('request');
      expect(error.linkId).toBe('L');
      expect(error.message).toContain('h:1');
      expect(error.name).toBe(error.constructor.name);
    }
    expect(ConnectRefusedError.isInstance(new ConnectTimeoutError(1))).toBe(false);
    expect(new ConnectRefusedError().message).toBe('connect to the peer refused');
    expect(new NotConnectedError().message).toBe('not connected to the peer');
    expect(new ConnectionLostError().message).toBe('connection to the peer lost during the operation');
    const aggregate = new AggregateError([new Error('a'), new Error('b')]);
    expect(new ConnectRefusedError({ cause: aggregate }).message).toContain('a; b');
    expect(new ConnectFailedError({ cause: 'text' }).message).toContain('text');
  });
});

describe('bytes left by a dropped link (nothing lost silently)', () => {
  it('the next read fails with EofError carrying bytes that arrived before the peer closed', async () => {
    let connections = 0;
    await using server = await LoopbackServer.start((c) => {
      connections++;
      if (connections === 1) c.socket.end('partial reply');
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.connect();
    await waitFor(() => tcp.state !== 'connected' || connections > 1, { timeoutMs: 2_000 });
    await waitFor(() => tcp.counters.disconnects >= 1, { timeoutMs: 2_000 });
    const result = await settle(tcp.recv(100, { timeoutMs: 300 }));
    expect(result.ok).toBe(false);
    const error = (result as unknown as { error: EofError }).error;
    expect(EofError.isInstance(error)).toBe(true);
    expect(latin1(error.partial)).toBe('partial reply');
    expect((error as EofError & { op?: string }).op).toBe('recv');
  });

  it('a request after the drop discards them: they cannot be its reply', async () => {
    let connections = 0;
    await using server = await LoopbackServer.start((c) => {
      connections++;
      if (connections === 1) {
        c.socket.end('stale');
        return;
      }
      c.socket.on('data', () => c.socket.write('fresh\n'));
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.connect();
    await waitFor(() => tcp.counters.disconnects >= 1, { timeoutMs: 2_000 });
    await waitFor(() => tcp.state === 'connected', { timeoutMs: 2_000 });
    const reply = await tcp.request(fromLatin1('ping\n'), (r, o) => r.readUntil('\n', o));
    expect(latin1(reply.data)).toBe('fresh');
  });
});

describe('full duplex: the current connection reader', () => {
  it('reads what the peer sends unprompted while sends keep flowing, and changes with each connection', async () => {
    let connections = 0;
    await using server = await LoopbackServer.start((c) => {
      connections++;
      c.socket.write(`hello ${connections}\n`);
      c.socket.on('data', (d: Buffer) => c.socket.write(`got ${d.toString('latin1')}`));
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    expect(tcp.reader).toBeUndefined();
    await tcp.connect();
    const reader = tcp.reader!;
    expect(latin1((await reader.readUntil('\n')).data)).toBe('hello 1');
    const waiting = reader.readUntil('\n');
    await tcp.send(fromLatin1('x\n'));
    expect(latin1((await waiting).data)).toBe('got x');
    await server.dropConnections();
    await waitFor(() => tcp.reader !== undefined && tcp.reader !== reader, { timeoutMs: 3_000 });
    expect(latin1((await tcp.reader!.readUntil('\n')).data)).toBe('hello 2');
  });
});
