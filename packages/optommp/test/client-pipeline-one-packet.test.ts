// One-packet reads on a pipelined link (readBlockAs, readUint32/readInt32/readFloat32, readAnalogModule)
// go straight to the pipeline, without a budget or request object per call: the same labels, checks,
// deadlines, aborts and errors as every other pipelined request, against the simulator on 127.0.0.1.

import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AbortedError, ClosedError, TimeoutError } from '@labwire/framing';
import { OptoMmpClient, type TcpTransport } from '@labwire/optommp';
import { encodePacket } from '@labwire/optommp/codec';
import { vectorDeviceOptions } from '@labwire/optommp/simulator';
import { describe, expect, it } from 'vitest';
import { epicAnalogReadAddress, scratchPadInt32Address } from '../src/codec/addresses';
import { errorOf, expectNoneDelivered, pipelinedRigs } from './client-helpers';

/** A simulator whose int32 scratch pad holds index × 7 + 1, and a pipelined client (window 8) on it. */
const { setup } = pipelinedRigs();

const at = (i: number) => scratchPadInt32Address(i);

/** V8's full garbage collection (exposed for this process: vitest does not start it with --expose-gc). */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** readUint32 of scratch-pad ints from…from+n−1, all at once. */
function readAll(c: OptoMmpClient, n: number, from = 0) {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => c.readUint32(at(from + i))));
}

function expectValues(results: PromiseSettledResult<number>[], value: (i: number) => number): void {
  for (let i = 0; i < results.length; i++) {
    expect(results[i]).toEqual({ status: 'fulfilled', value: value(i) });
  }
}

