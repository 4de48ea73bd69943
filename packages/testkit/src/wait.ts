// Bounded waiting helpers for tests: every wait has a deadline, so a broken test fails instead of hanging.

import type { EventEmitter } from 'node:events';
import { withDeadline as withDeadlineOf } from '@labwire/framing';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitForOptions {
  /** Give up after this many ms. Default 2 000. */
  timeoutMs?: number;
  /** Poll interval in ms. Default 5. 0 polls every event-loop turn (works under fake timers). */
  intervalMs?: number;
  /** Included in the error when the deadline passes. */
  message?: string;
}

/** Polls `predicate` until it returns a truthy value (which is returned) or the deadline passes. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (performance.now() >= deadline) {
      throw new Error(`waitFor: ${options.message ?? 'condition'} not met within ${timeoutMs} ms`);
    }
    // intervalMs 0 polls with setImmediate, which keeps working under fake setTimeout.
    if (intervalMs > 0) await sleep(intervalMs);
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Resolves with the first argument of the next `event`, or rejects after `timeoutMs` (default 2 000). */
export function nextEvent<T = unknown>(
  emitter: Pick<EventEmitter, 'once' | 'off'>,
  event: string,
  timeoutMs = 2_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (value: T) => {
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener as (...args: unknown[]) => void);
      reject(new Error(`nextEvent: no '${event}' within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(event, listener as (...args: unknown[]) => void);
  });
}

/** Races `promise` against a deadline (framing's withDeadline: a TimeoutError naming `what`). */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what = 'operation'): Promise<T> {
  return withDeadlineOf(promise, what, timeoutMs);
}

/** Settles to `{ ok, value | error }` so a test can inspect a rejection without an unhandled rejection. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}
