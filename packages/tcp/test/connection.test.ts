// Connection on its own: one link's life for full-duplex owners (links, ordered sends, health, explicit
// drop/reconnect, the policy's pacing, maxAttempts/retryStrategy, the heartbeat probe, close).
import { ClosedError, fromLatin1, latin1 } from '@labwire/framing';
import { Connection, type DisconnectedEvent, type Link } from '@labwire/tcp';
import {
  activeResources,
  LoopbackServer,
  nextEvent,
  resourcesLeftOver,
  settle,
  startEchoServer,
  waitFor,
} from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { NotConnectedError } from '../src/errors';
import type { ConnectionEvents } from '../src/options';
import { codeOf, freePort } from './helpers';

const quick = { connectTimeoutMs: 1_000, timeoutMs: 2_000 };

describe('links', () => {
  it('each connection is a Link with its own reader; the connected event carries it', async () => {
    await using server = await LoopbackServer.start((c) => {
      c.write(fromLatin1(`hello ${c.id}\n`));
      c.socket.on('data', (d: Uint8Array) => c.write(d));
    });
    await using conn = new Connection('127.0.0.1', server.port, quick);
    const { link } = await nextEvent<{ link: Link }>(conn, 'connected');
    expect(conn.link).toBe(link);
    expect(link.id).toBe(1);
    expect(latin1((await link.reader.readUntil('\n')).data)).toBe('hello 1');
    // Full duplex: a read waiting for the peer does not hold a send back.
    const waiting = link.reader.readExactly(4);
    await link.send(fromLatin1('ping'));
    expect(latin1(await waiting)).toBe('ping');
    link.drop();
    expect(link.down).toBe(true);
    expect(link.downReason).toBe('dropped');
    const next = await conn.connect();
    expect(next).not.toBe(link);
    expect(next.id).toBe(2);
    expect(latin1((await next.reader.readUntil('\n')).data)).toBe('hello 2');
  });

  it('a send on a link that went down rejects with NotConnectedError: it never reaches the next link', async () => {
    const seen: string[] = [];
    await using server = await LoopbackServer.start((c) => {
      c.socket.on('data', (d: Buffer) => seen.push(`${c.id}:${d.toString('latin1')}`));
    });
    await using conn = new Connection('127.0.0.1', server.port, quick);
    const first = await conn.connect();
    first.drop();
    const r = await settle(first.send(fromLatin1('stale reply')));
    expect(NotConnectedError.isInstance((r as { error: unknown }).error)).toBe(true);
    const second = await conn.connect();
    await second.send(fromLatin1('fresh'));
    await waitFor(() => seen.length === 1);
    expect(seen).toEqual(['2:fresh']);
    // Connection.send writes on the current link, or rejects when there is none.
    second.drop();
    expect(codeOf(await settle(conn.send(fromLatin1('x'))))).toBe('NotConnected');
  });

  it('sends never interleave: a large send and the small ones after it arrive whole and in order', async () => {
    let received = Buffer.alloc(0);
    await using server = await LoopbackServer.start((c) => {
      c.socket.on('data', (d: Buffer) => {
        received = Buffer.concat([received, d]);
      });
    });
    await using conn = new Connection('127.0.0.1', server.port, quick);
    const link = await conn.connect();
    const big = new Uint8Array(3 * 1024 * 1024 + 17).fill(0x42);
    const sends = [
      link.send(fromLatin1('<')),
      link.send(big, { timeoutMs: 10_000 }),
      link.send(fromLatin1('>')),
      link.send(fromLatin1('!')),
    ];
    await Promise.all(sends);
    await waitFor(() => received.length === big.length + 3, { timeoutMs: 10_000 });
    expect(received[0]).toBe(0x3c);
    expect(received.subarray(1, 1 + big.length).every((b) => b === 0x42)).toBe(true);
    expect(received.subarray(1 + big.length).toString('latin1')).toBe('>!');
  });

  it('a send still waiting for its turn gives up at its deadline without writing anything', async () => {
    let received = 0;
    let peer: import('node:net').Socket | undefined;
    await using server = await LoopbackServer.start((c) => {
      peer = c.socket;
      c.socket.pause(); // not reading: the first send waits for 'drain'
      c.socket.on('data', (d: Buffer) => {
        received += d.length;
      });
    });
    await using conn = new Connection('127.0.0.1', server.port, quick);
    const link = await conn.connect();
    const blocker = link.send(new Uint8Array(16 * 1024 * 1024), { timeoutMs: 10_000 });
    const late = await settle(link.send(fromLatin1('tail'), { timeoutMs: 30 }));
    expect(codeOf(late)).toBe('Timeout');
    expect(link.down).toBe(false);
    peer!.resume();
    await blocker;
    await waitFor(() => received === 16 * 1024 * 1024, { timeoutMs: 10_000 });
    // Nothing of the timed-out send went out, even later.
    await link.send(fromLatin1('!'));
    await waitFor(() => received === 16 * 1024 * 1024 + 1);
  });
});

