// The simulator's servers over real loopback sockets: many clients at once, UDP, fault hooks, and a
// close() that leaves no socket or timer behind.

import net from 'node:net';
import { concatBytes, toHex } from '@labwire/framing';
import { encodeReadBlockRequest, offsetOf } from '@labwire/optommp/codec';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { activeResources, resourcesLeftOver } from '@labwire/testkit';
import { describe, expect, it, vi } from 'vitest';
import { encodeWriteBlockRequest } from '../src/codec/encode';
import { encodeInt32, readI32 } from '../src/codec/values';
import { RawTcpPeer, udpExchange } from './raw-client';

describe('TCP and UDP servers', () => {
  it('binds 127.0.0.1 on a free port by default', async () => {
    await using sim = await EpicSimulator.start();
    expect(sim.host).toBe('127.0.0.1');
    expect(sim.port).toBeGreaterThan(0);
  });

  it('serves many clients at once, each in order', async () => {
    const before = activeResources();
    const sim = await EpicSimulator.start(vectorDeviceOptions());
    const clients = 16;
    const peers = await Promise.all(Array.from({ length: clients }, () => RawTcpPeer.connect(sim.port)));
    await Promise.all(
      peers.map(async (peer, k) => {
        for (let i = 0; i < 10; i++) {
          const index = k * 10 + i;
          const address = 0xf0da0000 + 4 * index;
          const w = await peer.exchange(
            encodeWriteBlockRequest({ tl: i + 1, offset: offsetOf(address), data: encodeInt32(index * 3) }),
          );
          expect(toHex(w)).toBe(toHex(Uint8Array.of(0, 0, (i + 1) << 2, 0x20, 0, 0, 0, 0, 0, 0, 0, 0)));
          const r = await peer.exchange(
            encodeReadBlockRequest({ tl: i + 1, offset: offsetOf(address), dataLength: 4 }),
          );
          expect(readI32(r, 16)).toBe(index * 3);
        }
      }),
    );
    expect(sim.tcpServer!.connections).toBe(clients);
    for (const p of peers) await p.close();
    await sim.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('close() ends open connections and is idempotent', async () => {
    const before = activeResources();
    const sim = await EpicSimulator.start({ udp: true });
    const peer = await RawTcpPeer.connect(sim.port);
    await Promise.all([sim.close(), sim.close()]);
    await expect(peer.reader.readExactly(1)).rejects.toMatchObject({ code: 'Eof' });
    await peer.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('serves UDP on the TCP port number when asked', async () => {
    await using sim = await EpicSimulator.start(vectorDeviceOptions({ udp: true }));
    expect(sim.udpAddress?.port).toBe(sim.port);
    const res = await udpExchange(
      sim.port,
      encodeReadBlockRequest({ tl: 2, offset: offsetOf(0xf0d8100c), dataLength: 4 }),
    );
    expect(readI32(res, 16)).toBe(4242);
  });
});

describe('response buffers', () => {
  it('a client that reads late still gets every response intact (the reused buffer is never overwritten)', async () => {
    await using sim = await EpicSimulator.start(vectorDeviceOptions({ maxBlockBytes: 4096 }));
    // Distinct contents per block, so a response built in a buffer the socket still holds would show.
    const pattern = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
    sim.device.poke(0xf0da0000, pattern);
    await using peer = await RawTcpPeer.connect(sim.port);
    // ~15 MB of responses, more than the kernel's socket buffers and the reader's 1 MiB hold: the
    // server's writes back up and are queued while it keeps building responses.
    const sizes = Array.from({ length: 5000 }, (_, i) => 2048 + ((i * 977) % 2048));
    const offsets = sizes.map((_, i) => (i * 131) % (60 * 1024));
    for (let i = 0; i < sizes.length; i++) {
      peer.write(
        encodeReadBlockRequest({
          tl: i & 63,
          offset: offsetOf(0xf0da0000 + offsets[i]!),
          dataLength: sizes[i]!,
        }),
      );
    }
    for (let i = 0; i < sizes.length; i++) {
      const res = await peer.readRaw();
      expect(res[2]! >> 2).toBe(i & 63);
      expect(toHex(res.subarray(16))).toBe(toHex(pattern.subarray(offsets[i]!, offsets[i]! + sizes[i]!)));
    }
  });
});

describe('fault hooks', () => {
  it('answers the requests that arrive together with one write', async () => {
    await using sim = await EpicSimulator.start(vectorDeviceOptions({ maxBlockBytes: 4096 }));
    const pattern = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 13 + (i >> 8)) & 0xff);
    sim.device.poke(0xf0da0000, pattern);
    await using peer = await RawTcpPeer.connect(sim.port);
    const requests = Array.from({ length: 8 }, (_, i) =>
      encodeReadBlockRequest({ tl: i + 1, offset: offsetOf(0xf0da0000 + 1024 * i), dataLength: 2000 + i }),
    );
    const writes = vi.spyOn(net.Socket.prototype, 'write');
    const emits = vi.spyOn(net.Socket.prototype, 'emit');
    let chunks: number;
    let serverWrites: number;
    try {
      peer.write(concatBytes(requests));
      for (let i = 0; i < 8; i++) {
        const reply = await peer.readPacket();
        expect(reply).toMatchObject({ tcode: 7, tl: i + 1, rcode: 0 });
        if (reply.tcode !== 7) continue;
        expect(toHex(reply.data)).toBe(toHex(pattern.subarray(1024 * i, 1024 * i + 2000 + i)));
      }
      // The server's side of the connection: one write for each chunk that brought requests (8 requests
      // written at once arrive in one chunk, or very rarely two).
      chunks = emits.mock.calls.filter(
        (c, k) => (c[0] as string) === 'data' && emits.mock.contexts[k] !== peer.socket,
      ).length;
      serverWrites = writes.mock.contexts.filter((t) => t !== peer.socket).length;
    } finally {
      writes.mockRestore();
      emits.mockRestore();
    }
    expect(chunks).toBeGreaterThan(0);
    expect(serverWrites).toBeLessThanOrEqual(chunks);
    expect(serverWrites).toBeLessThan(8);
  });

  it('answers a large batch with NAKs among it intact and in order (responses built beyond the buffer)', async () => {
    await using sim = await EpicSimulator.start(vectorDeviceOptions({ maxBlockBytes: 4096 }));
    const pattern = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 29 + (i >> 7)) & 0xff);
    sim.device.poke(0xf0da0000, pattern);
    await using peer = await RawTcpPeer.connect(sim.port);
    // 60 reads of ~4 KiB (about 240 KiB of responses, more than the connection's response buffer grows
    // to) with refused ones among them (too long: rcode 6), all in one write.
    const n = 60;
    const refused = (i: number) => i % 17 === 5;
    const requests = Array.from({ length: n }, (_, i) =>
      encodeReadBlockRequest({
        tl: (i % 63) + 1,
        offset: offsetOf(0xf0da0000 + 512 * i),
        dataLength: refused(i) ? 5000 : 4000 + i,
      }),
    );
    peer.write(concatBytes(requests));
    for (let i = 0; i < n; i++) {
      const reply = await peer.readPacket();
      expect(reply.tl).toBe((i % 63) + 1);
      if (reply.tcode !== 7) throw new Error(`reply ${i}: tcode ${reply.tcode}`);
      if (refused(i)) {
        expect(reply.rcode).toBe(6);
        expect(reply.data.length).toBe(0);
      } else {
        expect(reply.rcode).toBe(0);
        expect(toHex(reply.data)).toBe(toHex(pattern.subarray(512 * i, 512 * i + 4000 + i)));
      }
    }
    expect(sim.tcpServer!.stats.answered).toBe(n);
  });

  it('with a latency, answers due at the same time leave in one gathered write, in order', async () => {
    await using sim = await EpicSimulator.start(vectorDeviceOptions({ maxBlockBytes: 4096, latencyMs: 20 }));
    const pattern = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 11 + (i >> 9)) & 0xff);
    sim.device.poke(0xf0da0000, pattern);
    await using peer = await RawTcpPeer.connect(sim.port);
    const requests = Array.from({ length: 6 }, (_, i) =>
      encodeReadBlockRequest({ tl: i + 1, offset: offsetOf(0xf0da0000 + 2048 * i), dataLength: 3000 }),
    );
    const corks = vi.spyOn(net.Socket.prototype, 'cork');
    let serverCorks: number;
    try {
      peer.write(concatBytes(requests));
      for (let i = 0; i < 6; i++) {
        const reply = await peer.readPacket();
        expect(reply).toMatchObject({ tcode: 7, tl: i + 1, rcode: 0 });
        if (reply.tcode !== 7) continue;
        expect(toHex(reply.data)).toBe(toHex(pattern.subarray(2048 * i, 2048 * i + 3000)));
      }
      serverCorks = corks.mock.contexts.filter((t) => t !== peer.socket).length;
    } finally {
      corks.mockRestore();
    }
    expect(serverCorks).toBeGreaterThan(0);
  });

  it('replace, drop and truncate replies', async () => {
    let mode: 'replace' | 'drop' | 'truncate' | undefined;
    await using sim = await EpicSimulator.start({
      faults: (_req, res) =>
        mode === 'replace'
          ? { kind: 'replace', bytes: Uint8Array.from(res).fill(0xee, 0, 2) }
          : mode === 'drop'
            ? { kind: 'drop' }
            : mode === 'truncate'
              ? { kind: 'truncate', bytes: 5 }
              : undefined,
    });
    await using peer = await RawTcpPeer.connect(sim.port);
    const req = encodeReadBlockRequest({ offset: offsetOf(0xf0300000), dataLength: 4 });
    mode = 'replace';
    expect(toHex(await peer.exchange(req)).slice(0, 4)).toBe('eeee');
    mode = 'drop';
    peer.write(req);
    await expect(peer.reader.readExactly(1, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'Timeout' });
    mode = 'truncate';
    peer.write(req);
    await expect(peer.reader.readExactly(20)).rejects.toMatchObject({
      code: 'Eof',
      partial: expect.any(Uint8Array),
    });
  });
});
