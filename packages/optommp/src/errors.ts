// Errors of the OptoMMP client beyond the codec's (DeviceError, ResponseMismatchError).

import { brandError, hexExcerpt, LabwireError } from '@labwire/framing';

/**
 * A pipelined link went out of step: a reply carried a transaction label that belongs to no request in
 * flight, answered its request with the wrong tcode, or could not be cut from the stream. Every request in
 * flight on that link fails with this error (nothing is delivered to another caller) and the link is
 * replaced by a fresh connection; requests not yet sent go out on the new one.
 */
export class PipelineDesyncError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.PipelineDesyncError');
  override readonly isRetryable = true;
  /** What was wrong, e.g. "a reply with transaction label 12 answers no request in flight". */
  readonly reason: string;
  /** The offending packet as it arrived, when there is one. */
  readonly packet: Uint8Array | undefined;

  constructor(reason: string, packet?: Uint8Array, options: { cause?: unknown } = {}) {
    super(
      'PipelineDesync',
      `pipelined link out of step: ${reason}${packet === undefined ? '' : ` (${hexExcerpt(packet)})`}; requests in flight failed, reconnecting`,
      { cause: options.cause },
    );
    this.reason = reason;
    this.packet = packet;
  }
}
brandError(PipelineDesyncError);