describe('one-packet reads on a pipelined link', () => {
  it('every caller gets its own bytes, up to the window in flight, labels wrapping past 63', async () => {
    const { c, s, pipeline } = await setup({ latencyMs: 2, jitterMs: 3 });
    const seen: number[][] = [];
    const blocks = Array.from({ length: 100 }, (_, i) =>
      c.readBlockAs(at(2 * i), 8, (data) => {
        const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
        seen[i] = [v.getInt32(0, false), v.getInt32(4, false)];
        return i;
      }),
    );
    const ints = readAll(c, 100, 300);
    expect(await Promise.all(blocks)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (let i = 0; i < 100; i++) expect(seen[i]).toEqual([2 * i * 7 + 1, (2 * i + 1) * 7 + 1]);
    expectValues(await ints, (i) => (300 + i) * 7 + 1);
    expect(await c.readInt32(at(5))).toBe(5 * 7 + 1);
    expect(pipeline().stats).toMatchObject({ sent: 201, answered: 201, desyncs: 0, maxInFlight: 8 });
    expect(s.tcpServer!.stats.answered).toBe(201);
    expect((c.transport as TcpTransport).tcp.counters.connects).toBe(1);
  });

  it('readAnalogModule reads the whole module in one packet and decodes every channel', async () => {
    const { c, pipeline } = await setup({ maxBlockBytes: 4096 }, { maxBlockBytes: 4096 });
    const modules = await Promise.all(Array.from({ length: 20 }, () => c.readAnalogModule(2)));
    const few = await c.readAnalogModule(2, 3);
    // The same bytes, read as a block and decoded here: the point fields at their offsets.
    const bytes = await c.readBlock(epicAnalogReadAddress(2, 0), 63 * 0x40 + 0x14);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const points of modules) {
      expect(points).toHaveLength(64);
      for (const [ch, p] of points.entries()) {
        expect(Object.keys(p).sort()).toEqual(['counts', 'max', 'min', 'quality', 'value']);
        expect(p.counts).toBe(v.getUint32(ch * 0x40 + 4, false));
        expect(p.quality).toBe(v.getUint32(ch * 0x40 + 0x10, false));
      }
    }
    expect(few).toHaveLength(3);
    expect(pipeline().stats).toMatchObject({ sent: 22, answered: 22, desyncs: 0 });
  });

  it('readAnalogModule on a pipelined link: every field of every channel as the bytes say', async () => {
    const { c } = await setup(vectorDeviceOptions({ maxBlockBytes: 4096 }), { maxBlockBytes: 4096 });
    const bytes = await c.readBlock(epicAnalogReadAddress(2, 0), 63 * 0x40 + 0x14);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const expected = Array.from({ length: 64 }, (_, ch) => ({
      value: v.getFloat32(ch * 0x40, false),
      counts: v.getUint32(ch * 0x40 + 4, false),
      min: v.getFloat32(ch * 0x40 + 8, false),
      max: v.getFloat32(ch * 0x40 + 0xc, false),
      quality: v.getUint32(ch * 0x40 + 0x10, false),
    }));
    expect(expected[0]).toMatchObject({ value: 12.5, min: -1.25, max: 99.5 });
    // Concurrent calls (replies decoded where they landed, several in one receive buffer) and calls
    // interleaved with other reads: each gets the module's own fields.
    const modules = await Promise.all(
      Array.from({ length: 24 }, (_, i) => (i % 3 === 2 ? c.readUint32(at(i)) : c.readAnalogModule(2))),
    );
    for (const [i, m] of modules.entries()) {
      if (i % 3 === 2) expect(m).toBe(i * 7 + 1);
      else expect(m).toEqual(expected);
    }
  });

  it('a one-packet read that times out keeps its label until its late reply is dropped', async () => {
    const { c, pipeline } = await setup({ latencyMs: 150 });
    const early = errorOf(c.readUint32(at(1), { timeoutMs: 50 }));
    const later = c.readUint32(at(2), { timeoutMs: 5_000 });
    expect(TimeoutError.isInstance(await early)).toBe(true);
    expect(await later).toBe(2 * 7 + 1);
    expectValues(await readAll(c, 20, 10), (i) => (10 + i) * 7 + 1);
    expect(pipeline().stats).toMatchObject({ lateReplies: 1, timeouts: 1, desyncs: 0 });
  });

  it('an abort ends one read, the others are answered; an aborted signal or a bad argument rejects at once', async () => {
    const { c, pipeline } = await setup({ latencyMs: 20 });
    const ac = new AbortController();
    const aborted = errorOf(c.readBlockAs(at(1), 4, () => 'delivered', { signal: ac.signal }));
    const others = readAll(c, 10, 20);
    ac.abort();
    expect(AbortedError.isInstance(await aborted)).toBe(true);
    expectValues(await others, (i) => (20 + i) * 7 + 1);

    const sent = pipeline().stats.sent;
    const before = await errorOf(c.readFloat32(at(3), { signal: AbortSignal.abort() }));
    expect(AbortedError.isInstance(before)).toBe(true);
    expect((before as Error).message).toContain('readFloat32');
    // A bad argument is a rejection, never a synchronous throw.
    const badTimeout = c.readUint32(at(1), { timeoutMs: -1 });
    expect(await errorOf(badTimeout)).toBeInstanceOf(RangeError);
    expect(await errorOf(c.readBlockAs(0xffff_fff0, 64, () => 0))).toBeInstanceOf(RangeError);
    expect(await errorOf(c.readAnalogModule(2, 65))).toBeInstanceOf(RangeError);
    // None of them sent anything.
    expect(pipeline().stats.sent).toBe(sent);
  });

  it('a settled read lets go of its caller: nothing the pipeline keeps holds the value it delivered', async () => {
    const gc = collectGarbage();
    const { c, pipeline } = await setup({ maxBlockBytes: 4096 }, { maxBlockBytes: 4096 });
    // The results of a few reads and of a decoder, held only weakly once the calls are done. The last
    // requests stay in the pipeline's send-order list until later replies push them out.
    const weak = await (async () => {
      const modules = await Promise.all(Array.from({ length: 4 }, () => c.readAnalogModule(2)));
      const decoded = await c.readBlockAs(at(1), 4, (data) => ({ first: data[3] }));
      expect(decoded.first).toBe((1 * 7 + 1) & 0xff);
      return [...modules, decoded].map((value) => new WeakRef(value));
    })();
    // A WeakRef keeps its target until the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(weak.map((w) => w.deref() === undefined)).toEqual([true, true, true, true, true]);
    expect(pipeline().stats).toMatchObject({ sent: 5, answered: 5 });
  });

  it('readAnalogModule replies cut anywhere by the stream: every module decoded from its own bytes', async () => {
    // A plain server on 127.0.0.1 answering each read block request with a module whose fields say which
    // request it answers, written in 997-byte pieces: every reply is cut across reads, some in their
    // header, all in their data (whole replies at any place in a receive buffer: the tests above).
    const server = net.createServer((socket) => {
      socket.setNoDelay(true);
      let pending = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        const replies: Uint8Array[] = [];
        while (pending.length >= 16) {
          const request = pending.subarray(0, 16);
          const tl = request[2]! >> 2;
          const n = (request[12]! << 8) | request[13]!;
          const ask = new DataView(request.buffer, request.byteOffset + 8, 4).getUint32(0, false);
          const data = new Uint8Array(n);
          const v = new DataView(data.buffer);
          for (let c = 0; 0x40 * c + 0x14 <= n; c++) {
            v.setFloat32(0x40 * c, ask % 1000, false);
            v.setUint32(0x40 * c + 4, c, false);
            v.setUint32(0x40 * c + 0x10, tl, false);
          }
          replies.push(
            encodePacket({
              tcode: 7,
              destinationId: 0,
              tl,
              rt: 0,
              pri: 0,
              sourceId: 0,
              rcode: 0,
              extendedTcode: 0,
              data,
            }),
          );
          pending = pending.subarray(16);
        }
        // One stream of reply bytes, written in pieces one turn apart.
        const idle = out.length === 0;
        out = Buffer.concat([out, ...replies]);
        if (idle) send();
      });
      let out = Buffer.alloc(0);
      const send = () => {
        if (out.length === 0 || socket.destroyed) return;
        socket.write(out.subarray(0, 997));
        out = out.subarray(997);
        setImmediate(send);
      };
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const c = new OptoMmpClient({ host: '127.0.0.1', port, window: 8, maxBlockBytes: 4096, timeoutMs: 5000 });
    try {
      await c.connect();
      const modules = await Promise.all(
        Array.from({ length: 40 }, (_, i) => c.readAnalogModule(1 + (i % 3))),
      );
      for (const [i, points] of modules.entries()) {
        const ask = epicAnalogReadAddress(1 + (i % 3), 0) % 1000;
        expect(points).toHaveLength(64);
        for (const [ch, p] of points.entries()) {
          expect(p).toMatchObject({ value: Math.fround(ask), counts: ch, min: 0, max: 0 });
        }
        // The label each reply carried: the request's own (1, 2, … in send order).
        expect(points[63]!.quality).toBe((i + 1) & 63);
      }
    } finally {
      await c.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a decoder that throws fails its own call only', async () => {
    const { c } = await setup({ latencyMs: 2 });
    const boom = errorOf(
      c.readBlockAs(at(1), 4, () => {
        throw new Error('boom');
      }),
    );
    const fine = readAll(c, 8, 40);
    expect(((await boom) as Error).message).toBe('boom');
    expectValues(await fine, (i) => (40 + i) * 7 + 1);
  });

  it('mislabelled replies: PipelineDesyncError, nothing misdelivered, a fresh link after', async () => {
    let wrong = true;
    const { c, pipeline } = await setup({
      faults: (_req, res) => {
        if (!wrong) return undefined;
        const bad = Uint8Array.from(res);
        bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2;
        return { kind: 'replace', bytes: bad };
      },
    });
    const results = await readAll(c, 16);
    expectNoneDelivered(results);
    expect(pipeline().stats.desyncs).toBeGreaterThanOrEqual(1);
    wrong = false;
    expectValues(await readAll(c, 16, 100), (i) => (100 + i) * 7 + 1);
    expect((c.transport as TcpTransport).tcp.counters.connects).toBeGreaterThanOrEqual(2);
  });

  it('close() settles every read in flight and queued; later reads reject with ClosedError', async () => {
    const { c } = await setup({ latencyMs: 60_000 });
    const pending = readAll(c, 20);
    await new Promise((r) => setTimeout(r, 20));
    await c.close();
    for (const r of await pending) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected') expect(ClosedError.isInstance(r.reason)).toBe(true);
    }
    expect(ClosedError.isInstance(await errorOf(c.readUint32(at(1))))).toBe(true);
  });

  it('with autoPuc the reads take the general path (Powerup Clear check first) and still pipeline', async () => {
    const { c, pipeline } = await setup({ latencyMs: 2 }, { autoPuc: true });
    expectValues(await readAll(c, 24, 60), (i) => (60 + i) * 7 + 1);
    // The Powerup Clear flag read went first, on the same link.
    expect(pipeline().stats.sent).toBeGreaterThanOrEqual(25);
  });
});
