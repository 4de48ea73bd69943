// One deadline per operation: a timer and an AbortSignal folded into a single settle-once callback.
// Used by every async operation in labwire so that nothing can wait for ever.

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
