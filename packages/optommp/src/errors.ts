// Errors of the OptoMMP client beyond the codec's (DeviceError, ResponseMismatchError).

import { hexExcerpt, LabwireError, TimeoutError } from '@labwire/framing';

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

/**
 * A UDP request got no answer it could take before its deadline. Unlike a TCP timeout there is no partial
 * reply to show: the message says instead whether any datagram arrived meanwhile, how many were dropped
 * and why (a device answering with the wrong labels is not a silent device). A TimeoutError (`Timeout`).
 */
export class UdpTimeoutError extends TimeoutError {
  static override readonly brand: symbol = Symbol.for('labwire.error.UdpTimeoutError');
  /** Where the request went, `udp://host:port`. */
  readonly endpoint: string;
  /** Datagrams dropped while this request waited. */
  readonly dropped: {
    /** Datagrams with another transaction label (late answers to earlier requests, or a device that mislabels). */
    wrongLabel: number;
    /** The label of the last of them. */
    lastWrongLabel: number | undefined;
    /** Datagrams that were not exactly one OptoMMP packet. */
    undecodable: number;
    /** The label the request waited for. */
    awaitedLabel: number;
  };

  constructor(endpoint: string, timeoutMs: number, dropped: UdpTimeoutError['dropped']) {
    super(`OptoMMP request over ${endpoint}`, timeoutMs);
    this.endpoint = endpoint;
    this.dropped = dropped;
    // TimeoutError ends with "nothing received", which is wrong when datagrams came and were dropped.
    this.message = `OptoMMP request over ${endpoint} timed out after ${timeoutMs} ms: ${describeDrops(dropped)}`;
  }
}

/** "no datagram arrived", or "2 datagrams arrived and were dropped: 2 with another transaction label (…)". */
function describeDrops(d: UdpTimeoutError['dropped']): string {
  const n = d.wrongLabel + d.undecodable;
  if (n === 0) return 'no datagram arrived';
  const parts: string[] = [];
  if (d.wrongLabel > 0) {
    parts.push(
      `${d.wrongLabel} with another transaction label (last ${d.lastWrongLabel}, awaiting ${d.awaitedLabel})`,
    );
  }
  if (d.undecodable > 0) parts.push(`${d.undecodable} not an OptoMMP packet`);
  return `${n} datagram${n === 1 ? '' : 's'} arrived and ${n === 1 ? 'was' : 'were'} dropped: ${parts.join(', ')}`;
}
