// Store-and-forward: DATA messages that could not be sent (no session with the broker, or a birth not
// yet done) or were sent but not confirmed by the broker when the connection dropped. They are published
// after the next birth sequence, each metric marked is_historical, with its original timestamp.
// Bounded in metric updates, with a typed overflow policy.

import type { MetricValue } from '../codec/types';
import { BufferOverflowError } from '../errors';

/** One DATA message waiting to be (re)published. */
export interface StoredMessage {
  /** undefined for NDATA. */
  deviceId: string | undefined;
  metrics: ReadonlyArray<{ name: string; value: MetricValue; timestamp: number }>;
}

/** What happens when the buffer is full: drop the oldest updates, drop the new one, or reject it. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';

export interface StoreAndForwardOptions {
  /** Capacity in metric updates (a DDATA of 64 metrics counts 64). Default 100 000. */
  maxMetrics?: number;
  /** Default `drop-oldest`. */
  overflow?: OverflowPolicy;
}

export const DEFAULT_STORE_MAX_METRICS = 100_000;

export class ForwardStore {
  private entries: StoredMessage[] = [];
  private head = 0;
  private metricCount = 0;
  readonly maxMetrics: number;
  readonly policy: OverflowPolicy;
  /** Metric updates dropped by the policy since the start. */
  dropped = 0;

  constructor(options: StoreAndForwardOptions = {}) {
    this.maxMetrics = options.maxMetrics ?? DEFAULT_STORE_MAX_METRICS;
    if (!(this.maxMetrics >= 1))
      throw new RangeError(`storeAndForward.maxMetrics must be >= 1, got ${this.maxMetrics}`);
    this.policy = options.overflow ?? 'drop-oldest';
  }

  get size(): number {
    return this.metricCount;
  }

  get messages(): number {
    return this.entries.length - this.head;
  }

  /**
   * Appends (or, with `front`, prepends: messages sent but unconfirmed are older than anything stored).
   * Returns the number of metric updates dropped to make room (or the message's own, for drop-newest).
   * Throws BufferOverflowError under `reject` when the message does not fit.
   */
  add(message: StoredMessage, front = false): number {
    const n = message.metrics.length;
    if (this.metricCount + n > this.maxMetrics) {
      if (this.policy === 'reject' && !front) throw new BufferOverflowError(this.maxMetrics);
      if (this.policy === 'drop-newest' && !front) {
        this.dropped += n;
        return n;
      }
    }
    this.compact();
    if (front) this.entries.unshift(message);
    else this.entries.push(message);
    this.metricCount += n;
    let dropped = 0;
    // drop-oldest (and any overflow caused by re-queued unconfirmed messages): drop from the front.
    while (this.metricCount > this.maxMetrics && this.head < this.entries.length) {
      const old = this.entries[this.head]!;
      this.entries[this.head] = undefined as unknown as StoredMessage;
      this.head++;
      this.metricCount -= old.metrics.length;
      dropped += old.metrics.length;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** Removes and returns every stored message, oldest first. */
  drain(): StoredMessage[] {
    const out = this.entries.slice(this.head);
    this.entries = [];
    this.head = 0;
    this.metricCount = 0;
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
