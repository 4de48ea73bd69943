// OnreadSource: feeds a ByteReader from a socket created with Node's `onread` option, so every read
// lands in one reused buffer instead of a fresh 64 KiB Buffer per read. Less garbage means a smaller
// RSS peak (a 32 MiB message: ~1.1x instead of ~2x its size in a fresh process) and less GC.
//
//   const source = new OnreadSource();
//   const socket = net.connect({ host, port, onread: source.onread });
//   const reader = new ByteReader(source.attach(socket));
//
// The chunks it emits are views of the landing buffer, valid only until the next read. A ByteReader
// attached to it does not listen to 'data' at all: it takes each read straight from the callback (no
// event, no view object per read) and may serve reads from the landing buffer itself until the
// microtasks queued by that read have run (Node runs them before the socket reads again), copying only
// the bytes no read took by then.

import { EventEmitter } from 'node:events';

/** Receives `bytes[0, length)`; the memory is valid until the microtasks queued meanwhile have run. */
export type ChunkSink = (bytes: Uint8Array, length: number) => void;

/** How a ByteReader takes chunks from an OnreadSource without 'data' events (internal to framing). */
export const takeChunks: unique symbol = Symbol('labwire.framing.takeChunks');

/** The part of a net.Socket an OnreadSource listens to. */
type OnreadSocketLike = Parameters<OnreadSource['attach']>[0];

export const DEFAULT_LANDING_BYTES = 64 * 1024;

export class OnreadSource extends EventEmitter {
  /** Pass this as `onread` to `net.connect()` / `new net.Socket()`. */
  readonly onread: { buffer: Uint8Array; callback: (bytesRead: number, buffer: Uint8Array) => boolean };
  #socket: OnreadSocketLike | undefined;
  #paused = false;
  #detach: () => void = () => {};
  #sink: ChunkSink | undefined;

  constructor(landingBytes = DEFAULT_LANDING_BYTES) {
    super();
    const landing = new Uint8Array(landingBytes);
    this.onread = {
      buffer: landing,
      callback: (bytesRead, buffer) => {
        const sink = this.#sink;
        if (sink !== undefined) sink(buffer, bytesRead);
        else this.emit('data', buffer.subarray(0, bytesRead));
        return !this.#paused;
      },
    };
  }

  /**
   * Hands every read to `sink` instead of emitting 'data' (undefined: back to 'data' events). For
   * ByteReader, which is the one consumer of a source.
   * @internal
   */
  [takeChunks](sink: ChunkSink | undefined): void {
    this.#sink = sink;
  }

  /** Forwards the socket's end, close and error events and its flow control. Returns this. */
  attach(socket: {
    on(event: 'end' | 'close', listener: () => void): unknown;
    on(event: 'error', listener: (err: Error) => void): unknown;
    // biome-ignore lint/suspicious/noExplicitAny: must accept EventEmitter's own signature
    off(event: string, listener: (...args: any[]) => void): unknown;
    pause(): unknown;
    resume(): unknown;
    readonly readableEnded?: boolean;
    readonly destroyed?: boolean;
  }): this {
    this.#detach();
    this.#socket = socket;
    const onEnd = () => this.emit('end');
    const onClose = () => this.emit('close');
    const onError = (err: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    };
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    this.#detach = () => {
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    if (this.#paused) socket.pause();
    return this;
  }

  get readableEnded(): boolean {
    return this.#socket?.readableEnded ?? false;
  }

  get destroyed(): boolean {
    return this.#socket?.destroyed ?? false;
  }

  pause(): this {
    this.#paused = true;
    this.#socket?.pause();
    return this;
  }

  resume(): this {
    this.#paused = false;
    this.#socket?.resume();
    return this;
  }
}

/** Node's own names for a socket's `onread` state (net.js: kBuffer, kBufferCb), found once on a probe. */
let onreadKeys: { buffer: symbol; callback: symbol; generator: symbol | undefined } | null | undefined;

/** A socket's class (net.Socket): framing never imports `net`, so the probe is made with the class of the socket handed in. */
type SocketClass = new (options: {
  onread: { buffer: Uint8Array; callback: () => boolean };
}) => { destroy(): unknown };

/** The part of an accepted net.Socket that adoptOnread looks at. */
export interface AcceptedSocketLike {
  readonly bytesRead: number;
  readonly readableLength: number;
  listenerCount(event: string): number;
}
function findOnreadKeys(SocketClass: SocketClass): typeof onreadKeys {
  if (onreadKeys !== undefined) return onreadKeys;
  onreadKeys = null;
  try {
    const probe = new SocketClass({ onread: { buffer: new Uint8Array(1), callback: () => true } });
    const symbols = Object.getOwnPropertySymbols(probe);
    const named = (name: string) => symbols.find((s) => s.description === name);
    const buffer = named('kBuffer');
    const callback = named('kBufferCb');
    const record = probe as unknown as Record<symbol, unknown>;
    if (buffer !== undefined && callback !== undefined && record[callback] !== undefined) {
      onreadKeys = { buffer, callback, generator: named('kBufferGen') };
    }
    probe.destroy();
  } catch {
    onreadKeys = null;
  }
  return onreadKeys;
}

/**
 * Gives an accepted socket (from `net.Server`) the `onread` receive path that Node offers only to sockets
 * it creates itself: every read lands in `onread.buffer` instead of a fresh 64 KiB buffer of external
 * memory per read. That per-read allocation is what makes a server receiving a stream of large frames
 * page-fault (each fresh buffer is new memory once glibc returned the last ones to the system) and run
 * a young-generation collection every ~30 MiB received. Must be called before the socket read anything
 * (in the server's `connection` listener). Returns false, changing nothing, when the socket already
 * read, or when this Node's socket internals are not the ones expected (then use 'data' events).
 * @internal
 */
export function adoptOnread(socket: AcceptedSocketLike, onread: OnreadSource['onread']): boolean {
  const keys = findOnreadKeys(socket.constructor as SocketClass);
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (
    keys === null ||
    keys === undefined ||
    typeof handle?.useUserBuffer !== 'function' ||
    socket.bytesRead !== 0 ||
    socket.readableLength !== 0 ||
    socket.listenerCount('data') !== 0
  ) {
    return false;
  }
  const record = socket as unknown as Record<symbol, unknown>;
  if (record[keys.buffer]) return false;
  handle.useUserBuffer(onread.buffer);
  if (keys.generator !== undefined) record[keys.generator] = null;
  record[keys.buffer] = onread.buffer;
  record[keys.callback] = onread.callback;
  return true;
}
