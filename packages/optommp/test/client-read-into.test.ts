// readBlocksInto: several blocks read into caller memory with one promise. Pipelined, every packet is in
// flight together (up to the window) and replies are copied straight from the reader's buffer; each packet
// keeps its own label and checks, and a failure (NAK, timeout, abort, desync) rejects the call with its
// typed error and writes nothing more into the caller's memory. Real sockets against the simulator.

import { AbortedError, TimeoutError, toHex } from '@labwire/framing';
import { OptoMmpClient, PipelineDesyncError, type TcpTransport } from '@labwire/optommp';
import { DeviceError, offsetOf } from '@labwire/optommp/codec';
import { EpicSimulator, type EpicSimulatorOptions } from '@labwire/optommp/simulator';
import { FaultProxy } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { OptoMmpClientOptions } from '../src/client-options';
import { scratchPadInt32Address } from '../src/codec/addresses';
import { encodeReadBlockResponse } from '../src/codec/encode';
import { errorOf } from './client-helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const INTS = 1024;

/** A simulator whose int32 scratch pad holds index × 7 + 1, and a client on it (pipelined by default). */
async function setup(sim: EpicSimulatorOptions = {}, client: Partial<OptoMmpClientOptions> = {}) {
  const s = await EpicSimulator.start(sim);
  cleanup.push(() => s.close());
  const values = new Uint8Array(4 * INTS);
  const view = new DataView(values.buffer);
  for (let i = 0; i < INTS; i++) view.setInt32(4 * i, i * 7 + 1, false);
  s.device.poke(scratchPadInt32Address(0), values);
  const c = new OptoMmpClient({ host: '127.0.0.1', port: s.port, timeoutMs: 5_000, window: 8, ...client });
  cleanup.push(() => c.close());
  const pipeline = () => (c.transport as TcpTransport).pipeline;
  return { s, c, pipeline, values };
}

/** `count` int32s from index `from`, as the device holds them. */
function expected(values: Uint8Array, from: number, count: number): string {
  return toHex(values.subarray(4 * from, 4 * (from + count)));
}

/** Reads of ints [i·10, i·10 + 5) for i < n, each into its own 20 bytes of one buffer. */
function blocksOf(n: number, into: Uint8Array) {
  return Array.from({ length: n }, (_, i) => ({
    address: scratchPadInt32Address(i * 10),
    length: 20,
    into,
    at: 20 * i,
  }));
}

