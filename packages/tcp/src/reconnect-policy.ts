// The reconnect policy, in one place: what happens after a link ends, as a pure function of how it ended,
// whether it had proved healthy, and the attempt counter. Connection applies it at every link end and
// every failed connect; nothing else decides when to reconnect.
//
//   how the link ended               | proved healthy? | next connect                      | counter after
//   ---------------------------------|-----------------|-----------------------------------|--------------
//   connect failed                   | (never up)      | backoff window of the counter     | counter + 1
//   lost: eof, reset, timeouts,      | no              | backoff window of the counter     | counter + 1
//         heartbeat                  | yes             | backoff window of attempt 0       | 1
//   dropped on purpose: desync,      | no              | backoff window of the counter     | counter + 1
//         resetOnError, dropped      | yes             | at once (0 ms)                    | 0
//
// "Healthy" means the link proved the peer: a request completed on it, or its owner called
// `markHealthy()` after its own handshake. Proving health also resets the counter, so the counter counts
// links in a row that never proved anything; time alone never resets it (a peer that accepts, waits and
// then sends garbage keeps backing off however long each link lasted). Only a link that proved the peer
// and was then dropped by its owner to resynchronise the line comes back at once: the peer is fine, the
// line is not, and the new link must prove itself again before the next drop can be immediate.
//
// Every backoff row then goes through `maxAttempts` (give up once the counter would exceed it) and
// `retryStrategy(attempt, lastError, delayMs)` (ioredis style: return the delay to use, or a non-number
// to give up). The immediate row is not a retry and consults neither.

import { backoffDelay } from './backoff';
import type { DisconnectReason, ReconnectOptions } from './options';

/** How a link ended, for the policy. */
export type LinkEnd = 'connectFailed' | 'lost' | 'dropped';

/** Reasons that are the owner's decision to replace a working line (the peer is not blamed). */
export const DELIBERATE_REASONS: ReadonlySet<DisconnectReason> = new Set<DisconnectReason>([
  'desync',
  'resetOnError',
  'dropped',
]);

/** Classifies a disconnect reason (`closed` never reaches the policy). */
export function linkEndOf(reason: DisconnectReason): LinkEnd {
  return DELIBERATE_REASONS.has(reason) ? 'dropped' : 'lost';
}

/** What the policy reads of the reconnect options (documented on ReconnectOptions). */
export type ReconnectPolicyOptions = Omit<ReconnectOptions, 'auto'>;

export interface ReconnectInput {
  ended: LinkEnd;
  /** The link had proved healthy (always false for `connectFailed`). */
  healthy: boolean;
  /** The attempt counter before this decision. */
  attempt: number;
  /** Why the link ended, passed to retryStrategy. */
  error?: Error | undefined;
}

export type ReconnectDecision =
  | { readonly stop: false; readonly delayMs: number; readonly attempt: number; readonly immediate: boolean }
  | { readonly stop: true; readonly attempt: number; readonly reason: 'maxAttempts' | 'retryStrategy' };

/** The policy table as data: which rows back off and which reconnect at once. */
export const RECONNECT_TABLE: Readonly<
  Record<LinkEnd, { unhealthy: 'backoff'; healthy: 'backoff' | 'now' }>
> = {
  connectFailed: { unhealthy: 'backoff', healthy: 'backoff' },
  lost: { unhealthy: 'backoff', healthy: 'backoff' },
  dropped: { unhealthy: 'backoff', healthy: 'now' },
};

/** Applies the table. Pure: the same input and the same `random` give the same decision. */
export function decideReconnect(
  input: ReconnectInput,
  options: ReconnectPolicyOptions = {},
): ReconnectDecision {
  const healthy = input.healthy && input.ended !== 'connectFailed';
  const row = RECONNECT_TABLE[input.ended][healthy ? 'healthy' : 'unhealthy'];
  if (row === 'now') return { stop: false, delayMs: 0, attempt: 0, immediate: true };
  // A healthy link reset the counter when it proved itself.
  const counter = healthy ? 0 : Math.max(0, input.attempt);
  const attempt = counter + 1;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  if (attempt > maxAttempts) return { stop: true, attempt: counter, reason: 'maxAttempts' };
  let delayMs = backoffDelay(counter, options, options.random);
  if (options.retryStrategy !== undefined) {
    const chosen = options.retryStrategy(attempt, input.error, delayMs);
    if (typeof chosen !== 'number' || !Number.isFinite(chosen) || Number.isNaN(chosen)) {
      return { stop: true, attempt: counter, reason: 'retryStrategy' };
    }
    delayMs = Math.max(options.minDelayMs ?? 0, Math.round(chosen));
  }
  return { stop: false, delayMs, attempt, immediate: false };
}
