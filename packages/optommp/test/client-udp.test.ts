// The UDP transport: the same API, one datagram per request; late datagrams are dropped by tl.

import dgram from 'node:dgram';
import { AbortedError, ClosedError, LabwireError, TimeoutError } from '@labwire/framing';
import { OptoMmpClient, UdpTimeoutError, type UdpTransport } from '@labwire/optommp';
import { decodePacket } from '@labwire/optommp/codec';
import { activeResources, resourcesLeftOver } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReadBlockResponse } from '../src/codec/encode';
import { encodeInt32 } from '../src/codec/values';
import { errorOf, type Rig, rig } from './client-helpers';

let current: Rig | undefined;
const extra: (() => Promise<void>)[] = [];
afterEach(async () => {
  await current?.close();
  current = undefined;
  for (const c of extra.splice(0).reverse()) await c();
});

describe('OptoMmpClient over UDP', () => {
  it('reads, writes, chunks and NAKs like over TCP', async () => {
    current = await rig({ tcp: false, udp: true }, { transport: 'udp' });
    const c = current.client;
    expect(c.transport.kind).toBe('udp');
    expect(await c.getScratchPadIntegerArea(3)).toBe(4242);
    await c.setScratchPadIntegerArea(3, -9);
    expect(await c.getScratchPadIntegerArea(3)).toBe(-9);
    const data = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff);
    await c.writeBlock(0xf0da0000, data);
    expect(await c.readBlock(0xf0da0000, 2500)).toEqual(data);
    expect(await errorOf(c.readQuadlet(0xf0f0f000))).toMatchObject({ code: 'DeviceNak', deviceCode: 0xe005 });
    expect((await c.readStatus()).firmwareVersion).toBe('R4.1c');
    const tls = current.requests.map((q) => q.tl);
    expect(tls.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('a silent device times out; an abort is AbortedError; close settles everything', async () => {
    const before = activeResources(['UDPWrap', 'Timeout']);
    current = await rig(
      { tcp: false, udp: true, faults: () => ({ kind: 'drop' }) },
      { transport: 'udp', timeoutMs: 80 },
    );
    const c = current.client;
    const silent = await errorOf(c.uptime());
    expect(TimeoutError.isInstance(silent)).toBe(true);
    expect((silent as Error).message).toMatch(/timed out after 80 ms: no datagram arrived$/);
    const ac = new AbortController();
    const aborted = errorOf(c.uptime({ signal: ac.signal, timeoutMs: 5000 }));
    setTimeout(() => ac.abort(), 10);
    expect(AbortedError.isInstance(await aborted)).toBe(true);
    const pending = errorOf(c.uptime({ timeoutMs: 5000 }));
    await new Promise((r) => setTimeout(r, 10));
    await current.close();
    current = undefined;
    expect(ClosedError.isInstance(await pending)).toBe(true);
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('drops a late datagram answering an earlier, timed-out request', async () => {
    // A device that answers each request only when the next one arrives: the first answer comes late.
    const server = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    extra.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    let held: { tl: number; port: number } | undefined;
    server.on('message', (msg, rinfo) => {
      const req = decodePacket(new Uint8Array(msg));
      const answer = (tl: number, value: number) =>
        server.send(
          encodeReadBlockResponse({ tl, rcode: 0, data: encodeInt32(value) }),
          rinfo.port,
          rinfo.address,
        );
      if (held === undefined) {
        held = { tl: req.tl, port: rinfo.port };
        return;
      }
      answer(held.tl, 111); // late, for the timed-out request
      answer(req.tl, 222);
    });
    const client = new OptoMmpClient({
      host: '127.0.0.1',
      port: server.address().port,
      transport: 'udp',
      timeoutMs: 100,
    });
    extra.push(() => client.close());
    expect(TimeoutError.isInstance(await errorOf(client.uptime()))).toBe(true);
    expect(await client.uptime({ timeoutMs: 1000 })).toBe(222);
    // The late answer was counted, by reason.
    expect((client.transport as UdpTransport).dropped).toEqual({
      unsolicited: 0,
      wrongLabel: 1,
      undecodable: 0,
    });
  });

  it('a device answering with the wrong labels: the timeout says how many datagrams were dropped and why', async () => {
    current = await rig(
      {
        tcp: false,
        udp: true,
        faults: (_req, res) => {
          const bad = Uint8Array.from(res);
          bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2;
          return { kind: 'replace', bytes: bad };
        },
      },
      { transport: 'udp', timeoutMs: 300 },
    );
    const e = await errorOf(current.client.uptime());
    expect(TimeoutError.isInstance(e) && UdpTimeoutError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(
      /timed out after 300 ms: 1 datagram arrived and was dropped: 1 with another transaction label \(last 2, awaiting 1\)$/,
    );
    expect((e as UdpTimeoutError).dropped).toEqual({
      wrongLabel: 1,
      lastWrongLabel: 2,
      undecodable: 0,
      awaitedLabel: 1,
    });
    expect((current.client.transport as UdpTransport).dropped.wrongLabel).toBe(1);
  });

  it('an absent device is a typed error', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = new OptoMmpClient({ host: '127.0.0.1', port, transport: 'udp', timeoutMs: 300 });
    extra.push(() => client.close());
    const e = await errorOf(client.uptime());
    expect(LabwireError.isInstance(e)).toBe(true);
    // Loopback delivers the ICMP port-unreachable at once: said in words, not as a bare errno.
    expect((e as Error).message).toContain('port unreachable: nothing listens there');
  });
});
