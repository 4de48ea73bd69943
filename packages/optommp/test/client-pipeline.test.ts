// Pipelined requests (window > 1) against the simulator's answer behaviours: replies matched by label,
// the window respected, labels wrapping past 63, late replies dropped, and every way a device can get it
// wrong (dropped requests, answers out of order, wrong labels) ending in typed errors with nothing
// delivered to the wrong caller.

import { AbortedError, TimeoutError } from '@labwire/framing';
import { OptoMmpClient, PipelineDesyncError, TcpTransport } from '@labwire/optommp';
import { describe, expect, it } from 'vitest';
import { errorOf, expectNoneDelivered, pipelinedRigs } from './client-helpers';

/** A simulator whose int32 scratch pad holds index × 7 + 1, and a pipelined client (window 8) on it. */
const { setup, cleanup } = pipelinedRigs();

/** Every call fulfilled with the value of its own index. */
function expectValues(results: PromiseSettledResult<number>[], value: (i: number) => number): void {
  for (let i = 0; i < results.length; i++) {
    expect(results[i]).toEqual({ status: 'fulfilled', value: value(i) });
  }
}

/** Reads scratch-pad ints 0…n−1 concurrently; every caller must get its own index's value. */
async function readAll(c: OptoMmpClient, n: number, from = 0) {
  return Promise.allSettled(Array.from({ length: n }, (_, i) => c.getScratchPadIntegerArea(from + i)));
}

describe('pipelining', () => {
  it('keeps up to `window` requests in flight and matches every reply to its caller', async () => {
    const { c, s, pipeline } = await setup({ latencyMs: 2, jitterMs: 3 });
    const results = await readAll(c, 200);
    expectValues(results, (i) => i * 7 + 1);
    const stats = pipeline().stats;
    expect(stats.maxInFlight).toBe(8);
    expect(stats).toMatchObject({ sent: 200, answered: 200, desyncs: 0, outOfOrder: 0 });
    expect(s.tcpServer!.stats.answered).toBe(200);
    // 200 requests on one connection: labels wrapped past 63 three times.
    expect((c.transport as TcpTransport).tcp.counters.connects).toBe(1);
  });

  it('a chunked read sends its chunks together and reassembles them in order', async () => {
    const { c, pipeline } = await setup({}, { maxBlockBytes: 64 });
    const values = await c.readScratchPadIntegers(0, 400);
    expect(values).toEqual(Array.from({ length: 400 }, (_, i) => i * 7 + 1));
    expect(pipeline().stats.maxInFlight).toBe(8);
  });

  it('replies that arrive together are taken one after the other and requests freed together leave in one write', async () => {
    // No latency: the simulator answers the requests of a chunk in one write, so replies arrive in bursts.
    const { c, s, pipeline } = await setup({}, { window: 16 });
    const results = await readAll(c, 480);
    expectValues(results, (i) => i * 7 + 1);
    const stats = pipeline().stats;
    expect(stats).toMatchObject({ sent: 480, answered: 480, desyncs: 0, outOfOrder: 0, lateReplies: 0 });
    // Requests freed by one burst of replies share a write (one write per request would be 480).
    expect(stats.writes).toBeLessThan(480 / 2);
    expect(s.tcpServer!.stats.answered).toBe(480);
  });

  it('callers that ask again as their replies come refill the window in one write, in one turn or in two', async () => {
    const { c, pipeline } = await setup({}, { window: 16 });
    // 16 callers reading in a loop: each asks again in the turn its answer resumes it, or one turn later.
    for (const extraTurn of [false, true]) {
      const before = pipeline().stats;
      const seen: number[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async (_, k) => {
          for (let round = 0; round < 20; round++) {
            const i = k * 20 + round;
            seen[i] = await c.getScratchPadIntegerArea(i);
            if (extraTurn) await Promise.resolve();
          }
        }),
      );
      expect(seen).toEqual(Array.from({ length: 320 }, (_, i) => i * 7 + 1));
      const after = pipeline().stats;
      expect(after.sent - before.sent).toBe(320);
      // Requests freed together leave together (one write per request would be 320).
      expect(after.writes - before.writes).toBeLessThanOrEqual(320 / 4);
      expect(after).toMatchObject({ desyncs: 0, lateReplies: 0 });
    }
  });

  it('rejects a window outside 1…32', () => {
    expect(() => new OptoMmpClient({ host: '127.0.0.1', window: 0 })).toThrow(RangeError);
    expect(() => new OptoMmpClient({ host: '127.0.0.1', window: 33 })).toThrow(RangeError);
  });

  it('a request that times out keeps its label until its late reply is dropped', async () => {
    const { c, pipeline } = await setup({ latencyMs: 150 });
    const early = errorOf(c.getScratchPadIntegerArea(1, { timeoutMs: 50 }));
    const later = c.getScratchPadIntegerArea(2, { timeoutMs: 5_000 });
    expect(TimeoutError.isInstance(await early)).toBe(true);
    expect(await later).toBe(2 * 7 + 1);
    // More requests after the late reply: every one gets its own value.
    const results = await readAll(c, 20, 10);
    expectValues(results, (i) => (10 + i) * 7 + 1);
    expect(pipeline().stats).toMatchObject({ lateReplies: 1, timeouts: 1, desyncs: 0 });
  });

  it('an abort ends one request; the others are answered', async () => {
    const { c } = await setup({ latencyMs: 20 });
    const ac = new AbortController();
    const aborted = errorOf(c.getScratchPadIntegerArea(1, { signal: ac.signal }));
    const others = readAll(c, 10, 20);
    ac.abort();
    expect(AbortedError.isInstance(await aborted)).toBe(true);
    expectValues(await others, (i) => (20 + i) * 7 + 1);
  });
});

