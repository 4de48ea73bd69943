// One established TCP connection of a Connection: its socket, its ByteReader, whether it proved the peer,
// and ordered sends. A Link never comes back once it is down; the next connect makes a new one, so code
// that holds a Link (a reply to a command of that connection) can never write into the next one.

import type net from 'node:net';
import {
  AbortedError,
  armDeadline,
  type ByteReader,
  checkTimeout,
  type OnreadSource,
  type OperationOptions,
  sendAll,
  TimeoutError,
} from '@labwire/framing';
import { ConnectionLostError, NotConnectedError, type TcpErrorOptions } from './errors';
import type { DisconnectReason, DropReason } from './options';

/** What a Link needs from the Connection that made it. */
export interface LinkOwner {
  /** Default deadline of `send`. */
  readonly timeoutMs: number;
  context(op: string, cause?: unknown): TcpErrorOptions;
  linkHealthy(link: Link): void;
  dropLink(link: Link, reason: DropReason, error: Error | undefined, reconnect: boolean | undefined): void;
  newReader(source: OnreadSource): ByteReader;
}

/** Internal: how the Connection marks a link down (not part of the public API). */
export const markDown: unique symbol = Symbol('labwire.link.markDown');

const now = () => performance.now();
const noop = () => {};

export class Link {
  readonly id: number;
  /** The socket, for inspection (addresses, counters). Write with `send`, end with `drop`. */
  readonly socket: net.Socket;
  readonly #source: OnreadSource;
  readonly #owner: LinkOwner;
  #reader: ByteReader;
  #down = false;
  #healthy = false;
  #reason: DisconnectReason | undefined;
  #error: Error | undefined;
  /** Sends that have not finished writing (waiting their turn or for 'drain'). */
  #writes = 0;
  /** Settles when the last send queued so far has finished writing (or given up its turn). */
  #tail: Promise<void> = Promise.resolve();

  /** @internal Made by Connection. */
  constructor(id: number, socket: net.Socket, source: OnreadSource, owner: LinkOwner) {
    this.id = id;
    this.socket = socket;
    this.#source = source;
    this.#owner = owner;
    this.#reader = owner.newReader(source);
  }

  /** This link's ByteReader. Closed (pending reads reject) when the link goes down. */
  get reader(): ByteReader {
    return this.#reader;
  }

  get down(): boolean {
    return this.#down;
  }

  /** The link proved the peer (a completed request, or `markHealthy()`). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Why the link went down, once it is down. */
  get downReason(): DisconnectReason | undefined {
    return this.#reason;
  }

  /** The error that took the link down, if any. */
  get downError(): Error | undefined {
    return this.#error;
  }

