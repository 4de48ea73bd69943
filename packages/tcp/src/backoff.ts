// Reconnect delays: exponential backoff with jitter and a cap (docs/protocols/tcpinterface.md F5/G6).
//
// The window of attempt n is [floor, ceiling) with ceiling = min(cap, initial * 2^n). Jitter spreads the
// reconnects of many clients over the window instead of synchronising them on the same instants:
// - 'equal' (default): floor = ceiling / 2. Half the window is random, and the floor grows with the
//   ceiling, so k reconnects in a row take at least initial * (2^k - 1) / 2 ms: a hard bound on how often
//   a client can connect to a peer that keeps failing (with the defaults, at most 6 connections in the
//   first 3 s, whatever the random numbers).
// - 'full' (AWS "full jitter"): floor = 0. The best spread, but no bound: a run of small random numbers
//   reconnects as fast as the peer answers. Use it when many clients share one server and a rate bound per
//   client matters less than spreading them.
// `minDelayMs` raises the floor of every attempt (devices that cannot take rapid reconnects, docs/protocols/tcpinterface.md F15).

/** How much of the window is random. */

export interface BackoffOptions {
  /** Ceiling of the first delay (attempt 0), in ms. Default 100. */
  initialDelayMs?: number;
  /** Cap on every delay, in ms. Default 5 000. */
  maxDelayMs?: number;
  /** Floor on every delay, for devices that cannot take rapid reconnects (docs/protocols/tcpinterface.md F15). Default 0. */
  minDelayMs?: number;
  /** `'equal'` (default): the delay is in [ceiling/2, ceiling); `'full'`: in [0, ceiling). */
  jitter?: 'equal' | 'full';
}

export const DEFAULT_INITIAL_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 5_000;

/** The ceiling of the window of `attempt` (0-based): min(max, initial * 2^attempt), at least min. */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const min = options.minDelayMs ?? 0;
  // 2^attempt overflows to Infinity for large attempts; min() with the cap keeps the result finite.
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt));
  return Math.max(min, ceiling);
}

/** The floor of the window of `attempt`: ceiling/2 with equal jitter, 0 with full jitter, at least min. */
export function backoffFloor(attempt: number, options: BackoffOptions = {}): number {
  const min = options.minDelayMs ?? 0;
  if (options.jitter === 'full') return min;
  return Math.max(min, Math.floor(backoffCeiling(attempt, options) / 2));
}

/**
 * The delay before reconnect attempt `attempt` (0-based): uniform in [floor, ceiling), an integer.
 * `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const floor = backoffFloor(attempt, options);
  const span = backoffCeiling(attempt, options) - floor;
  if (span < 1) return floor;
  // min() guards against random() * span rounding up to span in floating point.
  return floor + Math.min(span - 1, Math.floor(random() * span));
}
