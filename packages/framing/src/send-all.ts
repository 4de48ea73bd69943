// sendAll: the `check_sended` of the Python seeds, done with backpressure and a deadline.
// Node's write() never blocks: it queues in user space and returns false above the high-water mark.
// Ignoring that grows memory without bound against a peer that does not read
// (docs/protocols/tcpinterface.md F8), so sendAll writes
// in bounded slices and waits for 'drain' between them, under one deadline for the whole call.

import { armDeadline, checkTimeout, type OperationOptions } from './deadline';
import { AbortedError, ClosedError, LabwireError, StreamError, TimeoutError } from './errors';

/** The part of a Node `Writable` (net.Socket) that sendAll uses. */
export interface WritableLike {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: must accept EventEmitter's own signature
  off(event: string, listener: (...args: any[]) => void): unknown;
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
  readonly writableLength?: number;
  cork?(): void;
  uncork?(): void;
}

/** Largest slice handed to write() at once: bounds user-space buffering to high-water mark + this. */
export const SEND_SLICE_BYTES = 1024 * 1024;
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** sendAll's deadline passed while the peer was not reading (code `SendTimeout`, its own brand). */
export class SendTimeoutError extends TimeoutError {
  static override readonly brand: symbol = Symbol.for('labwire.error.SendTimeoutError');
  /** Bytes handed to the writable before the deadline (the peer may have received fewer). */
  readonly bytesWritten: number;
  constructor(timeoutMs: number, bytesWritten: number, total: number) {
    super(`sendAll (${bytesWritten} of ${total} bytes written)`, timeoutMs, undefined, {
      code: 'SendTimeout',
    });
    this.bytesWritten = bytesWritten;
  }
}

/**
 * Writes every byte of `data` (one write() call when it fits in a slice, so a request leaves in one
 * piece) and resolves once the writable accepted it all without exceeding its high-water mark. Rejects
 * with TimeoutError at the deadline, AbortedError on abort, StreamError when the writable fails or
 * closes. After a rejection the stream may hold part of the message: the caller must not reuse it for
 * framed traffic (the TcpInterface drops such a connection).
 */
export function sendAll(
  writable: WritableLike,
  data: Uint8Array,
  options: OperationOptions = {},
): Promise<void> {
  return sendWithHead(writable, undefined, data, options);
}

/**
 * sendAll of `data` preceded by `head` (a frame header): the head and the first slice leave together
 * under cork(), so the payload is never copied to join them. One call, one wait for 'drain'.
 */
export function sendWithHead(
  writable: WritableLike,
  head: Uint8Array | undefined,
  data: Uint8Array,
  options: OperationOptions,
): Promise<void> {
  if (writable.destroyed || writable.writableEnded) return Promise.reject(new ClosedError('sendAll'));
  if (options.signal?.aborted) return Promise.reject(new AbortedError('sendAll', options.signal.reason));
  let timeoutMs: number;
  try {
    timeoutMs = checkTimeout(options.timeoutMs, DEFAULT_SEND_TIMEOUT_MS);
  } catch (e) {
    return Promise.reject(e);
  }
  // Fast path: a message that fits in one slice and does not cross the high-water mark.
  if (data.length <= SEND_SLICE_BYTES) {
    let failed: Error | undefined;
    let ok: boolean;
    try {
      if (head !== undefined) {
        writable.cork?.();
        writable.write(head);
      }
      ok = writable.write(data, (err) => {
        if (err) failed = err;
      });
    } catch (e) {
      return Promise.reject(new StreamError('sendAll', e));
    } finally {
      if (head !== undefined) writable.uncork?.();
    }
    if (ok && failed === undefined) return Promise.resolve();
    if (failed !== undefined) return Promise.reject(new StreamError('sendAll', failed));
    return waitDrain(writable, timeoutMs, options.signal, data.length, data.length);
  }
  return (async () => {
    const deadlineAt = Number.isFinite(timeoutMs) ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
    let offset = 0;
    while (offset < data.length) {
      if (options.signal?.aborted) throw new AbortedError('sendAll', options.signal.reason);
      const end = Math.min(data.length, offset + SEND_SLICE_BYTES);
      let ok: boolean;
      const first = offset === 0 && head !== undefined;
      try {
        if (first) {
          writable.cork?.();
          writable.write(head);
        }
        ok = writable.write(data.subarray(offset, end));
      } catch (e) {
        throw new StreamError('sendAll', e);
      } finally {
        if (first) writable.uncork?.();
      }
      offset = end;
      if (!ok) {
        const left = deadlineAt - Date.now();
        if (left <= 0) throw new SendTimeoutError(timeoutMs, offset, data.length);
        await waitDrain(writable, left, options.signal, offset, data.length, timeoutMs);
      }
    }
  })();
}

function waitDrain(
  writable: WritableLike,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  written: number,
  total: number,
  reportedTimeoutMs = timeoutMs,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(LabwireError.isInstance(err) ? err : new StreamError('sendAll', err));
    };
    const onClose = () => {
      cleanup();
      reject(new ClosedError('sendAll'));
    };
    const deadline = armDeadline(
      timeoutMs,
      signal,
      () => {
        cleanup();
        reject(new SendTimeoutError(reportedTimeoutMs, written, total));
      },
      (reason) => {
        cleanup();
        reject(new AbortedError('sendAll', reason));
      },
    );
    function cleanup() {
      deadline.clear();
      writable.off('drain', onDrain);
      writable.off('error', onError);
      writable.off('close', onClose);
    }
    writable.once('drain', onDrain);
    writable.once('error', onError);
    writable.once('close', onClose);
  });
}
