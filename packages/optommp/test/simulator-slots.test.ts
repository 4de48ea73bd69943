// The simulator's TCP server under clients that would starve others (issue 12): connection slots with
// eviction of the connection idle the longest, the idle timeout, backpressure on a client that does not
// read its answers; and the answer behaviours a device can have with pipelined requests (issue 14).

import net from 'node:net';
import { toHex } from '@labwire/framing';
import { OptoMmpClient } from '@labwire/optommp';
import { encodeReadBlockRequest, offsetOf } from '@labwire/optommp/codec';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { activeResources, nextEvent, resourcesLeftOver, waitFor } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWriteBlockRequest } from '../src/codec/encode';
import { readU32 } from '../src/codec/values';
import { RawTcpPeer } from './raw-client';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function sim(options: Parameters<typeof EpicSimulator.start>[0] = {}) {
  const s = await EpicSimulator.start(vectorDeviceOptions(options));
  cleanup.push(() => s.close());
  return s;
}

async function peer(port: number): Promise<RawTcpPeer> {
  const p = await RawTcpPeer.connect(port);
  cleanup.push(() => p.close());
  return p;
}

const uptimeRequest = (tl: number) =>
  encodeReadBlockRequest({ tl, offset: offsetOf(0xf030010c), dataLength: 4 });

