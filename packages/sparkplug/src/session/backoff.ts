// Reconnect delays: exponential backoff with full jitter and a cap (the AWS "full jitter" scheme, as
// @labwire/tcp uses): delay = min + random · (min(max, initial · 2^attempt) − min). Full jitter spreads the
// reconnects of many edge nodes after a broker restart over the whole window instead of one instant.

export interface BackoffOptions {
  /** Ceiling of the first delay (attempt 0), in ms. Default 100. */
  initialDelayMs?: number;
  /** Cap on every delay, in ms. Default 10 000. */
  maxDelayMs?: number;
  /** Floor on every delay, in ms. Default 0. */
  minDelayMs?: number;
}

/** The delay before reconnect attempt `attempt` (0-based); `random` returns a number in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10_000;
  const min = options.minDelayMs ?? 0;
  const ceiling = Math.max(min, Math.min(max, initial * 2 ** Math.max(0, attempt)));
  const span = ceiling - min;
  if (span < 1) return min;
  return min + Math.min(span - 1, Math.floor(random() * span));
}
