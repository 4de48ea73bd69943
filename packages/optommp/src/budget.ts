// One deadline for a whole client call, shared by every packet it sends (a chunked block read is one
// call: its timeoutMs bounds all chunks together).

import { AbortedError, checkTimeout, type OperationOptions, TimeoutError } from '@labwire/framing';

export class Budget {
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly #operation: string;
  /** When the first packet left (the call's clock starts there); NaN before. */
  #start = Number.NaN;
  /** The call sends one packet: its deadline is the whole budget, no clock read needed. */
  #onePacket = false;

  constructor(operation: string, options: OperationOptions, defaultTimeoutMs: number) {
    this.#operation = operation;
    this.signal = options.signal;
    this.timeoutMs = checkTimeout(options.timeoutMs, defaultTimeoutMs);
  }

  /**
   * Says the call sends exactly one packet, so the first `next()` reads no clock (a clock read costs
   * ~0.1–0.2 µs on a VM, a noticeable part of a loopback round trip). Should a second packet follow after
   * all, its clock starts at that packet.
   */
  onePacket(): this {
    this.#onePacket = true;
    return this;
  }

  /** The deadline of the next packet: the time left. Throws when nothing is left or the signal fired. */
  next(): number {
    if (this.signal?.aborted) throw new AbortedError(this.#operation, this.signal.reason);
    if (!Number.isFinite(this.timeoutMs)) return this.timeoutMs;
    if (this.#onePacket) {
      this.#onePacket = false;
      return this.timeoutMs;
    }
    if (Number.isNaN(this.#start)) {
      // The first packet leaves at once and gets the whole deadline.
      this.#start = performance.now();
      return this.timeoutMs;
    }
    const left = this.#start + this.timeoutMs - performance.now();
    if (left <= 0) throw new TimeoutError(this.#operation, this.timeoutMs);
    return left;
  }
}
