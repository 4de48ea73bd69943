// One deadline per operation: a timer and an AbortSignal folded into a single settle-once callback.
// Used by every async operation in labwire so that nothing can wait for ever. Many deadlines that share
// one timer are in deadline-timer.ts; several signals folded into one are in combined-signal.ts.

import { AbortedError, TimeoutError } from './errors';

/** Per-call options every async labwire operation accepts. */
export interface OperationOptions {
  /** Cancels the operation. A cancelled read consumes nothing. */
  signal?: AbortSignal | undefined;
  /** Deadline in milliseconds for this call (`Infinity` disables it explicitly). */
  timeoutMs?: number | undefined;
}

export interface Deadline {
  /** Stops the timer and detaches from the signal. Idempotent. */
  clear(): void;
}

/**
 * Arms `onTimeout` after `timeoutMs` and `onAbort` when `signal` aborts; whichever comes first wins and
 * the other is disarmed. Returns a handle whose `clear()` must be called when the operation settles.
 */
export function armDeadline(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onTimeout: () => void,
  onAbort: (reason: unknown) => void,
): Deadline {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const abortListener = () => {
    if (done) return;
    clear();
    onAbort(signal?.reason);
  };
  const clear = () => {
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    signal?.removeEventListener('abort', abortListener);
  };
  if (Number.isFinite(timeoutMs)) {
    timer = setTimeout(
      () => {
        if (done) return;
        clear();
        onTimeout();
      },
      Math.max(0, timeoutMs),
    );
  }
  signal?.addEventListener('abort', abortListener, { once: true });
  return { clear };
}

export function checkTimeout(value: number | undefined, fallback: number): number {
  const t = value ?? fallback;
  if (!(t >= 0) && t !== Number.POSITIVE_INFINITY) throw new RangeError(`timeoutMs must be >= 0, got ${t}`);
  return t;
}

/**
 * Waits for `promise` until `timeoutMs` passes (TimeoutError) or `signal` aborts (AbortedError); the
 * promise itself runs on (for work that cannot be cancelled, such as dns.lookup). Settles exactly once
 * and leaves no timer or listener behind.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  operation: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(new AbortedError(operation, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const deadline = armDeadline(
      timeoutMs,
      signal,
      () => reject(new TimeoutError(operation, timeoutMs)),
      (reason) => reject(new AbortedError(operation, reason)),
    );
    promise.then(
      (value) => {
        deadline.clear();
        resolve(value);
      },
      (error: unknown) => {
        deadline.clear();
        reject(error);
      },
    );
  });
}

/** Resolves true after `ms`, or false as soon as `signal` aborts; never leaves a timer behind. */
export function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    armDeadline(
      ms,
      signal,
      () => resolve(true),
      () => resolve(false),
    );
  });
}