describe('readBlocksInto', () => {
  it('pipelined: every block lands in its place, one packet per block, all in flight together', async () => {
    const { c, pipeline, values } = await setup({ latencyMs: 2 });
    const into = new Uint8Array(20 * 40).fill(0xee);
    await c.readBlocksInto(blocksOf(40, into));
    for (let i = 0; i < 40; i++) {
      expect(toHex(into.subarray(20 * i, 20 * i + 20))).toBe(expected(values, i * 10, 5));
    }
    expect(pipeline()!.stats).toMatchObject({ sent: 40, answered: 40, maxInFlight: 8, desyncs: 0 });
    expect(c.requestCount).toBe(40);
    // The same list again (a user reads the same blocks over and over): the same bytes.
    into.fill(0);
    await c.readBlocksInto(blocksOf(40, into));
    expect(toHex(into.subarray(780, 800))).toBe(expected(values, 390, 5));
  });

  it('splits a block longer than maxBlockBytes into packets, each into its part of the memory', async () => {
    const { c, pipeline, values } = await setup({}, { maxBlockBytes: 64 });
    const into = new Uint8Array(8 + 4 * 300);
    await c.readBlocksInto([
      { address: scratchPadInt32Address(100), length: 4 * 300, into, at: 8 },
      { address: scratchPadInt32Address(5), length: 8, into },
    ]);
    expect(toHex(into.subarray(8))).toBe(expected(values, 100, 300));
    expect(toHex(into.subarray(0, 8))).toBe(expected(values, 5, 2));
    // ceil(1200 / 64) = 19 packets for the long block, 1 for the short one.
    expect(pipeline()!.stats.sent).toBe(20);
  });

  it('one request at a time (window 1) reads the same bytes', async () => {
    const { c, values } = await setup({}, { window: 1, maxBlockBytes: 64 });
    const into = new Uint8Array(20 * 12 + 400);
    await c.readBlocksInto([
      ...blocksOf(12, into),
      { address: scratchPadInt32Address(500), length: 400, into, at: 240 },
    ]);
    expect(toHex(into.subarray(220, 240))).toBe(expected(values, 110, 5));
    expect(toHex(into.subarray(240))).toBe(expected(values, 500, 100));
  });

  it('mixed with single calls on the same link: every caller gets its own values', async () => {
    const { c, values } = await setup({ latencyMs: 1, jitterMs: 2 }, { window: 16 });
    const into = new Uint8Array(20 * 30);
    const singles = Promise.all(Array.from({ length: 30 }, (_, i) => c.getScratchPadIntegerArea(700 + i)));
    const writeThenRead = c.setScratchPadIntegerArea(1000, -5).then(() => c.getScratchPadIntegerArea(1000));
    await c.readBlocksInto(blocksOf(30, into));
    expect(await singles).toEqual(Array.from({ length: 30 }, (_, i) => (700 + i) * 7 + 1));
    expect(await writeThenRead).toBe(-5);
    for (let i = 0; i < 30; i++) {
      expect(toHex(into.subarray(20 * i, 20 * i + 20))).toBe(expected(values, i * 10, 5));
    }
  });

  it('a NAK rejects with DeviceError; the other packets are answered and the link stays in step', async () => {
    const nakAt = offsetOf(scratchPadInt32Address(30));
    const { c, pipeline } = await setup({
      faults: (req, res) =>
        'offset' in req && req.offset === nakAt
          ? {
              kind: 'replace',
              bytes: encodeReadBlockResponse({ tl: res[2]! >> 2, rcode: 4, data: new Uint8Array(0) }),
            }
          : undefined,
    });
    const into = new Uint8Array(20 * 10);
    const error = await errorOf(c.readBlocksInto(blocksOf(10, into)));
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as DeviceError).rcode).toBe(4);
    expect(await c.getScratchPadIntegerArea(3)).toBe(22);
    expect(pipeline()!.stats.desyncs).toBe(0);
  });

  it('times out with TimeoutError and writes nothing into the memory after it rejected', async () => {
    const { c, pipeline } = await setup({ latencyMs: 300 });
    const into = new Uint8Array(20 * 4);
    const error = await errorOf(c.readBlocksInto(blocksOf(4, into), { timeoutMs: 50 }));
    expect(TimeoutError.isInstance(error)).toBe(true);
    // The late replies come and are dropped: the memory stays as it was.
    await expect
      .poll(() => pipeline()!.stats.lateReplies + pipeline()!.stats.desyncs, { timeout: 5_000 })
      .toBeGreaterThan(0);
    expect(into.every((b) => b === 0)).toBe(true);
    // A fresh call gets its own values.
    expect(await c.getScratchPadIntegerArea(9, { timeoutMs: 5_000 })).toBe(64);
  });

  it('an abort rejects with AbortedError, leaves the memory alone, and the link goes on', async () => {
    const { c } = await setup({ latencyMs: 100 });
    const ac = new AbortController();
    const into = new Uint8Array(20 * 20);
    const pending = errorOf(c.readBlocksInto(blocksOf(20, into), { signal: ac.signal }));
    setTimeout(() => ac.abort(), 10);
    expect(AbortedError.isInstance(await pending)).toBe(true);
    expect(await c.getScratchPadIntegerArea(11)).toBe(78);
    expect(into.every((b) => b === 0)).toBe(true);
    const before = new AbortController();
    before.abort();
    expect(
      AbortedError.isInstance(await errorOf(c.readBlocksInto(blocksOf(2, into), { signal: before.signal }))),
    ).toBe(true);
  });

  it('mislabelled replies: PipelineDesyncError, nothing copied from them, a fresh link afterwards', async () => {
    let wrong = true;
    const { c, pipeline, values } = await setup({
      faults: (_req, res) => {
        if (!wrong) return undefined;
        const bad = Uint8Array.from(res);
        bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2;
        return { kind: 'replace', bytes: bad };
      },
    });
    const into = new Uint8Array(20 * 8);
    const error = await errorOf(c.readBlocksInto(blocksOf(8, into)));
    expect(PipelineDesyncError.isInstance(error) || TimeoutError.isInstance(error)).toBe(true);
    expect(into.every((b) => b === 0)).toBe(true);
    expect(pipeline()!.stats.desyncs).toBeGreaterThanOrEqual(1);
    wrong = false;
    await c.readBlocksInto(blocksOf(8, into));
    expect(toHex(into.subarray(140, 160))).toBe(expected(values, 70, 5));
  });

  it('refuses a block that does not fit its memory (a rejection, nothing sent)', async () => {
    const { c, pipeline } = await setup();
    const into = new Uint8Array(16);
    const bad = [{ address: scratchPadInt32Address(0), length: 20, into }];
    expect(await errorOf(c.readBlocksInto(bad))).toBeInstanceOf(RangeError);
    const shifted = [{ address: scratchPadInt32Address(0), length: 8, into, at: 12 }];
    expect(await errorOf(c.readBlocksInto(shifted))).toBeInstanceOf(RangeError);
    await c.readBlocksInto([]);
    expect(pipeline()!.stats.sent).toBe(0);
  });
});

