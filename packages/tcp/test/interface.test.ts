// The SOCS contract (docs/protocols/tcpinterface.md G16) and the basic life cycle, on real loopback sockets.
import { ClosedError, fromLatin1, latin1 } from '@labwire/framing';
import { ConnectionError, type TcpError, TcpInterface } from '@labwire/tcp';
import {
  activeResources,
  LoopbackServer,
  nextEvent,
  resourcesLeftOver,
  settle,
  startEchoServer,
  startTaggingServer,
  taggedRequest,
  tagOf,
  waitFor,
} from '@labwire/testkit';
import { describe, expect, it, vi } from 'vitest';
import { ConnectFailedError, ConnectRefusedError, NotConnectedError } from '../src/errors';
import { codeOf, fast, freePort, record, reply24 } from './helpers';

describe('construction and connect', () => {
  it('connects eagerly and reports connecting then connected', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const { events } = record(tcp);
    expect(tcp.state).toBe('idle');
    await nextEvent(tcp, 'connected');
    expect(tcp.state).toBe('connected');
    expect(events).toEqual(['connecting', 'connected']);
    expect(server.accepts).toBe(1);
    expect(tcp.counters.connects).toBe(1);
  });

  it('never throws from the constructor: a refused connect is reported through state, events and the logger', async () => {
    const port = await freePort();
    const logged: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (m: string) => logged.push(m),
      error: (m: string) => logged.push(m),
    };
    await using tcp = new TcpInterface('127.0.0.1', port, { ...fast, reconnect: false, logger });
    const error = await nextEvent<Error>(tcp, 'error');
    expect(ConnectRefusedError.isInstance(error)).toBe(true);
    expect((error as ConnectRefusedError).code).toBe('ConnectRefused');
    expect((error as ConnectRefusedError).isRetryable).toBe(true);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(tcp.state).toBe('idle');
    expect(logged).toContain('tcp: connect failed');
    expect(tcp.lastError).toBe(error);
  });

  it('rejects every operation with the reason when the endpoint is unusable', async () => {
    await using tcp = new TcpInterface('127.0.0.1', 70_000, fast);
    expect(tcp.state).toBe('closed');
    const r = await settle(tcp.send(Uint8Array.of(1)));
    expect(ConnectFailedError.isInstance((r as { error: unknown }).error)).toBe(true);
    expect(((r as { error: Error }).error.cause as Error).message).toContain('invalid port 70000');
  });

  it('autoConnect:false waits for connect(); concurrent connect() calls share one attempt', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, autoConnect: false });
    await new Promise((r) => setTimeout(r, 20));
    expect(tcp.state).toBe('idle');
    expect(server.accepts).toBe(0);
    await Promise.all([tcp.connect(), tcp.connect(), tcp.connect()]);
    expect(server.accepts).toBe(1);
    await tcp.connect();
    expect(server.accepts).toBe(1);
  });

  it('connect() honours its own deadline and signal', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, autoConnect: false });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const r = await settle(tcp.connect({ signal: controller.signal }));
    expect(codeOf(r)).toBe('Aborted');
  });

  it('with reconnect:false a send after a drop reconnects first (SOCS: send reconnects)', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, reconnect: false });
    await tcp.connect();
    await server.dropConnections();
    await waitFor(() => tcp.state === 'idle');
    await tcp.send(fromLatin1('ping'));
    expect(latin1(await tcp.recv())).toBe('ping');
    expect(server.accepts).toBe(2);
    expect(tcp.counters.reconnects).toBe(1);
  });
});

describe('send and recv (SOCS parity)', () => {
  it('send writes the bytes; recv returns what has arrived, at most maxBytes', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.send(fromLatin1('hello world'));
    await waitFor(() => tcp.counters.bytesIn >= 11);
    expect(latin1(await tcp.recv(5))).toBe('hello');
    expect(latin1(await tcp.recv())).toBe(' world');
  });

  it('recv waits up to the deadline and rejects with TimeoutError (code Timeout)', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    // Connected first: the 30 ms deadline is for the data, not for a connect on a loaded machine.
    await tcp.connect();
    const r = await settle(tcp.recv(4096, { timeoutMs: 30 }));
    const error = (r as { error: TcpError }).error;
    expect(error.code).toBe('Timeout');
    expect(error.op).toBe('recv');
    expect(tcp.state).toBe('connected');
  });

  it('recv with resetOnError reconnects after a failure and rethrows the original error', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const { reasons } = record(tcp);
    await tcp.connect();
    const r = await settle(tcp.recv(4096, { timeoutMs: 20, resetOnError: true }));
    expect(codeOf(r)).toBe('Timeout');
    expect(reasons).toEqual(['resetOnError']);
    await waitFor(() => tcp.state === 'connected' && server.accepts === 2);
    await tcp.send(fromLatin1('x'));
    expect(latin1(await tcp.recv())).toBe('x');
  });

  it('errors carry op and linkId', async () => {
    const port = await freePort();
    await using tcp = new TcpInterface('127.0.0.1', port, { ...fast, reconnect: false, linkId: 'ptc' });
    const r = await settle(tcp.send(Uint8Array.of(1)));
    const error = (r as { error: TcpError }).error;
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error.op).toBe('send');
    expect(error.linkId).toBe('ptc');
    expect(error.host).toBe('127.0.0.1');
    expect(error.port).toBe(port);
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });
});

