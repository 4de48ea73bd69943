// The reconnect schedule (docs/protocols/tcpinterface.md G6): the pure function property-tested, then the interface's use of it
// under fake timers (real refused connects, virtual delays).
import { backoffDelay, TcpInterface } from '@labwire/tcp';
import { LoopbackServer, seededRandom, waitFor } from '@labwire/testkit';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffCeiling, backoffFloor } from '../src/backoff';
import type { ConnectionEvents } from '../src/options';

const arbOptions = fc
  .record({
    initialDelayMs: fc.integer({ min: 1, max: 1_000 }),
    maxDelayMs: fc.integer({ min: 1, max: 60_000 }),
    minDelayMs: fc.integer({ min: 0, max: 500 }),
  })
  .filter((o) => o.minDelayMs <= o.maxDelayMs);

describe('backoffDelay', () => {
  it('stays in [floor, min(cap, initial * 2^attempt)) and never exceeds the cap (both jitters)', () => {
    fc.assert(
      fc.property(
        arbOptions,
        fc.integer({ min: 0, max: 2_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.constantFrom('equal' as const, 'full' as const),
        (base, attempt, r, jitter) => {
          const options = { ...base, jitter };
          const delay = backoffDelay(attempt, options, () => r);
          const ceiling = Math.max(
            options.minDelayMs,
            Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** attempt),
          );
          expect(backoffCeiling(attempt, options)).toBe(ceiling);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(options.minDelayMs);
          expect(delay).toBeGreaterThanOrEqual(backoffFloor(attempt, options));
          if (jitter === 'equal') expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.max(options.minDelayMs, ceiling));
          if (ceiling > options.minDelayMs) expect(delay).toBeLessThan(ceiling);
          expect(delay).toBeLessThanOrEqual(options.maxDelayMs);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('the ceiling doubles per attempt until the cap', () => {
    fc.assert(
      fc.property(arbOptions, fc.integer({ min: 0, max: 40 }), (options, attempt) => {
        const a = backoffCeiling(attempt, { ...options, minDelayMs: 0 });
        const b = backoffCeiling(attempt + 1, { ...options, minDelayMs: 0 });
        expect(b).toBe(Math.min(options.maxDelayMs, a * 2));
      }),
      { numRuns: 300 },
    );
  });

  it('equal jitter (default): random 0 gives half the ceiling, random near 1 the top', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1_000, minDelayMs: 0 };
    expect(backoffDelay(3, o, () => 0)).toBe(400);
    expect(backoffDelay(3, o, () => 0.999_999)).toBe(799);
    expect(backoffDelay(30, o, () => 0.999_999)).toBe(999);
    expect(backoffDelay(30, o, () => 0)).toBe(500);
  });

  it('full jitter: random 0 gives the floor (minDelayMs), random near 1 the top', () => {
    const o = { initialDelayMs: 100, maxDelayMs: 1_000, minDelayMs: 0, jitter: 'full' as const };
    expect(backoffDelay(3, o, () => 0)).toBe(0);
    expect(backoffDelay(3, o, () => 0.999_999)).toBe(799);
    expect(backoffFloor(3, { ...o, minDelayMs: 30 })).toBe(30);
  });

  it('equal jitter bounds the rate whatever the random numbers: k retries take >= initial*(2^k-1)/2', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 1,
          maxLength: 12,
        }),
        (initialDelayMs, draws) => {
          const o = { initialDelayMs, maxDelayMs: Number.MAX_SAFE_INTEGER };
          let total = 0;
          draws.forEach((r, k) => {
            total += backoffDelay(k, o, () => r);
          });
          expect(total).toBeGreaterThanOrEqual(
            Math.floor((initialDelayMs * (2 ** draws.length - 1)) / 2) - draws.length,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the reconnect schedule under fake timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits exactly the scheduled delay before each attempt, attempts count up, delays follow the schedule', async () => {
    // A port with nothing behind it: every connect is refused by the kernel (real I/O).
    const server = await LoopbackServer.start(() => {});
    const port = server.port;
    await server.close();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1_000_000 }), async (seed) => {
        const options = {
          initialDelayMs: 50,
          maxDelayMs: 400,
          random: seededRandom(seed),
        };
        const expected = seededRandom(seed);
        const scheduled: ConnectionEvents['reconnectScheduled'][0][] = [];
        let connecting = 0;
        const tcp = new TcpInterface('127.0.0.1', port, { connectTimeoutMs: 10_000, reconnect: options });
        tcp.on('reconnectScheduled', (e) => scheduled.push(e));
        tcp.on('connecting', () => connecting++);
        try {
          for (let attempt = 0; attempt < 6; attempt++) {
            await waitFor(() => scheduled.length === attempt + 1, { intervalMs: 0 });
            const event = scheduled[attempt]!;
            expect(event.attempt).toBe(attempt + 1);
            expect(event.delayMs).toBe(backoffDelay(attempt, options, expected));
            expect(connecting).toBe(attempt + 1);
            // Nothing happens before the delay has passed…
            if (event.delayMs > 0) {
              vi.advanceTimersByTime(event.delayMs - 1);
              await new Promise<void>((r) => setImmediate(r));
              expect(connecting).toBe(attempt + 1);
              expect(tcp.state).toBe('backoff');
            }
            // …and exactly one attempt starts when it has.
            vi.advanceTimersByTime(1);
            expect(connecting).toBe(attempt + 2);
          }
        } finally {
          await tcp.close();
        }
      }),
      { numRuns: 10 },
    );
  });

  it('the attempt counter resets when a link proves healthy, never on time alone', async () => {
    let dropEarly = true;
    const server = await LoopbackServer.start((c) => {
      if (dropEarly) {
        c.socket.destroy();
        return;
      }
      c.socket.on('data', (d: Uint8Array) => c.write(d));
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const scheduled: ConnectionEvents['reconnectScheduled'][0][] = [];
    const tcp = new TcpInterface('127.0.0.1', server.port, {
      connectTimeoutMs: 10_000,
      timeoutMs: 60_000,
      reconnect: { initialDelayMs: 10, maxDelayMs: 80, random: () => 0.5 },
    });
    tcp.on('reconnectScheduled', (e) => scheduled.push(e));
    try {
      // Links that drop right after connecting keep backing off: attempts 1, 2, 3.
      for (let i = 1; i <= 3; i++) {
        await waitFor(() => scheduled.length === i, { intervalMs: 0 });
        if (i === 3) dropEarly = false;
        vi.advanceTimersByTime(scheduled[i - 1]!.delayMs);
      }
      expect(scheduled.map((e) => e.attempt)).toEqual([1, 2, 3]);
      await waitFor(() => tcp.state === 'connected', { intervalMs: 0 });
      // Up for a long time, but nothing proved the peer: the count goes on.
      vi.advanceTimersByTime(3_600_000);
      await server.dropConnections();
      await waitFor(() => scheduled.length === 4, { intervalMs: 0 });
      expect(scheduled[3]!.attempt).toBe(4);
      vi.advanceTimersByTime(scheduled[3]!.delayMs);
      await waitFor(() => tcp.state === 'connected', { intervalMs: 0 });
      // One completed request proves the link: the next drop starts over at attempt 1, window of attempt 0.
      await tcp.request(Uint8Array.of(1, 2), (r, o) => r.readExactly(2, o));
      await server.dropConnections();
      await waitFor(() => scheduled.length === 5, { intervalMs: 0 });
      expect(scheduled[4]).toEqual({ attempt: 1, delayMs: 7 });
    } finally {
      await tcp.close();
      vi.useRealTimers();
      await server.close();
    }
  });
});
