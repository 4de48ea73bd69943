// probePipelining() against each answer behaviour of the simulator: it must tell a device that answers
// pipelined requests correctly from one that drops them, reorders them or mislabels them, and recommend
// a window only for the first.

import { OptoMmpClient } from '@labwire/optommp';
import { EpicSimulator, type EpicSimulatorOptions } from '@labwire/optommp/simulator';
import { afterEach, describe, expect, it } from 'vitest';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function probe(sim: EpicSimulatorOptions, options = {}) {
  const s = await EpicSimulator.start(sim);
  cleanup.push(() => s.close());
  const client = new OptoMmpClient({ host: '127.0.0.1', port: s.port, timeoutMs: 5_000 });
  cleanup.push(() => client.close());
  return client.probePipelining({ burstTimeoutMs: 500, requestsPerWindow: 32, ...options });
}

describe('probePipelining', () => {
  it('a device that answers in order: ok, and a window above 1 when latency makes pipelining pay', async () => {
    const result = await probe({ latencyMs: 10 }, { windows: [1, 8] });
    expect(result).toMatchObject({
      ok: true,
      sent: 8,
      answered: 8,
      inOrder: true,
      rightLabels: true,
      problems: [],
    });
    expect(result.rates.map((r) => r.window)).toEqual([1, 8]);
    // Ten milliseconds per answer: one at a time cannot pass 100/s, eight in flight overlap them.
    expect(result.rates[1]!.perSecond).toBeGreaterThan(result.rates[0]!.perSecond);
    expect(result.recommendedWindow).toBe(8);
  });

  it('an abort during the rate measurement: AbortedError, and one listener on the signal however wide the window', async () => {
    const ac = new AbortController();
    let most = 0;
    const add = ac.signal.addEventListener.bind(ac.signal);
    let listening = 0;
    ac.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      most = Math.max(most, ++listening);
      add(...args);
    }) as typeof ac.signal.addEventListener;
    const remove = ac.signal.removeEventListener.bind(ac.signal);
    ac.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listening--;
      remove(...args);
    }) as typeof ac.signal.removeEventListener;
    // Answers take 20 ms: the measurement at window 16 (128 reads) is still running when the abort comes.
    const pending = probe({ latencyMs: 20 }, { windows: [16], requestsPerWindow: 128, signal: ac.signal });
    setTimeout(() => ac.abort(), 150);
    await expect(pending).rejects.toMatchObject({ code: 'Aborted' });
    expect(most).toBeLessThanOrEqual(2);
  });

  it('a device that answers one at a time: correct, so pipelining is safe (if useless)', async () => {
    const result = await probe({ pipelining: 'serial', latencyMs: 2 }, { windows: [1, 4] });
    expect(result).toMatchObject({ ok: true, answered: 8, inOrder: true, rightLabels: true });
    expect(result.rates).toHaveLength(2);
  });

  it('a device that drops pipelined requests: not ok, window 1', async () => {
    const result = await probe({ pipelining: 'first-only' });
    expect(result).toMatchObject({ ok: false, sent: 8, answered: 1, recommendedWindow: 1, rates: [] });
    expect(result.problems.join('; ')).toMatch(/7 of 8 pipelined requests were not answered/);
  });

  it('a device that answers out of order: not ok (labels right, order wrong)', async () => {
    const result = await probe({ pipelining: 'out-of-order' });
    expect(result).toMatchObject({
      ok: false,
      answered: 8,
      inOrder: false,
      rightLabels: true,
      recommendedWindow: 1,
    });
  });

  it('a device that mislabels its replies: not ok, even when the wrong label is another request of the burst', async () => {
    const result = await probe({
      faults: (_req, res) => {
        const bad = Uint8Array.from(res);
        bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2;
        return { kind: 'replace', bytes: bad };
      },
    });
    expect(result).toMatchObject({ ok: false, rightLabels: false, recommendedWindow: 1 });
    expect(result.problems[0]).toMatch(/the reply to label 1 came back labelled 2/);
  });

  it('needs the TCP transport', async () => {
    const client = new OptoMmpClient({ host: '127.0.0.1', port: 1, transport: 'udp' });
    cleanup.push(() => client.close());
    await expect(client.probePipelining()).rejects.toThrow(TypeError);
  });
});
