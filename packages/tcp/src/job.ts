// One queued operation of a RequestQueue: a write, a read, or a write plus the read of its reply.
// A plain class (no per-operation closures besides the promise executor) keeps the request path lean.

import type { DropReason, ReplyAtHand, ReplyReader } from './options';

export class Job {
  /** The settle callbacks of the caller's promise. */
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** The listener on the caller's AbortSignal, if any. */
  abortListener: (() => void) | undefined = undefined;
  settled = false;
  /** The bytes were handed to the socket: from here on the line may hold part of a reply. */
  written = false;
  /** Waiting for the socket to take the rest of the bytes (a timeout here leaves half a request). */
  writing = false;
  /** How often the bytes were sent again on a new connection. */
  replays = 0;
  /** A read without a write is in progress on the reader, under the reader's own deadline and signal. */
  readerDeadline = false;
  resetOnError = false;
  heartbeat = false;
  /** `reconnect()`: drops the link and waits for the next one. */
  reconnect = false;
  /** `reconnect()`: the reason the drop reports. */
  dropReason: DropReason = 'dropped';
  /** A request's fast path for a reply that arrives whole (see ReplyAtHand). */
  atHand: ReplyAtHand<unknown> | undefined = undefined;

  constructor(
    /** The operation name used in errors: `request`, `send`, `recv`, `readExactly`, … */
    readonly op: string,
    readonly data: Uint8Array | undefined,
    readonly read: ReplyReader<unknown> | undefined,
    readonly idempotent: boolean,
    readonly signal: AbortSignal | undefined,
    /** The whole deadline in ms (queueing included). */
    readonly timeoutMs: number,
    /** `performance.now()` at which the deadline passes. */
    readonly deadlineAt: number,
  ) {}

  /** Milliseconds left before the deadline. */
  remaining(now: number): number {
    return this.deadlineAt === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : Math.max(0, this.deadlineAt - now);
  }
}

function noop(): void {}