describe('devices that get pipelining wrong', () => {
  it('answers with wrong labels: requests in flight fail with PipelineDesyncError, nothing misdelivered', async () => {
    let wrong = true;
    const { c, pipeline } = await setup({
      faults: (_req, res) => {
        if (!wrong) return undefined;
        const bad = Uint8Array.from(res);
        bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2; // the next label: often one that is in flight
        return { kind: 'replace', bytes: bad };
      },
    });
    const reasons: string[] = [];
    (c.transport as TcpTransport).tcp.on('disconnected', (e) => reasons.push(e.reason));
    const results = await readAll(c, 16);
    // Never another request's value: a typed error each.
    expectNoneDelivered(results);
    expect(pipeline().stats.desyncs).toBeGreaterThanOrEqual(1);
    wrong = false;
    // A fresh connection, and the device answering correctly again: all values right.
    const after = await readAll(c, 16, 100);
    expectValues(after, (i) => (100 + i) * 7 + 1);
    expect((c.transport as TcpTransport).tcp.counters.connects).toBeGreaterThanOrEqual(2);
    // The link was replaced by the interface's explicit reconnect, which names why.
    expect(reasons.length).toBeGreaterThanOrEqual(1);
    expect(new Set(reasons)).toEqual(new Set(['desync']));
  });

  it('drops all but the first outstanding request: typed errors, the link replaced, one-at-a-time still works', async () => {
    const { c, pipeline } = await setup({ pipelining: 'first-only' }, { timeoutMs: 1_000 });
    const results = await readAll(c, 8);
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    for (const r of results.slice(1)) {
      if (r.status === 'fulfilled') expect(r.value).toBe(results.indexOf(r) * 7 + 1);
      else expect(PipelineDesyncError.isInstance(r.reason) || TimeoutError.isInstance(r.reason)).toBe(true);
    }
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    // Sequential calls never have two requests outstanding: the device answers them all.
    for (let i = 0; i < 5; i++) expect(await c.getScratchPadIntegerArea(40 + i)).toBe((40 + i) * 7 + 1);
    const stats = pipeline().stats;
    expect(stats.desyncs + stats.timeouts).toBeGreaterThanOrEqual(1);
  });

  it('answers out of order: refused by default (PipelineDesyncError), delivered by label with ordered: false', async () => {
    const strict = await setup({ pipelining: 'out-of-order', latencyMs: 5 });
    const refused = await readAll(strict.c, 8);
    for (const [i, r] of refused.entries()) {
      if (r.status === 'fulfilled') expect(r.value).toBe(i * 7 + 1);
      else expect(PipelineDesyncError.isInstance(r.reason)).toBe(true);
    }
    expect(strict.pipeline().stats.desyncs).toBeGreaterThanOrEqual(1);

    // Matching by label alone: a transport built with `ordered: false`.
    const loose = await setup({ pipelining: 'out-of-order', latencyMs: 5 });
    const transport = new TcpTransport('127.0.0.1', loose.s.port, {
      window: 8,
      ordered: false,
      timeoutMs: 5_000,
    });
    const c = new OptoMmpClient({ transport, timeoutMs: 5_000 });
    cleanup.push(() => c.close());
    const results = await readAll(c, 64);
    expectValues(results, (i) => i * 7 + 1);
    expect(transport.pipeline!.stats.outOfOrder).toBeGreaterThan(0);
    expect(transport.pipeline!.stats.desyncs).toBe(0);
  });

  it('answers serially: everything answered in order, no faster than one at a time', async () => {
    const { c, pipeline } = await setup({ pipelining: 'serial', latencyMs: 3 });
    const results = await readAll(c, 24);
    expectValues(results, (i) => i * 7 + 1);
    expect(pipeline().stats).toMatchObject({ desyncs: 0, outOfOrder: 0, answered: 24 });
  });

  it('close() settles everything queued and in flight', async () => {
    const { c } = await setup({ latencyMs: 60_000 });
    const pending = readAll(c, 20);
    await new Promise((r) => setTimeout(r, 20));
    await c.close();
    for (const r of await pending) expect(r.status).toBe('rejected');
  });
});
