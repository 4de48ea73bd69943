// The reconnect policy as a table (reconnect-policy.ts): (how the link ended × whether it had proved
// healthy × counter) → (delay window, counter after), then maxAttempts and retryStrategy.
import type { DisconnectReason } from '@labwire/tcp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffFloor } from '../src/backoff';
import {
  decideReconnect,
  type LinkEnd,
  linkEndOf,
  type ReconnectPolicyOptions,
} from '../src/reconnect-policy';

const options: ReconnectPolicyOptions = { initialDelayMs: 100, maxDelayMs: 5_000 };
const lowest = { ...options, random: () => 0 };
const highest = { ...options, random: () => 0.999_999 };

interface Row {
  ended: LinkEnd;
  healthy: boolean;
  counter: number;
  /** [lowest, highest] delay, or 0 for at once. */
  delay: [number, number];
  after: number;
}

// The table of reconnect-policy.ts, row by row, with the defaults (100 ms … 5 s, equal jitter).
const TABLE: Row[] = [
  { ended: 'connectFailed', healthy: false, counter: 0, delay: [50, 99], after: 1 },
  { ended: 'connectFailed', healthy: false, counter: 3, delay: [400, 799], after: 4 },
  { ended: 'connectFailed', healthy: false, counter: 9, delay: [2_500, 4_999], after: 10 },
  { ended: 'lost', healthy: false, counter: 0, delay: [50, 99], after: 1 },
  { ended: 'lost', healthy: false, counter: 4, delay: [800, 1_599], after: 5 },
  // A healthy link reset the counter: a stale value does not matter.
  { ended: 'lost', healthy: true, counter: 0, delay: [50, 99], after: 1 },
  { ended: 'lost', healthy: true, counter: 7, delay: [50, 99], after: 1 },
  // The storm of issue 10: a peer that accepts and sends garbage, dropped on purpose, backs off.
  { ended: 'dropped', healthy: false, counter: 0, delay: [50, 99], after: 1 },
  { ended: 'dropped', healthy: false, counter: 5, delay: [1_600, 3_199], after: 6 },
  // The line was out of step, the peer is fine: at once.
  { ended: 'dropped', healthy: true, counter: 0, delay: [0, 0], after: 0 },
  { ended: 'dropped', healthy: true, counter: 6, delay: [0, 0], after: 0 },
];

describe('the reconnect table', () => {
  it.each(TABLE)('$ended, healthy $healthy, counter $counter → delay $delay, counter $after', (row) => {
    const input = { ended: row.ended, healthy: row.healthy, attempt: row.counter };
    const low = decideReconnect(input, lowest);
    const high = decideReconnect(input, highest);
    expect(low).toMatchObject({ stop: false, delayMs: row.delay[0], attempt: row.after });
    expect(high).toMatchObject({ stop: false, delayMs: row.delay[1], attempt: row.after });
    expect((low as { immediate: boolean }).immediate).toBe(row.delay[1] === 0);
  });

  it('classifies every disconnect reason: the peer ended it (lost) or the owner replaced the line (dropped)', () => {
    const expected: Record<Exclude<DisconnectReason, 'closed'>, LinkEnd> = {
      eof: 'lost',
      reset: 'lost',
      timeouts: 'lost',
      heartbeat: 'lost',
      desync: 'dropped',
      resetOnError: 'dropped',
      dropped: 'dropped',
    };
    for (const [reason, end] of Object.entries(expected)) {
      expect(linkEndOf(reason as DisconnectReason)).toBe(end);
    }
  });

  it('no row reconnects sooner than the backoff window of its counter, except a healthy link dropped on purpose', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<LinkEnd>('connectFailed', 'lost', 'dropped'),
        fc.boolean(),
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom('equal' as const, 'full' as const),
        (ended, healthy, counter, r, initialDelayMs, jitter) => {
          const o = { initialDelayMs, maxDelayMs: 60_000, jitter, random: () => r };
          const d = decideReconnect({ ended, healthy, attempt: counter }, o);
          if (d.stop) throw new Error('no bound was set');
          if (ended === 'dropped' && healthy) {
            expect(d).toMatchObject({ delayMs: 0, attempt: 0, immediate: true });
            return;
          }
          const used = healthy && ended !== 'connectFailed' ? 0 : counter;
          expect(d.attempt).toBe(used + 1);
          expect(d.delayMs).toBeGreaterThanOrEqual(backoffFloor(used, o));
          expect(d.delayMs).toBeLessThan(Math.max(1, backoffCeiling(used, o)));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('maxAttempts and retryStrategy', () => {
  it('maxAttempts: gives up once the counter would exceed it', () => {
    const o = { ...lowest, maxAttempts: 2 };
    expect(decideReconnect({ ended: 'connectFailed', healthy: false, attempt: 1 }, o)).toMatchObject({
      stop: false,
      attempt: 2,
    });
    expect(decideReconnect({ ended: 'connectFailed', healthy: false, attempt: 2 }, o)).toEqual({
      stop: true,
      attempt: 2,
      reason: 'maxAttempts',
    });
    // A healthy link starts a new series.
    expect(decideReconnect({ ended: 'lost', healthy: true, attempt: 2 }, o)).toMatchObject({ stop: false });
    expect(decideReconnect({ ended: 'dropped', healthy: true, attempt: 2 }, o)).toMatchObject({
      stop: false,
      immediate: true,
    });
  });

  it('retryStrategy gets (attempt, lastError, built-in delay); a number is the delay, anything else stops', () => {
    const calls: unknown[][] = [];
    const error = new Error('refused');
    const strategy = (attempt: number, lastError: Error | undefined, delayMs: number) => {
      calls.push([attempt, lastError, delayMs]);
      if (attempt >= 3) return null;
      return attempt * 1_000;
    };
    const o = { ...lowest, retryStrategy: strategy };
    expect(decideReconnect({ ended: 'connectFailed', healthy: false, attempt: 0, error }, o)).toMatchObject({
      delayMs: 1_000,
      attempt: 1,
    });
    expect(decideReconnect({ ended: 'lost', healthy: false, attempt: 1, error }, o)).toMatchObject({
      delayMs: 2_000,
      attempt: 2,
    });
    expect(decideReconnect({ ended: 'dropped', healthy: false, attempt: 2, error }, o)).toEqual({
      stop: true,
      attempt: 2,
      reason: 'retryStrategy',
    });
    expect(calls).toEqual([
      [1, error, 50],
      [2, error, 100],
      [3, error, 200],
    ]);
    // Not consulted on the immediate row (it is not a retry).
    decideReconnect({ ended: 'dropped', healthy: true, attempt: 0 }, o);
    expect(calls).toHaveLength(3);
  });

  it('retryStrategy results are floored at minDelayMs; NaN, Infinity, undefined and false stop', () => {
    const input = { ended: 'lost' as const, healthy: false, attempt: 0 };
    expect(decideReconnect(input, { minDelayMs: 25, retryStrategy: () => 3 })).toMatchObject({ delayMs: 25 });
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, undefined, false, '100']) {
      expect(decideReconnect(input, { retryStrategy: () => value })).toMatchObject({ stop: true });
    }
  });
});