describe('readBlocksInto: replies cut anywhere', () => {
  it('replies in pieces of 1–9 bytes (headers and data cut at every place): every block right, the link in step', async () => {
    const s = await EpicSimulator.start({});
    cleanup.push(() => s.close());
    const values = Uint8Array.from({ length: 4 * INTS }, (_, i) => (i * 13 + 5) & 0xff);
    s.device.poke(scratchPadInt32Address(0), values);
    const proxy = await FaultProxy.start({
      target: { port: s.port },
      downstream: { sliceMax: 9, sliceDelayMs: 0 },
      seed: 7,
    });
    cleanup.push(() => proxy.close());
    const c = new OptoMmpClient({
      host: '127.0.0.1',
      port: proxy.port,
      timeoutMs: 10_000,
      window: 16,
      maxBlockBytes: 64,
    });
    cleanup.push(() => c.close());
    // Blocks of 1…40 ints (up to three packets of 64 bytes each), twice over.
    const blocks = Array.from({ length: 24 }, (_, i) => ({
      address: scratchPadInt32Address(i * 40),
      length: 4 * (1 + ((i * 11) % 40)),
      into: new Uint8Array(4 * 40 + 3).fill(0xee),
      at: 3,
    }));
    for (let round = 0; round < 2; round++) {
      await c.readBlocksInto(blocks);
      for (const [i, b] of blocks.entries()) {
        expect(toHex(b.into.subarray(3, 3 + b.length))).toBe(
          toHex(values.subarray(160 * i, 160 * i + b.length)),
        );
        expect(toHex(b.into.subarray(0, 3))).toBe('eeeeee');
      }
    }
    // Single calls cut the same way, mixed in.
    expect(await c.getScratchPadIntegerArea(5)).toBe(new DataView(values.buffer).getInt32(20, false));
    const packets = 2 * blocks.reduce((n, b) => n + Math.ceil(b.length / 64), 0) + 1;
    const stats = (c.transport as TcpTransport).pipeline!.stats;
    expect(stats).toMatchObject({ sent: packets, answered: packets, desyncs: 0, lateReplies: 0 });
  });

  it('blocks of length 0 read nothing and send nothing', async () => {
    const { c, pipeline, values } = await setup();
    const into = new Uint8Array(8).fill(0xee);
    await c.readBlocksInto([
      { address: scratchPadInt32Address(0), length: 0, into },
      { address: scratchPadInt32Address(1), length: 4, into, at: 4 },
      { address: scratchPadInt32Address(2), length: 0, into, at: 8 },
    ]);
    expect(toHex(into)).toBe(`eeeeeeee${expected(values, 1, 1)}`);
    expect(pipeline()!.stats.sent).toBe(1);
    expect(c.requestCount).toBe(1);
  });
});

describe('Pipeline.exchangeInto', () => {
  it('refuses a part whose reply would not fit its memory, before anything is sent', async () => {
    const { c, pipeline } = await setup();
    const p = pipeline()!;
    const request = { tcode: 5 as const, offset: offsetOf(scratchPadInt32Address(0)), dataLength: 8 };
    const small = new Uint8Array(8);
    expect(await errorOf(p.exchangeInto([{ request, into: small, at: 4 }], {}))).toBeInstanceOf(RangeError);
    expect(p.stats.sent).toBe(0);
    await p.exchangeInto([{ request, into: small, at: 0 }], {});
    expect(toHex(small)).toBe('0000000100000008');
    expect(await c.getScratchPadIntegerArea(2)).toBe(15);
  });
});