  /**
   * Says the peer answered as it should (its handshake succeeded, a reply made sense). A healthy link
   * resets the reconnect attempt counter, and when its owner drops it to resynchronise the line, the
   * connection comes back at once instead of backing off. Call it only on proof: a peer that accepts and
   * then sends garbage must not look healthy.
   */
  markHealthy(): void {
    if (this.#down || this.#healthy) return;
    this.#healthy = true;
    this.#owner.linkHealthy(this);
  }

  /**
   * Takes this link down on purpose (`reason` defaults to `'dropped'`; `'desync'` and `'resetOnError'`
   * say why the line was replaced, `'timeouts'` and `'heartbeat'` that the peer stopped answering). What
   * follows is the reconnect policy's decision; `reconnect: true` asks for the next link even when the
   * connection does not reconnect on its own (still no sooner than the policy allows). No-op once down.
   */
  drop(reason: DropReason = 'dropped', error?: Error, reconnect?: boolean): void {
    if (this.#down) return;
    this.#owner.dropLink(this, reason, error, reconnect);
  }

  /**
   * Retires the reader (its pending reads reject with ClosedError, its buffered bytes are dropped) and
   * starts a fresh one over the same socket. For resynchronising in place (a drain after a failed
   * request) while reads of the failed operation may still be queued on the old reader.
   */
  renewReader(): ByteReader {
    this.#reader.close();
    this.#reader = this.#owner.newReader(this.#source);
    this.#source.resume();
    return this.#reader;
  }

  /**
   * Writes `data` on this link, after every send queued before it (sends never interleave, large ones
   * go in bounded slices of 1 MiB). Resolves once the socket took every byte without exceeding its high-water
   * mark. A send that fails after its first byte was written leaves half a message on the line: the link
   * is dropped (`desync`). Rejects with NotConnectedError when the link is already down (nothing written),
   * ConnectionLostError when it went down during the send, TimeoutError or AbortedError.
   */
  send(data: Uint8Array, options: OperationOptions = {}): Promise<void> {
    if (this.#down) return Promise.reject(this.#notConnected('send'));
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout(options.timeoutMs, this.#owner.timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError('send', signal.reason));
    if (this.#writes === 0) return this.#write(data, timeoutMs, signal);
    return this.#writeInTurn(data, Number.isFinite(timeoutMs) ? now() + timeoutMs : timeoutMs, signal);
  }

  /**
   * The request path's write: when nothing is being sent and the bytes fit under the socket's high-water
   * mark (so `write` cannot ask to wait), writes them now and returns true; otherwise writes nothing and
   * returns false (use `send`).
   */
  trySend(data: Uint8Array): boolean {
    const socket = this.socket;
    if (
      this.#down ||
      this.#writes !== 0 ||
      socket.writableLength !== 0 ||
      data.length >= socket.writableHighWaterMark
    ) {
      return false;
    }
    socket.write(data);
    return true;
  }

  /** @internal The Connection took the link down. */
  [markDown](reason: DisconnectReason, error: Error | undefined): void {
    this.#down = true;
    this.#reason = reason;
    this.#error = error;
  }

  #write(data: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    this.#writes++;
    const done = sendAll(this.socket, data, { signal, timeoutMs }).then(
      () => {
        this.#writes--;
      },
      (error: unknown) => {
        this.#writes--;
        throw this.#writeFailed(error);
      },
    );
    this.#tail = done.then(noop, noop);
    return done;
  }

  #writeInTurn(data: Uint8Array, deadlineAt: number, signal: AbortSignal | undefined): Promise<void> {
    this.#writes++;
    let waiting = true;
    const previous = this.#tail;
    let finished: () => void = noop;
    this.#tail = new Promise<void>((resolve) => {
      finished = resolve;
    });
    return new Promise<void>((resolve, reject) => {
      const giveUp = (error: Error) => {
        if (!waiting) return;
        // Nothing of this send was written: the next one may go when its turn comes.
        waiting = false;
        reject(error);
      };
      const wait = armDeadline(
        deadlineAt - now(),
        signal,
        () => giveUp(new TimeoutError('send', Math.max(0, Math.round(deadlineAt - now())))),
        (reason) => giveUp(new AbortedError('send', reason)),
      );
      void previous.then(() => {
        wait.clear();
        if (!waiting) {
          this.#writes--;
          finished();
          return;
        }
        waiting = false;
        if (this.#down) {
          this.#writes--;
          finished();
          reject(this.#notConnected('send'));
          return;
        }
        const timeoutMs =
          deadlineAt === Number.POSITIVE_INFINITY ? deadlineAt : Math.max(0, deadlineAt - now());
        sendAll(this.socket, data, { signal, timeoutMs }).then(
          () => {
            this.#writes--;
            finished();
            resolve();
          },
          (error: unknown) => {
            this.#writes--;
            finished();
            reject(this.#writeFailed(error));
          },
        );
      });
    });
  }

  /** A write that failed after it started: the link (if still up) now holds part of a message. */
  #writeFailed(error: unknown): unknown {
    if (this.#down) return new ConnectionLostError(this.#owner.context('send', this.#error ?? error));
    if (TimeoutError.isInstance(error) || AbortedError.isInstance(error)) {
      this.drop('desync', error);
      return error;
    }
    // The socket failed under the write (EPIPE, destroyed): the link goes down with it.
    this.drop('reset', error as Error);
    return new ConnectionLostError(this.#owner.context('send', error));
  }

  #notConnected(op: string): NotConnectedError {
    return new NotConnectedError(this.#owner.context(op, this.#error));
  }
}
