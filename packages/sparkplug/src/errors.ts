// The @labwire/sparkplug error family, all LabwireErrors (brand, stable `code`, `cause`).
// Decoding errors are framing's DecodeError (with the byte offset); limits are framing's
// LimitExceededError; deadlines and cancellation are framing's TimeoutError and AbortedError.

import { DecodeError, LabwireError, type LabwireErrorOptions } from '@labwire/framing';

/** Bytes that are not a valid Sparkplug B payload: bad protobuf framing or a value that breaks the spec. */
export class PayloadDecodeError extends DecodeError {
  static override readonly brand: symbol = Symbol.for('labwire.error.PayloadDecodeError');
  /** Where in the payload the problem is, e.g. `metrics[3].value` (empty when unknown). */
  readonly path: string;
  constructor(message: string, offset: number, bytes?: Uint8Array, path = '', options?: LabwireErrorOptions) {
    super(path ? `${path}: ${message}` : message, offset, bytes, { ...options, code: 'SparkplugDecode' });
    this.path = path;
  }
}

/** A payload or metric given to the encoder that cannot be written as Sparkplug B (wrong type, out of range). */
export class PayloadEncodeError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.PayloadEncodeError');
  /** Where in the payload the problem is, e.g. `metrics[3].value`. */
  readonly path: string;
  constructor(message: string, path = '', options?: LabwireErrorOptions) {
    super('SparkplugEncode', path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/** A topic that is not a Sparkplug B topic, or an id with a reserved character (`+`, `/`, `#`). */
export class TopicError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.TopicError');
  readonly topic: string;
  constructor(message: string, topic: string) {
    super('SparkplugTopic', message);
    this.topic = topic;
  }
}

/** A command (NCMD/DCMD) that decoded but cannot be applied: unknown device, unknown alias, bad value. */
export class CommandError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.CommandError');
  readonly topic: string;
  constructor(message: string, topic: string, options?: LabwireErrorOptions) {
    super('SparkplugCommand', message, options);
    this.topic = topic;
  }
}

/** The store-and-forward buffer (or the connection's write buffer) is full under the `reject` policy: the update was not taken. */
export class BufferOverflowError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.BufferOverflowError');
  override readonly isRetryable = true;
  /** The limit that was hit. */
  readonly limit: number;
  /** What the limit counts: metric updates in the store, or bytes unsent on the connection. */
  readonly unit: 'metrics' | 'bytes';
  constructor(limit: number, unit: 'metrics' | 'bytes' = 'metrics') {
    super(
      'SparkplugBufferOverflow',
      unit === 'metrics'
        ? `store-and-forward buffer full (${limit} metric updates); update rejected`
        : `connection write buffer over ${limit} bytes (the broker is not keeping up); update rejected`,
    );
    this.limit = limit;
    this.unit = unit;
  }
}

/** The MQTT connection could not be made or was refused (CONNACK with an error, socket failure). */
export class MqttConnectError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.MqttConnectError');
  override readonly isRetryable = true;
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super('MqttConnect', `MQTT connect to ${url} failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.url = url;
  }
}

/** A session operation was used wrongly: unknown device, metric not in the birth, duplicate alias. */
export class SessionUsageError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.SessionUsageError');
  constructor(message: string) {
    super('SparkplugUsage', message);
  }
}
