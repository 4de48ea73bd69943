// Reconnect delays: exponential backoff with full jitter and a cap (spec F5/G6; the AWS "full jitter"
// scheme: delay = random(0, min(cap, base * 2^attempt))). Full jitter spreads the reconnects of many
// clients over the whole window instead of synchronising them on the same instants.

export interface BackoffOptions {
  /** Ceiling of the first delay (attempt 0), in ms. Default 100. */
  initialDelayMs?: number;
  /** Cap on every delay, in ms. Default 5 000. */
  maxDelayMs?: number;
  /** Floor on every delay, for devices that cannot take rapid reconnects (spec F15). Default 0. */
  minDelayMs?: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 5_000;

/** The ceiling of the jitter window for `attempt` (0-based): min(max, initial * 2^attempt), at least min. */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const min = options.minDelayMs ?? 0;
  // 2^attempt overflows to Infinity for large attempts; min() with the cap keeps the result finite.
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt));
  return Math.max(min, ceiling);
}

/**
 * The delay before reconnect attempt `attempt` (0-based): uniform in [min, ceiling) where
 * ceiling = min(maxDelayMs, initialDelayMs * 2^attempt). `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const min = options.minDelayMs ?? 0;
  const span = backoffCeiling(attempt, options) - min;
  if (span < 1) return min;
  // min() guards against random() * span rounding up to span in floating point.
  return min + Math.min(span - 1, Math.floor(random() * span));
}
