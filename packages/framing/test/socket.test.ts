// Real sockets on 127.0.0.1 with ephemeral ports.

import type net from 'node:net';
import {
  ByteReader,
  ClosedError,
  EofError,
  encodeFrame,
  OnreadSource,
  SendTimeoutError,
  StreamError,
  sendAll,
  TimeoutError,
  writeFrame,
} from '@labwire/framing';
import { afterEach, describe, expect, it } from 'vitest';
import { socketPair, text, tick } from './helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});
async function pair(onread?: net.OnReadOpts) {
  const p = await socketPair(onread);
  cleanups.push(p.close);
  return p;
}

describe('ByteReader over net.Socket', () => {
  it('reads lines, exact counts and frames written in odd pieces', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(client, { timeoutMs: 2000 });
    server.write('*IDN?\r');
    await tick(2);
    server.write('\nOPTO');
    server.write(encodeFrame(new Uint8Array([1, 2, 3])));
    expect(text((await r.readUntil('\r\n')).data)).toBe('*IDN?');
    expect(text(await r.readExactly(4))).toBe('OPTO');
    expect(Array.from(await r.readFrame())).toEqual([1, 2, 3]);
    r.close();
  });

  it('drain: bytes the kernel took while the process was stalled past the quiet period are drained too', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(client, { timeoutMs: 2000 });
    const drained = r.drain({ quietMs: 20 });
    // From here (the check phase of a turn) the loop runs the next turn's timers before its socket reads.
    await new Promise((resolve) => setImmediate(resolve));
    server.write('late');
    // A stall past the quiet period: the quiet timer is due, the late bytes wait in the kernel unread.
    const until = performance.now() + 3 * 20;
    while (performance.now() < until) {
      // busy: the process does nothing else
    }
    expect(await drained).toBe(4);
    server.write('fresh');
    expect(text(await r.readExactly(5))).toBe('fresh');
    r.close();
  });

  it('peer close is EOF carrying the partial bytes', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(client, { timeoutMs: 2000 });
    const p = r.readExactly(10);
    server.end('half');
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(EofError.isInstance(err)).toBe(true);
    expect(text((err as EofError).partial)).toBe('half');
  });

  it('a reset by the peer is a StreamError whose cause is the socket error', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(client, { timeoutMs: 2000 });
    const p = r.readExactly(10);
    server.resetAndDestroy();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    // Linux reports ECONNRESET; either way the read fails promptly and typed, never hangs.
    expect(StreamError.isInstance(err) || EofError.isInstance(err)).toBe(true);
    if (StreamError.isInstance(err)) expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('a silent peer times out and the socket stays usable', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(client, { timeoutMs: 2000 });
    await expect(r.readUntil('\n', { timeoutMs: 20 })).rejects.toSatisfy((e: unknown) =>
      TimeoutError.isInstance(e),
    );
    server.write('late\n');
    expect(text((await r.readUntil('\n')).data)).toBe('late');
  });

  it('OnreadSource: reads land in one reused buffer and arrive intact', async () => {
    const source = new OnreadSource(1024);
    const { client, server } = await pair(source.onread as net.OnReadOpts);
    const r = new ByteReader(source.attach(client), { timeoutMs: 5000, maxFrame: 1 << 20 });
    const payloads = [
      new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff),
      new Uint8Array(5).fill(9),
      new Uint8Array(70_000).fill(3),
    ];
    for (const p of payloads) await writeFrame(server, p);
    for (const p of payloads) expect(await r.readFrame()).toEqual(p);
    server.end();
    await expect(r.readExactly(1)).rejects.toSatisfy((e: unknown) => EofError.isInstance(e));
  });

  it('a 4 MiB frame streams through writeFrame/readFrame and into caller memory', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(client, { timeoutMs: 10_000, maxFrame: 8 << 20 });
    const big = new Uint8Array(4 << 20).map((_, i) => i % 251);
    const into = new Uint8Array(4 << 20);
    const sending = writeFrame(server, big, { timeoutMs: 10_000 });
    const got = await r.readFrame({ into });
    await sending;
    expect(got.buffer).toBe(into.buffer);
    expect(got.length).toBe(big.length);
    expect(got[123_456]).toBe(big[123_456]);
    expect(got[big.length - 1]).toBe(big[big.length - 1]);
  });
});

describe('sendAll', () => {
  it('against a peer that never reads: rejects at its deadline with bounded user-space buffering (docs/protocols/tcpinterface.md G5)', async () => {
    const { client, server } = await pair();
    server.pause(); // the peer never reads: kernel buffers fill, then write() returns false
    const payload = new Uint8Array(64 << 20);
    const t0 = Date.now();
    const err = await sendAll(client, payload, { timeoutMs: 300 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(SendTimeoutError.isInstance(err) || TimeoutError.isInstance(err)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    // Never more than one slice (1 MiB) beyond the high-water mark queued in user space.
    expect(client.writableLength).toBeLessThanOrEqual((1 << 20) + client.writableHighWaterMark);
    expect((err as SendTimeoutError).bytesWritten).toBeLessThan(payload.length);
  });

  it('aborts through its signal', async () => {
    const { client, server } = await pair();
    server.pause();
    const ac = new AbortController();
    const p = sendAll(client, new Uint8Array(64 << 20), { signal: ac.signal, timeoutMs: 10_000 });
    setTimeout(() => ac.abort(), 30);
    await expect(p).rejects.toThrow(/aborted/);
  });

  it('small messages leave in one write and resolve without waiting', async () => {
    const { client, server } = await pair();
    const r = new ByteReader(server, { timeoutMs: 1000 });
    let writes = 0;
    const orig = client.write.bind(client);
    client.write = ((...args: Parameters<typeof client.write>) => {
      writes++;
      return orig(...args);
    }) as typeof client.write;
    await sendAll(client, new TextEncoder().encode('MEAS:VOLT?\n'));
    expect(writes).toBe(1);
    expect(text((await r.readUntil('\n')).data)).toBe('MEAS:VOLT?');
  });

  it('rejects on a destroyed socket with ClosedError', async () => {
    const { client } = await pair();
    client.destroy();
    await expect(sendAll(client, new Uint8Array(4))).rejects.toSatisfy((e: unknown) =>
      ClosedError.isInstance(e),
    );
  });
});