describe('health and the policy', () => {
  it('a healthy link dropped on purpose comes back at once; an unhealthy one backs off', async () => {
    await using server = await startEchoServer();
    await using conn = new Connection('127.0.0.1', server.port, {
      ...quick,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const scheduled: ConnectionEvents['reconnectScheduled'][0][] = [];
    const down: DisconnectedEvent[] = [];
    conn.on('reconnectScheduled', (e) => scheduled.push(e));
    conn.on('disconnected', (e) => down.push(e));
    const first = await conn.connect();
    first.markHealthy();
    expect(conn.healthy).toBe(true);
    const second = await conn.reconnect('desync', { timeoutMs: 5_000 });
    expect(scheduled).toEqual([{ attempt: 0, delayMs: 0 }]);
    expect(down[0]).toMatchObject({ reason: 'desync', healthy: true });
    // The new link has proved nothing: dropping it backs off (30-60 s here), and a reconnect() waits for
    // that window instead of skipping it.
    second.drop('desync');
    expect(scheduled[1]!.attempt).toBe(1);
    expect(scheduled[1]!.delayMs).toBeGreaterThanOrEqual(30_000);
    expect(conn.state).toBe('backoff');
    const r = await settle(conn.reconnect('dropped', { timeoutMs: 50 }));
    expect(codeOf(r)).toBe('Timeout');
    expect(server.accepts).toBe(2);
  });

  it('without automatic reconnects, a link the peer ended stays down until asked, then waits its window', async () => {
    await using server = await startEchoServer();
    await using conn = new Connection('127.0.0.1', server.port, {
      ...quick,
      reconnect: { auto: false, initialDelayMs: 20, maxDelayMs: 20 },
    });
    const states: string[] = [];
    conn.on('state', (s) => states.push(s));
    await conn.connect();
    await server.dropConnections();
    await nextEvent(conn, 'disconnected');
    expect(conn.state).toBe('idle');
    expect(conn.attempt).toBe(1);
    const link = await conn.connect();
    expect(link.id).toBe(2);
    expect(states).toEqual(['connecting', 'connected', 'idle', 'backoff', 'connecting', 'connected']);
  });

  it('maxAttempts: gives up (reconnectStopped), rejects waiters, and connect() starts a new series', async () => {
    const port = await freePort();
    await using conn = new Connection('127.0.0.1', port, {
      ...quick,
      reconnect: { initialDelayMs: 2, maxDelayMs: 4, maxAttempts: 2 },
    });
    const stopped = await nextEvent<ConnectionEvents['reconnectStopped'][0]>(conn, 'reconnectStopped', 5_000);
    expect(stopped).toMatchObject({ attempt: 2, reason: 'maxAttempts' });
    expect(stopped.error?.message).toContain('refused');
    expect(conn.counters.connectFailures).toBe(3);
    expect(conn.state).toBe('idle');
    expect(conn.gaveUp).toBe(true);
    const again = await settle(conn.connect());
    expect(codeOf(again)).toBe('ConnectRefused');
    expect(conn.gaveUp).toBe(false);
    expect(conn.attempt).toBe(1);
  });

  it('retryStrategy chooses the delay from the attempt and the last error, or stops', async () => {
    const port = await freePort();
    const seen: [number, string | undefined][] = [];
    await using conn = new Connection('127.0.0.1', port, {
      ...quick,
      reconnect: {
        retryStrategy: (attempt, error) => {
          seen.push([attempt, (error as { code?: string } | undefined)?.code]);
          return attempt < 3 ? attempt : null;
        },
      },
    });
    const delays: number[] = [];
    conn.on('reconnectScheduled', (e) => delays.push(e.delayMs));
    const stopped = await nextEvent<ConnectionEvents['reconnectStopped'][0]>(conn, 'reconnectStopped', 5_000);
    expect(stopped.reason).toBe('retryStrategy');
    expect(delays).toEqual([1, 2]);
    expect(seen).toEqual([
      [1, 'ConnectRefused'],
      [2, 'ConnectRefused'],
      [3, 'ConnectRefused'],
    ]);
  });
});

describe('heartbeat probe', () => {
  it('probes a quiet link; a failing probe takes it down (reason heartbeat)', async () => {
    await using server = await startEchoServer();
    let probes = 0;
    await using conn = new Connection('127.0.0.1', server.port, {
      ...quick,
      heartbeat: {
        intervalMs: 20,
        probe: async (link, o) => {
          probes++;
          await link.send(fromLatin1('?'), o);
          const answer = await link.reader.readExactly(1, o);
          if (probes >= 3) throw new Error(`probe ${probes}: answer ${latin1(answer)} no longer accepted`);
        },
      },
    });
    const down = await nextEvent<DisconnectedEvent>(conn, 'disconnected', 10_000);
    expect(down.reason).toBe('heartbeat');
    expect(down.error?.message).toContain('probe 3');
    expect(probes).toBe(3);
  });
});

describe('close', () => {
  it('settles connect waiters with ClosedError and leaves nothing behind', async () => {
    const before = activeResources();
    const port = await freePort();
    const conn = new Connection('127.0.0.1', port, {
      ...quick,
      reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await nextEvent(conn, 'reconnectScheduled');
    const waiting = settle(conn.connect());
    await conn.close();
    expect(ClosedError.isInstance(((await waiting) as { error: unknown }).error)).toBe(true);
    expect(conn.state).toBe('closed');
    expect(codeOf(await settle(conn.reconnect()))).toBe('Closed');
    expect(await resourcesLeftOver(before)).toEqual({});
  });
});
