// One deadline for a whole client call, shared by every packet it sends (a chunked block read is one
// call: its timeoutMs bounds all chunks together).

import { AbortedError, checkTimeout, type OperationOptions, TimeoutError } from '@labwire/framing';

export class Budget {
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly #operation: string;
  /** When the first packet left (the call's clock starts there); NaN before. */
  #start = Number.NaN;

  constructor(operation: string, options: OperationOptions, defaultTimeoutMs: number) {
    this.#operation = operation;
    this.signal = options.signal;
    this.timeoutMs = checkTimeout(options.timeoutMs, defaultTimeoutMs);
  }

  /** The deadline of the next packet: the time left. Throws when nothing is left or the signal fired. */
  next(): number {
    if (this.signal?.aborted) throw new AbortedError(this.#operation, this.signal.reason);
    if (!Number.isFinite(this.timeoutMs)) return this.timeoutMs;
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
