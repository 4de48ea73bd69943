// The simulator's servers over real loopback sockets: many clients at once, UDP, fault hooks, and a
// close() that leaves no socket or timer behind.

import { toHex } from '@labwire/framing';
import { encodeReadBlockRequest, offsetOf } from '@labwire/optommp/codec';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { activeResources, resourcesLeftOver } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
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