describe('framing reads on the connection', () => {
  it('readExactly, readUntil, readFrame, expect, drain', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.send(fromLatin1('abcdefLINE\r\n'));
    expect(latin1(await tcp.readExactly(3))).toBe('abc');
    // Both delimiters end at the same byte: the earlier in the list wins.
    const line = await tcp.readUntil(['\r\n', '\n']);
    expect(latin1(line.data)).toBe('defLINE');
    expect(line.index).toBe(0);
    await tcp.send(Uint8Array.of(0, 0, 0, 2, 7, 8));
    expect([...(await tcp.readFrame())]).toEqual([7, 8]);
    await tcp.send(fromLatin1('noise> '));
    expect(latin1(await tcp.expect('> '))).toBe('noise> ');
    await tcp.send(fromLatin1('stale'));
    await waitFor(() => tcp.counters.bytesIn >= 29);
    expect(await tcp.drain({ quietMs: 10 })).toBe(5);
    await tcp.send(fromLatin1('z'));
    expect(latin1(await tcp.readAvailable())).toBe('z');
  });

  it('a timed-out read consumes nothing (the next read sees the same bytes)', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.send(fromLatin1('ab'));
    // Virtual time for the deadline; real sockets for the bytes: the deadline passes only after the echo
    // has arrived, however slow the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let r: unknown;
    try {
      const pending = settle(tcp.readExactly(3, { timeoutMs: 30 }));
      await waitFor(() => tcp.counters.bytesIn >= 2, { intervalMs: 0, timeoutMs: 10_000 });
      vi.advanceTimersByTime(30);
      r = await pending;
    } finally {
      vi.useRealTimers();
    }
    expect((r as { error: { code: string; received: Uint8Array } }).error.code).toBe('Timeout');
    expect(latin1((r as { error: { received: Uint8Array } }).error.received)).toBe('ab');
    await tcp.send(fromLatin1('c'));
    expect(latin1(await tcp.readExactly(3))).toBe('abc');
  });

  it('readUntil over the limit raises LimitExceeded (docs/protocols/tcpinterface.md F9) and leaves the data', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.send(fromLatin1('0123456789'));
    await waitFor(() => tcp.counters.bytesIn >= 10);
    const r = await settle(tcp.readUntil('\n', { maxBytes: 4 }));
    expect(codeOf(r)).toBe('LimitExceeded');
    expect(latin1(await tcp.readExactly(10))).toBe('0123456789');
  });

  it('a wrong terminator times out and the error shows the bytes received (docs/protocols/tcpinterface.md F14)', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    await tcp.connect();
    // Virtual time for the deadline (the request's watchdog reads performance.now()); real sockets for the
    // bytes. The deadline passes only after the echo has arrived, however slow the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const pending = settle(
        tcp.request(fromLatin1('*IDN?\n'), (reader, o) => reader.readUntil('\r\n', o), { timeoutMs: 40 }),
      );
      await waitFor(() => tcp.counters.bytesIn >= 6, { intervalMs: 0, timeoutMs: 10_000 });
      vi.advanceTimersByTime(40);
      const error = ((await pending) as { error: Error & { code: string } }).error;
      expect(error.code).toBe('Timeout');
      expect(error.message).toContain('2a 49 44 4e 3f 0a');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('close', () => {
  it('is idempotent, settles every pending operation and leaves no socket or timer', async () => {
    const before = activeResources();
    const server = await startTaggingServer({ replyDelayMs: () => 10_000 });
    const tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, timeoutMs: 5_000 });
    await tcp.connect();
    const pending = [
      tcp.request(taggedRequest(1), reply24),
      tcp.request(taggedRequest(2), reply24),
      tcp.recv(),
      tcp.readExactly(4),
    ];
    await waitFor(() => server.requests === 1);
    const closing = [tcp.close(), tcp.close()];
    const results = await Promise.all(pending.map(settle));
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(ClosedError.isInstance((r as { error: unknown }).error)).toBe(true);
    }
    await Promise.all(closing);
    expect(tcp.state).toBe('closed');
    expect(
      ClosedError.isInstance(((await settle(tcp.send(Uint8Array.of(1)))) as { error: unknown }).error),
    ).toBe(true);
    await server.dropConnections();
    await server.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('closes while connecting and while waiting out a backoff delay, without leftovers', async () => {
    const before = activeResources();
    const port = await freePort();
    const tcp = new TcpInterface('127.0.0.1', port, {
      ...fast,
      reconnect: { initialDelayMs: 10_000, maxDelayMs: 10_000 },
    });
    await nextEvent(tcp, 'reconnectScheduled');
    expect(tcp.state).toBe('backoff');
    await tcp.close();
    const t2 = new TcpInterface('127.0.0.1', port, fast);
    await new Promise<void>((r) => queueMicrotask(r));
    expect(tcp.state).toBe('closed');
    await t2.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('Symbol.asyncDispose closes', async () => {
    await using server = await startEchoServer();
    let outer: TcpInterface | undefined;
    {
      await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
      outer = tcp;
      await tcp.connect();
    }
    expect(outer.state).toBe('closed');
  });
});

describe('offline policy', () => {
  it('by default, operations issued while reconnecting wait for the link within their deadline', async () => {
    const server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, {
      ...fast,
      reconnect: { initialDelayMs: 30, maxDelayMs: 30 },
    });
    await tcp.connect();
    await server.stop();
    await waitFor(() => tcp.state === 'backoff');
    const waiting = tcp.request(taggedRequest(1), reply24, { timeoutMs: 5_000 });
    await server.restart();
    expect(tagOf(await waiting)).toBe(1);
    await server.close();
  });

  it('offlineQueue: 0 rejects them at once with NotConnectedError carrying the cause', async () => {
    const port = await freePort();
    await using tcp = new TcpInterface('127.0.0.1', port, {
      ...fast,
      offlineQueue: 0,
      reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 },
    });
    await nextEvent(tcp, 'reconnectScheduled');
    const r = await settle(tcp.request(taggedRequest(1), reply24));
    const error = (r as { error: NotConnectedError }).error;
    expect(NotConnectedError.isInstance(error)).toBe(true);
    expect(error.code).toBe('NotConnected');
    expect(ConnectRefusedError.isInstance(error.cause)).toBe(true);
  });

  it('the offline queue is bounded: beyond the bound, NotConnectedError at once', async () => {
    const server = await startTaggingServer();
    const port = server.port;
    await using tcp = new TcpInterface('127.0.0.1', port, {
      ...fast,
      offlineQueue: 2,
      reconnect: { initialDelayMs: 30, maxDelayMs: 30 },
    });
    await tcp.connect();
    await server.stop();
    await waitFor(() => tcp.state === 'backoff');
    const a = tcp.request(taggedRequest(1), reply24);
    const b = tcp.request(taggedRequest(2), reply24);
    const c = await settle(tcp.request(taggedRequest(3), reply24));
    expect(codeOf(c)).toBe('NotConnected');
    expect((c as { error: Error }).error.message).toContain('offline queue full');
    await server.restart();
    expect(tagOf(await a)).toBe(1);
    expect(tagOf(await b)).toBe(2);
    await server.close();
  });

  it('with reconnect off, an operation after a drop connects on demand (SOCS), within the backoff window', async () => {
    await using server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, reconnect: false });
    await tcp.connect();
    await server.dropConnections();
    await waitFor(() => tcp.state === 'idle' && tcp.counters.disconnects === 1);
    expect(tagOf(await tcp.request(taggedRequest(4), reply24))).toBe(4);
    expect(server.accepts).toBe(2);
  });

  it('bounds the whole queue (maxQueued)', async () => {
    await using server = await startTaggingServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, maxQueued: 2 });
    const a = tcp.request(taggedRequest(1), reply24);
    const b = tcp.request(taggedRequest(2), reply24);
    const c = await settle(tcp.request(taggedRequest(3), reply24));
    expect(codeOf(c)).toBe('LimitExceeded');
    expect((await Promise.all([a, b])).map(tagOf)).toEqual([1, 2]);
  });
});

describe('listeners', () => {
  it('a throwing event listener does not break the interface', async () => {
    await using server = await LoopbackServer.start((c) => {
      c.socket.on('data', (d: Uint8Array) => c.write(d));
    });
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    tcp.on('connected', () => {
      throw new Error('listener bug');
    });
    await tcp.connect();
    await tcp.send(fromLatin1('ok'));
    expect(latin1(await tcp.readExactly(2))).toBe('ok');
  });
});

describe('reads into caller memory', () => {
  it('readExactly and readFrame pass `into` through', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    const into = new Uint8Array(8);
    await tcp.send(fromLatin1('abcd'));
    const got = await tcp.readExactly(4, { into });
    expect(latin1(got)).toBe('abcd');
    expect(got.buffer).toBe(into.buffer);
    await tcp.send(Uint8Array.of(0, 0, 0, 2, 7, 8));
    const frame = await tcp.readFrame({ into });
    expect([...frame]).toEqual([7, 8]);
    expect(frame.buffer).toBe(into.buffer);
  });
});