describe('connection slots', () => {
  it('64 idle connections held: a newcomer is served, the connection idle the longest makes room', async () => {
    const before = activeResources();
    const s = await EpicSimulator.start(vectorDeviceOptions({ maxConnections: 64 }));
    const held: RawTcpPeer[] = [];
    for (let i = 0; i < 64; i++) held.push(await RawTcpPeer.connect(s.port));
    await waitFor(() => s.tcpServer!.connections === 64);
    // All but the first have proved themselves once since: the first is idle the longest.
    for (const p of held.slice(1)) expect((await p.exchange(uptimeRequest(1)))[3]).toBe(0x70);
    const oldestClosed = nextEvent(held[0]!.socket, 'close', 5_000);
    const client = new OptoMmpClient({ host: '127.0.0.1', port: s.port, timeoutMs: 5_000 });
    expect(typeof (await client.uptime())).toBe('number');
    await oldestClosed;
    expect(s.tcpServer!.stats).toMatchObject({ evicted: 1, refused: 0 });
    expect(s.tcpServer!.connections).toBe(64);
    await client.close();
    for (const p of held) await p.close();
    await s.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('refuses a newcomer only when every connection has a request waiting for its answer', async () => {
    const s = await sim({ maxConnections: 2, latencyMs: 60_000 });
    const busy = [await peer(s.port), await peer(s.port)];
    for (const p of busy) p.write(uptimeRequest(1));
    await waitFor(() => s.tcpServer!.pendingRequests === 2);
    // Both connections wait for an answer an hour away: neither is idle.
    await waitFor(async () => {
      const third = await RawTcpPeer.connect(s.port);
      const closed = await nextEvent(third.socket, 'close', 5_000).then(() => true);
      await third.close();
      return closed;
    });
    expect(s.tcpServer!.stats.refused).toBeGreaterThanOrEqual(1);
    expect(s.tcpServer!.stats.evicted).toBe(0);
  });
});

describe('idle timeout', () => {
  it('closes a silent connection and one that drips bytes without completing a request', async () => {
    const s = await sim({ idleTimeoutMs: 150 });
    const silent = await peer(s.port);
    const dripper = await peer(s.port);
    const request = uptimeRequest(3);
    let i = 0;
    const drip = setInterval(() => {
      if (i < request.length - 1) dripper.write(request.subarray(i, ++i));
    }, 20);
    try {
      await Promise.all([
        nextEvent(silent.socket, 'close', 10_000),
        nextEvent(dripper.socket, 'close', 10_000),
      ]);
    } finally {
      clearInterval(drip);
    }
    expect(s.tcpServer!.stats.idleClosed).toBe(2);
    // A fresh connection is served as usual.
    const fresh = await peer(s.port);
    expect((await fresh.exchange(uptimeRequest(4)))[2]).toBe(4 << 2);
  });

  it('defaults to a generous 60 s', async () => {
    const s = await sim();
    const p = await peer(s.port);
    await new Promise((r) => setTimeout(r, 200));
    expect(p.socket.destroyed).toBe(false);
    expect(s.tcpServer!.stats.idleClosed).toBe(0);
  });
});

describe('backpressure', () => {
  it('stops reading from a client that does not read its answers; others are served meanwhile', async () => {
    const s = await sim({ maxBlockBytes: 4096 });
    // A raw socket that writes block reads of 4 KiB answers and never reads.
    const hog = net.connect({ port: s.port, host: '127.0.0.1' });
    cleanup.push(async () => {
      hog.destroy();
    });
    await nextEvent(hog, 'connect');
    hog.pause();
    const request = encodeReadBlockRequest({ tl: 1, offset: offsetOf(0xf0da0000), dataLength: 4096 });
    const batch = Buffer.concat(Array.from({ length: 256 }, () => request));
    // Write until the hog's own socket refuses more: the server has stopped reading it.
    let sent = 0;
    await waitFor(
      () => {
        for (let k = 0; k < 8 && hog.writableLength < 4 << 20; k++) {
          hog.write(batch);
          sent += 256;
        }
        return s.tcpServer!.stats.backpressured > 0 && hog.writableLength > 1 << 20;
      },
      { timeoutMs: 20_000, intervalMs: 10, message: 'the server to stop reading the hog' },
    );
    const answeredThen = s.tcpServer!.stats.answered;
    expect(answeredThen).toBeLessThan(sent);
    // Another client is answered while the hog is held back.
    const client = new OptoMmpClient({ host: '127.0.0.1', port: s.port, timeoutMs: 5_000 });
    cleanup.push(() => client.close());
    expect(await client.getScratchPadIntegerArea(3)).toBe(4242);
    // The server holds the hog's queue, not all it sent.
    expect(s.tcpServer!.stats.answered - answeredThen).toBeLessThan(1024 + 2);
  });
});

describe('answer behaviours with pipelined requests', () => {
  const labels = (packets: Uint8Array[]) => packets.map((p) => p[2]! >> 2);

  async function pipelined(options: Parameters<typeof EpicSimulator.start>[0], n: number) {
    const s = await sim(options);
    const p = await peer(s.port);
    // n requests in one write: they arrive together, before any answer.
    p.write(Buffer.concat(Array.from({ length: n }, (_, i) => uptimeRequest(i + 1))));
    return { s, p };
  }

  it('in-order (default): every request answered, in order, with latency and jitter', async () => {
    const { p } = await pipelined({ latencyMs: 5, jitterMs: 20 }, 8);
    const got = [];
    for (let i = 0; i < 8; i++) got.push(await p.readRaw());
    expect(labels(got)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('serial: one at a time, each answer a latency after the previous one', async () => {
    const { s, p } = await pipelined({ pipelining: 'serial', latencyMs: 30 }, 4);
    const t0 = performance.now();
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await p.readRaw());
    expect(labels(got)).toEqual([1, 2, 3, 4]);
    // Four latencies in a row, not one: at least 4 × 30 ms between the write and the last answer.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(4 * 30 - 5);
    expect(s.tcpServer!.stats.answered).toBe(4);
  });

  it('first-only: requests sent while another is outstanding are never answered', async () => {
    const { s, p } = await pipelined({ pipelining: 'first-only' }, 5);
    expect(labels([await p.readRaw()])).toEqual([1]);
    await expect(p.reader.readExactly(1, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'Timeout' });
    expect(s.tcpServer!.stats).toMatchObject({ answered: 1, dropped: 4 });
    // One request at a time is answered as usual.
    expect(labels([await p.exchange(uptimeRequest(9))])).toEqual([9]);
  });

  it('out-of-order: requests that came together are answered newest first', async () => {
    const { p } = await pipelined({ pipelining: 'out-of-order' }, 4);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await p.readRaw());
    expect(labels(got)).toEqual([4, 3, 2, 1]);
  });

  it('writes and reads keep their effects in order whatever the behaviour', async () => {
    const s = await sim({ latencyMs: 2, jitterMs: 5 });
    const p = await peer(s.port);
    const writes = Array.from({ length: 6 }, (_, i) =>
      encodeWriteBlockRequest({ tl: i + 1, offset: offsetOf(0xf0da0000), data: Uint8Array.of(0, 0, 0, i) }),
    );
    p.write(
      Buffer.concat([
        ...writes,
        encodeReadBlockRequest({ tl: 7, offset: offsetOf(0xf0da0000), dataLength: 4 }),
      ]),
    );
    for (let i = 0; i < 6; i++) await p.readRaw();
    const last = await p.readRaw();
    expect(toHex(last.subarray(16))).toBe('00000005');
    expect(readU32(last, 16)).toBe(5);
  });
});
