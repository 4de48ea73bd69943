// One client connection of a PymodaqServer: the handshake, the read loop that dispatches what the
// client sends (docs/protocols/pymodaq.md §8.5), the requests waiting for a reply, and the close. Every failure stays
// inside its session: the server keeps serving the others (docs/protocols/pymodaq.md §9 a, d).

import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  AbortedError,
  adoptOnread,
  ByteReader,
  ClosedError,
  coalesce,
  DeadlineTimer,
  EofError,
  type Expiring,
  LabwireError,
  LimitExceededError,
  type Logger,
  OnreadSource,
  type OperationOptions,
  SEND_SLICE_BYTES,
  StreamError,
  sendParts,
  TimeoutError,
} from '@labwire/framing';
import type { DataToExport, Position, PymodaqProfile } from './codec';
import type { CommandAtHand } from './codec/profile';
import { commandBytes } from './command-bytes';
import { ClientCommand, type ClientType, SERVER_COMMANDS } from './commands';
import { ClientTypeError, PeerGoneError, ProtocolError, UnknownCommandError, XmlError } from './errors';
import { findParameter, type ParameterNode, parseParameterXmlSliced } from './parameter-xml';
import { largeBuffers, largestArrayBytes, SpareBuffer } from './spare-buffer';

/** A connected, identified client as the server's events and `clients` show it. */
export interface PymodaqServerClient {
  /** Unique within the server's life: `c1`, `c2`, … in connection order. */
  readonly id: string;
  readonly type: ClientType;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Epoch milliseconds of the identification. */
  readonly identifiedAt: number;
  /** The root of the last `Infos` the client sent (its children are PyMoDAQ's `settings_client`). */
  readonly settings: ParameterNode | undefined;
  /** The actuator unit from the `units` child of `Infos` (docs/protocols/pymodaq.md §8.1 step 3), or from the last position. */
  readonly units: string | undefined;
}

export type ReplyKind = 'move_done' | 'position_is' | 'Done';

/** The server's events. Each connection emits those about its client, and the server passes them on. */
export interface PymodaqServerEvents {
  listening: [{ host: string; port: number }];
  /** A client connected and identified itself with an accepted type. */
  client: [PymodaqServerClient];
  /** A client left (Quit, EOF, error, or close()). */
  clientClosed: [{ client: PymodaqServerClient; reason: string; error?: unknown }];
  /** A connection was refused: wrong type (ClientTypeError), handshake deadline, undecodable, too many. */
  rejected: [{ remoteAddress: string; remotePort: number; error: unknown }];
  /** `Infos`: the client's settings tree (refused XML is reported as `clientError` instead). */
  infos: [{ client: PymodaqServerClient; xml: string; settings: ParameterNode; units: string | undefined }];
  /** `Info`: a free-form name/value (gen A values are floats). */
  info: [{ client: PymodaqServerClient; name: string; value: string | number }];
  /** `Info_xml`: one client parameter changed; `path` is below the client's root (root dropped). */
  infoXml: [{ client: PymodaqServerClient; path: string[]; xml: string; parameter: ParameterNode }];
  /** `Done` + data: the answer to a grab (`solicited`) or a push from the client. */
  data: [{ client: PymodaqServerClient; data: DataToExport; solicited: boolean }];
  /** `move_done` / `position_is`: the answer to a call (`solicited`) or a late/unrequested report. */
  position: [
    {
      client: PymodaqServerClient;
      kind: 'move_done' | 'position_is';
      position: Position;
      solicited: boolean;
    },
  ];
  /** `x_axis` / `y_axis` (gen A/B clients of PyMoDAQ 1.6.4–4.0.x). */
  axis: [
    {
      client: PymodaqServerClient;
      which: 'x_axis' | 'y_axis';
      values: unknown;
      label: string;
      units: string;
    },
  ];
  /** Something went wrong with one client; the server keeps serving the others. */
  clientError: [{ client: PymodaqServerClient; error: unknown }];
}

/** What one connection reports (every server event but `listening`). */
export type SessionEvents = Omit<PymodaqServerEvents, 'listening'>;

export const SESSION_EVENTS: readonly (keyof SessionEvents)[] = [
  'client',
  'clientClosed',
  'rejected',
  'infos',
  'info',
  'infoXml',
  'data',
  'position',
  'axis',
  'clientError',
];

/** The server's settings every session follows. */
export interface SessionConfig {
  readonly profile: PymodaqProfile;
  readonly logger: Logger;
  readonly accepted: readonly ClientType[];
  readonly handshakeTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly maxMessageBytes: number;
  /** Largest `Infos` / `Info_xml` XML, in bytes (checked before it is read). */
  readonly maxInfosBytes: number;
  /** Messages a client's sending queue holds at most (see send()). */
  readonly maxQueuedMessages: number;
  /** Whether anybody listens to `event` (payloads of hot events are built only then). */
  readonly listened: (event: keyof SessionEvents) => boolean;
  /** Asked when a client identifies: an error refuses it (no identified slot is free). */
  readonly admit: (session: ServerSession) => Error | undefined;
  /**
   * Awaited (when it returns a promise) before the next message of an identified client is read: whoever
   * consumes the messages (a bridge forwarding them) holds a client back while it cannot take more.
   */
  readonly readGate?: (session: ServerSession) => Promise<void> | undefined;
  /**
   * Called with every `move_done` / `position_is` (besides the `position` event when that is listened
   * to): a consumer that forwards positions (a bridge) takes them without an event object. `timestamp`
   * is the position's DataActuator timestamp, undefined for gen A/B. Must not throw.
   */
  readonly onPosition?: (
    session: ServerSession,
    kind: 'move_done' | 'position_is',
    position: Position,
    timestamp: number | undefined,
  ) => void;
}

/** A message to send: its parts, or a function that encodes them when the message's turn comes. */
export type MessageParts = readonly Uint8Array[] | (() => readonly Uint8Array[]);

/** A message waiting in a session's sending queue. */
interface Outgoing {
  readonly parts: MessageParts;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly expiresAt: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Replies settled from one socket event, at most (more wake the read loop, which is fair to others). */
const REPLIES_AT_HAND = 16;

/** A session that has run this long since its last I/O event lets the event loop turn first. */
const FAIR_SHARE_MS = 8;

/** Client commands followed by a position. */
const POSITION_REPLIES: ReadonlySet<string> = new Set([ClientCommand.moveDone, ClientCommand.positionIs]);

/** The session each detector message came from while its memory may still be handed back. */
const receivedBy = new WeakMap<DataToExport, ServerSession>();

/**
 * Hands the memory of received detector data back to the session that received it (PymodaqServer.release),
 * when `owns` says that session is the caller's. False when the data did not come from such a session, was
 * handed back already, or its memory is not kept.
 */
export function releaseReceived(data: DataToExport, owns: (session: ServerSession) => boolean): boolean {
  const session = receivedBy.get(data);
  if (session === undefined || !owns(session)) return false;
  receivedBy.delete(data);
  return session.release(data);
}

/** What send() returns for a message written at once (callers compare against it to skip a `.catch`). */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A request waiting for its reply. */
interface Waiter extends Expiring {
  readonly kind: ReplyKind;
  readonly operation: string;
  readonly timeoutMs: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class ServerSession extends EventEmitter<SessionEvents> implements PymodaqServerClient {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  #type: ClientType | undefined;
  #identifiedAt = 0;
  #settings: ParameterNode | undefined;
  #units: string | undefined;

  readonly #config: SessionConfig;
  readonly #socket: net.Socket;
  readonly #reader: ByteReader;
  readonly #stop = new AbortController();
  /** `#stop.signal.aborted` as a plain field (read on every arrival of bytes). */
  #stopped = false;
  readonly #spare = new SpareBuffer();
  /** The memory of the large arrays of received detector data not handed back yet (see release). */
  readonly #handedOut = new WeakSet<ArrayBufferLike>();
  readonly #pending: Record<ReplyKind, Waiter[]> = { move_done: [], position_is: [], Done: [] };
  /** Expiry times of replies still owed for requests that timed out (they must not answer the next). */
  readonly #owed: Record<ReplyKind, number[]> = { move_done: [], position_is: [], Done: [] };
  /** The deadlines of the waiting requests, on one timer. */
  readonly #deadlines = new DeadlineTimer<Waiter>((waiter) =>
    this.#abandon(waiter, new TimeoutError(waiter.operation, waiter.timeoutMs)),
  );
  /** readCommandAtHand's position result, reused. */
  readonly #atHand: CommandAtHand = { positionAfter: POSITION_REPLIES, position: undefined };
  /** Messages waiting for their turn to be written (see send()). */
  readonly #outgoing: Outgoing[] = [];
  /** Set while #flush writes the queue. */
  #writing = false;
  /** Date.now() of the last complete message either way (see the idle timeout). */
  #lastActivity = Date.now();
  /** performance.now() of the last I/O event or turn of the event loop (see FAIR_SHARE_MS). */
  #turnStart = performance.now();
  #ending: Promise<void> | undefined;
  #ended = false;
  /** Settles when the read loop has finished (start() runs it). */
  finished: Promise<void> = Promise.resolve();

  constructor(id: string, socket: net.Socket, config: SessionConfig) {
    super();
    this.id = id;
    this.#socket = socket;
    this.#config = config;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    // A late socket error must never become an unhandled 'error' event; the read loop reports it.
    socket.on('error', () => {});
    // Reads land in one reused 64 KiB buffer of this session (OnreadSource) when Node lets the accepted
    // socket take it, instead of a fresh 64 KiB buffer per read: no page faults and no young-generation
    // collections driven by received bytes (a 1 MiB frame is 16 reads). Else 'data' events, as before.
    const source = new OnreadSource();
    this.#reader = new ByteReader(adoptOnread(socket, source.onread) ? source.attach(socket) : socket, {
      timeoutMs: config.readTimeoutMs,
      maxFrame: config.maxMessageBytes,
      maxBuffer: 1024 * 1024,
    });
    // The reader calls #wakeUp once a chunk is buffered and no read waits for it (the loop waits for the
    // next message without one): one 'data' listener on the socket, the reader's, so Node calls it
    // directly instead of copying a list of listeners per chunk.
    this.#reader.onArrival(this.#wakeUp);
    socket.on('end', this.#wakeUp);
    socket.on('close', this.#wakeUp);
    this.#stop.signal.addEventListener('abort', this.#wakeUp, { once: true });
  }

  /** Whether close() has begun. */
  get closing(): boolean {
    return this.#ending !== undefined || this.#ended;
  }

  /** Whether the connection has not identified (and is not closing). */
  get unidentified(): boolean {
    return this.#type === undefined && this.#ending === undefined && !this.#ended;
  }

  /** Refuses a connection that has not identified: reported as `rejected`, then closed. */
  reject(error: unknown, reason: string): void {
    if (this.#ending !== undefined || this.#ended) return;
    this.#config.logger.warn('pymodaq connection rejected', { remote: this.remoteAddress, error });
    this.emit('rejected', { remoteAddress: this.remoteAddress, remotePort: this.remotePort, error });
    void this.close(reason, { quit: false, error });
  }

  /**
   * Takes back the memory of detector data this session received (PymodaqServer.release): the next frames
   * of the stream are received into it (see SpareBuffer). Only memory this session handed out and has not
   * taken back yet is accepted, so a frame handed back twice can never be received into twice. Returns
   * whether any memory was kept for the next frames.
   */
  release(data: DataToExport): boolean {
    let kept = false;
    for (const buffer of largeBuffers(data)) {
      if (!this.#handedOut.delete(buffer.buffer)) continue;
      if (this.#spare.recycle(buffer)) kept = true;
    }
    return kept;
  }

  /** Starts the handshake and the read loop (once the listeners are attached). */
  start(): void {
    this.finished = this.#run();
  }

  get type(): ClientType {
    return this.#type ?? 'GRABBER';
  }

  get identified(): boolean {
    return this.#type !== undefined && !this.#ended;
  }

  get identifiedAt(): number {
    return this.#identifiedAt;
  }

  /** Date.now() of the last complete message either way, or of the connection. */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** Whether a call is waiting for this client's reply or a message for it is queued. */
  get busy(): boolean {
    const p = this.#pending;
    return (
      p.move_done.length + p.position_is.length + p.Done.length > 0 ||
      this.#outgoing.length > 0 ||
      this.#writing
    );
  }

  get settings(): ParameterNode | undefined {
    return this.#settings;
  }

  get units(): string | undefined {
    return this.#units;
  }

  /**
   * A public snapshot for events, so listeners never hold the session itself. Frozen and shared until
   * something in it changes (a reply per move would otherwise build one per move).
   */
  info(): PymodaqServerClient {
    this.#snapshot ??= Object.freeze({
      id: this.id,
      type: this.type,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      identifiedAt: this.#identifiedAt,
      settings: this.#settings,
      units: this.#units,
    });
    return this.#snapshot;
  }

  /** What info() returns until the type, settings or units change. */
  #snapshot: PymodaqServerClient | undefined;

  /**
   * Sends one message (command + payload parts) without waiting for anything back. `parts` may be a
   * function: it is called when the message's turn comes, so a queued message holds no encoded bytes.
   * With nothing queued and the socket drained, a message is written at once; otherwise it waits in a
   * queue of at most `maxQueuedMessages` (a full queue is a LimitExceededError), written one after the
   * other with backpressure (each waits for 'drain').
   */
  send(parts: MessageParts, options: OperationOptions = {}): Promise<void> {
    return this.#send(parts, options, undefined);
  }

  /**
   * A message in one buffer written now, in the caller's turn, when nothing is queued or being written,
   * the socket needs no drain and the bytes fit one send; returns false (nothing written) otherwise, and
   * the caller uses send(). For the per-message paths (a bridge forwarding a move): no parts array, no
   * promise. Bytes from the session profile's encodeMove are handed back to it once the kernel has them.
   */
  sendNow(bytes: Uint8Array): boolean {
    if (
      this.#ended ||
      this.#ending !== undefined ||
      this.#outgoing.length !== 0 ||
      this.#writing ||
      this.#socket.writableNeedDrain ||
      bytes.length > SEND_SLICE_BYTES
    ) {
      return false;
    }
    this.#lastActivity = Date.now();
    const socket = this.#socket;
    socket.write(bytes);
    // Written through to the kernel in this turn (nothing queued in the socket): the bytes are free again.
    if (socket.writableLength === 0) this.#config.profile.giveBack(bytes);
    return true;
  }

  /** send(); `now` is Date.now() when the caller has it already (a request). */
  #send(parts: MessageParts, options: OperationOptions, now: number | undefined): Promise<void> {
    if (this.#ended || this.#ending) return Promise.reject(new PeerGoneError('send', 'connection closed'));
    if (this.#outgoing.length === 0 && !this.#writing && !this.#socket.writableNeedDrain) {
      let given: readonly Uint8Array[];
      try {
        given = typeof parts === 'function' ? parts() : parts;
      } catch (e) {
        return Promise.reject(e);
      }
      // A message of one small part (a move) is written as it is; others are joined first.
      const chunks = given.length === 1 ? given : coalesce(given);
      if (chunks.length === 1 && chunks[0]!.length <= SEND_SLICE_BYTES) {
        this.#lastActivity = now ?? Date.now();
        const socket = this.#socket;
        socket.write(chunks[0]!);
        // Written through to the kernel in this turn: bytes from the profile's encodeCommandPosition (a
        // move) are free again, for the next message of the same command and units.
        if (socket.writableLength === 0) this.#config.profile.giveBack(chunks[0]!);
        return RESOLVED;
      }
      parts = chunks;
    }
    const max = this.#config.maxQueuedMessages;
    if (this.#outgoing.length >= max) {
      return Promise.reject(
        new LimitExceededError(`pymodaq server: messages queued for client ${this.id}`, max, max + 1),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#config.readTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      this.#outgoing.push({
        parts,
        signal: options.signal,
        timeoutMs,
        expiresAt: Date.now() + timeoutMs,
        resolve,
        reject,
      });
      void this.#flush();
    });
  }

  /** Writes the queued messages in order, each whole, waiting for 'drain' (and its own deadline). */
  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      for (let m = this.#outgoing.shift(); m !== undefined; m = this.#outgoing.shift()) {
        if (m.signal?.aborted) {
          m.reject(new AbortedError('send', m.signal.reason));
          continue;
        }
        const left = m.expiresAt - Date.now();
        if (left <= 0) {
          m.reject(new TimeoutError('send', m.timeoutMs));
          continue;
        }
        let chunks: readonly Uint8Array[];
        try {
          chunks = typeof m.parts === 'function' ? m.parts() : m.parts;
        } catch (e) {
          m.reject(e);
          continue;
        }
        try {
          await sendParts(this.#socket, chunks, { signal: m.signal, timeoutMs: left });
          this.#lastActivity = Date.now();
          m.resolve();
        } catch (e) {
          m.reject(e);
          // A partly written message leaves the stream unusable (gen A–C have no outer frame): close.
          void this.close('send failed', { quit: false, error: e });
          return;
        }
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Sends a message and waits for the reply of `kind` (FIFO per kind: PyMoDAQ replies carry no id). */
  request<T>(
    kind: ReplyKind,
    parts: MessageParts,
    operation: string,
    options: OperationOptions & { timeoutMs: number },
  ): Promise<T> {
    if (this.#ended || this.#ending) return Promise.reject(new PeerGoneError(operation, 'connection closed'));
    if (options.signal?.aborted) return Promise.reject(new AbortedError(operation, options.signal.reason));
    return new Promise<T>((resolve, reject) => {
      const queue = this.#pending[kind];
      const { signal, timeoutMs } = options;
      const now = Date.now();
      const waiter: Waiter = {
        kind,
        operation,
        timeoutMs,
        expiresAt: now + Math.max(0, timeoutMs),
        resolve: resolve as (v: unknown) => void,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => this.#abandon(waiter, new AbortedError(operation, signal.reason));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#deadlines.add(waiter);
      // Registered before sending: the reply may arrive before send() resolves.
      queue.push(waiter);
      const sent = this.#send(parts, options, now);
      if (sent === RESOLVED) return;
      sent.catch((e: unknown) => {
        const at = queue.indexOf(waiter);
        if (at < 0) return;
        queue.splice(at, 1);
        this.#unwatch(waiter);
        reject(e);
      });
    });
  }

  /**
   * Ends the session: optionally says `Quit` first (labwire extension, docs/protocols/pymodaq.md §9 k), rejects every waiting
   * request, closes the socket. Idempotent; resolves when the socket is closed.
   */
  close(reason: string, options: { quit: boolean; error?: unknown }): Promise<void> {
    this.#ending ??= this.#close(reason, options);
    return this.#ending;
  }

  async #close(reason: string, options: { quit: boolean; error?: unknown }): Promise<void> {
    this.#failPending(new PeerGoneError('request', reason, { cause: options.error }));
    if (options.quit && this.#type !== undefined && !this.#socket.destroyed) {
      try {
        const quit = commandBytes(this.#config.profile, ClientCommand.quit);
        // After what is being written (a message is never cut); what was still queued is dropped below.
        for (let i = 0; i < 100 && this.#writing; i++) await new Promise((r) => setTimeout(r, 10));
        if (!this.#writing) await sendParts(this.#socket, [quit], { timeoutMs: 1000 });
      } catch {
        // The peer may already be gone; closing goes ahead regardless.
      }
    }
    this.#stopped = true;
    this.#stop.abort();
    this.#spare.dispose();
    this.#reader.close();
    await this.#closeSocket();
    await this.finished.catch(() => {});
    this.#finish(reason, options.error);
  }

  #closeSocket(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
      // Nothing more is read, so the peer's FIN may never be seen: do not wait for it.
      socket.resume();
    });
  }

  #finish(reason: string, error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failPending(new PeerGoneError('request', reason, { cause: error }));
    if (this.#type === undefined) return;
    this.#config.logger.info('pymodaq client left', { id: this.id, reason });
    this.emit('clientClosed', { client: this.info(), reason, ...(error === undefined ? {} : { error }) });
  }

  #failPending(error: unknown): void {
    for (const m of this.#outgoing.splice(0)) m.reject(error);
    for (const queue of Object.values(this.#pending)) {
      for (const waiter of queue.splice(0)) {
        this.#unwatch(waiter);
        waiter.reject(error);
      }
    }
    this.#deadlines.clear();
  }

  /** The waiter settled: its deadline and signal no longer concern it. */
  #unwatch(waiter: Waiter): void {
    this.#deadlines.delete(waiter);
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  }

  /** A request gave up waiting (deadline or signal). */
  #abandon(waiter: Waiter, error: unknown): void {
    const queue = this.#pending[waiter.kind];
    const at = queue.indexOf(waiter);
    if (at < 0) return;
    queue.splice(at, 1);
    this.#unwatch(waiter);
    // The client may still answer: that late reply belongs to nobody. Remember it for a while.
    this.#owed[waiter.kind].push(Date.now() + Math.max(1000, waiter.timeoutMs));
    waiter.reject(error);
  }

  /** Hands a reply to the oldest waiting request; returns false when it is unsolicited or late. */
  #settle(kind: ReplyKind, value: unknown, now = Date.now()): boolean {
    const owed = this.#owed[kind];
    while (owed.length > 0 && owed[0]! < now) owed.shift();
    if (owed.length > 0) {
      owed.shift();
      return false;
    }
    const waiter = this.#pending[kind].shift();
    if (waiter === undefined) return false;
    this.#unwatch(waiter);
    waiter.resolve(value);
    return true;
  }

  // --- read loop ---------------------------------------------------------------------------------------

  async #run(): Promise<void> {
    const { profile, logger, accepted } = this.#config;
    try {
      const type = await profile.readCommand(this.#reader, {
        timeoutMs: this.#config.handshakeTimeoutMs,
        signal: this.#stop.signal,
      });
      if (!(accepted as readonly string[]).includes(type)) throw new ClientTypeError(type, accepted);
      const refused = this.#config.admit(this);
      if (refused !== undefined) throw refused;
      this.#type = type as ClientType;
      this.#identifiedAt = Date.now();
      this.#snapshot = undefined;
    } catch (e) {
      if (!this.#stop.signal.aborted) this.reject(e, 'rejected');
      return;
    }
    logger.info('pymodaq client identified', { id: this.id, type: this.#type, remote: this.remoteAddress });
    this.emit('client', this.info());
    const reader = this.#reader;
    const readTimeoutMs = this.#config.readTimeoutMs;
    for (;;) {
      const before = this.#consumed();
      let command: string | undefined;
      try {
        if (this.#stop.signal.aborted) break;
        // Fairness: a client whose messages keep arriving lets the others in every few milliseconds.
        if (performance.now() - this.#turnStart > FAIR_SHARE_MS) {
          await nextTurn();
          this.#turnStart = performance.now();
        }
        if (reader.buffered === 0 && !(await this.#waitForMessage())) break;
        const failed = this.#failedAtHand;
        if (failed !== undefined) {
          this.#failedAtHand = undefined;
          throw failed.error;
        }
        // Backpressure: a client that does not read what it is sent is not read from either.
        if (this.#socket.writableNeedDrain && !(await this.#drained())) break;
        const gate = this.#config.readGate?.(this);
        if (gate !== undefined) {
          await gate;
          if (this.#stop.signal.aborted) break;
        }
        // The whole message is due within readTimeoutMs of its first byte (every part under one deadline).
        const deadline = Date.now() + readTimeoutMs;
        // A message that has arrived whole is read without a turn of the event loop (moves are a hot path).
        const atHand = this.#atHand;
        command =
          profile.readCommandAtHand(reader, atHand) ??
          (await profile.readCommand(reader, this.#until(deadline)));
        if (atHand.position !== undefined) {
          this.#position(command as 'move_done' | 'position_is', atHand.position, atHand.timestamp);
          continue;
        }
        await this.#dispatch(command, deadline);
        this.#lastActivity = Date.now();
      } catch (e) {
        if (this.#stop.signal.aborted) break;
        if (EofError.isInstance(e) && e.partial.length === 0 && command === undefined) {
          // A silent disconnect (no Quit) between messages: PyMoDAQ spins here (docs/protocols/pymodaq.md §9 a).
          void this.close('disconnected without Quit', { quit: false });
          break;
        }
        this.#clientError(e);
        if (EofError.isInstance(e) || StreamError.isInstance(e) || ClosedError.isInstance(e)) {
          void this.close('connection lost', { quit: false, error: e });
          break;
        }
        if (this.#recoverable(e, before)) continue;
        void this.close('protocol error', { quit: false, error: e });
        break;
      }
      if (command === ClientCommand.quit) {
        void this.close('Quit', { quit: false });
        break;
      }
    }
  }

  /** Read options for what is left of a message due at `deadline`. */
  #until(deadline: number): OperationOptions {
    return { signal: this.#stop.signal, timeoutMs: Math.max(0, deadline - Date.now()) };
  }

  /** Resolves true once the socket drained, false when the session stops first. */
  #drained(): Promise<boolean> {
    const socket = this.#socket;
    return new Promise<boolean>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        this.#stop.signal.removeEventListener('abort', done);
        resolve(!this.#stop.signal.aborted && !socket.destroyed);
      };
      socket.on('drain', done);
      socket.on('close', done);
      this.#stop.signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * `move_done` / `position_is` + its position: settles the oldest call waiting for it. `timestamp`: the
   * DataActuator's (a lean position read at hand has none of its own), undefined for gen A/B.
   */
  #position(
    kind: 'move_done' | 'position_is',
    read: Position,
    timestamp: number | undefined = read.data?.timestamp,
  ): void {
    const now = Date.now();
    this.#lastActivity = now;
    // A lean position with its units (taken at hand) is used as it is; else only `{ value, units }`.
    const position: Position =
      read.units !== undefined && read.data === undefined
        ? read
        : { value: read.value, units: read.units ?? this.#units };
    if (read.units !== undefined && read.units !== '' && read.units !== this.#units) {
      this.#units = read.units;
      this.#snapshot = undefined;
    }
    const solicited = this.#settle(kind, position, now);
    this.#config.onPosition?.(this, kind, position, timestamp);
    if (this.#config.listened('position'))
      this.emit('position', { client: this.info(), kind, position, solicited });
  }

  #clientError(error: unknown): void {
    this.#config.logger.warn('pymodaq client error', { id: this.id, error });
    this.emit('clientError', { client: this.info(), error });
  }

  /** Bytes consumed from the stream so far. */
  #consumed(): number {
    return this.#reader.bytesRead - this.#reader.buffered;
  }

  /**
   * Whether the stream is still in step after `error`. Settings XML that failed to parse was read whole.
   * Gen D: a frame that failed to decode was consumed whole (docs/protocols/pymodaq.md §6.3), so the next frame starts a
   * message; a length prefix over the limit consumed nothing and cannot be skipped.
   */
  #recoverable(error: unknown, before: number): boolean {
    if (XmlError.isInstance(error)) return true;
    if (!this.#config.profile.framed) return false;
    if (TimeoutError.isInstance(error)) return false;
    return LabwireError.isInstance(error) && this.#consumed() > before;
  }

  /**
   * Waits, without a deadline, until the client starts its next message (an idle client is normal), so
   * the message itself can be read under the read deadline. False when the session is stopping.
   */
  #waitForMessage(): Promise<boolean> {
    const reader = this.#reader;
    if (reader.buffered > 0 || reader.ended) return Promise.resolve(true);
    if (this.#stop.signal.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.#wake = () => resolve(!this.#stop.signal.aborted);
    });
  }

  /** Set while the loop waits for the next message; called by the socket listeners (see constructor). */
  #wake: (() => void) | undefined;

  #wakeUp = (): void => {
    const wake = this.#wake;
    if (wake === undefined) {
      this.#turnStart = performance.now();
      return;
    }
    // Replies to moves and position queries that arrived whole are settled here, without a turn of the
    // read loop (moves are a hot path); the loop wakes for anything else, for the end, or for a failure.
    // (The loop's fair share starts when it wakes: settling here takes no time from it.)
    if (this.#repliesAtHand() && this.#reader.buffered === 0 && !this.#reader.ended) return;
    this.#turnStart = performance.now();
    this.#wake = undefined;
    wake();
  };

  /** An error met by #repliesAtHand, for the read loop to handle as its own. */
  #failedAtHand: { error: unknown } | undefined;

  /** Settles the position replies buffered whole (at most a few); true when it took any. */
  #repliesAtHand(): boolean {
    if (this.#stopped || this.#socket.writableNeedDrain) return false;
    const { profile, readGate } = this.#config;
    const atHand = this.#atHand;
    let took = false;
    try {
      for (let i = 0; i < REPLIES_AT_HAND; i++) {
        // Nothing more at hand (the usual end after one reply): no gate to ask.
        if (this.#reader.buffered === 0) break;
        // The consumer's gate holds here as in the read loop (a bridge whose server side cannot take more).
        if (readGate !== undefined && readGate(this) !== undefined) break;
        const command = profile.positionReplyAtHand(this.#reader, atHand);
        if (command === undefined) break;
        took = true;
        this.#position(command as 'move_done' | 'position_is', atHand.position!, atHand.timestamp);
      }
    } catch (e) {
      // A throwing `position` listener: the loop reports it as it would have.
      this.#failedAtHand = { error: e };
      return false;
    }
    return took;
  }

  async #dispatch(command: string, deadline: number): Promise<void> {
    const { profile, maxInfosBytes } = this.#config;
    const reader = this.#reader;
    const opts = () => this.#until(deadline);
    const xmlLimits = { maxLength: maxInfosBytes, signal: this.#stop.signal };
    switch (command) {
      case ClientCommand.quit:
        return;
      case ClientCommand.infos: {
        const xml = await profile.readString(reader, { ...opts(), maxBytes: maxInfosBytes });
        // The server keeps the root's children as settings_client (docs/protocols/pymodaq.md §8.1, §9 m). Parsed in slices, so
        // a large tree never holds the other clients up.
        const root = await parseParameterXmlSliced(xml, xmlLimits);
        this.#settings = root;
        this.#snapshot = undefined;
        const units = findParameter(root, ['units'])?.value;
        if (units !== undefined) this.#units = units;
        this.#snapshot = undefined;
        this.emit('infos', { client: this.info(), xml, settings: root, units: this.#units });
        return;
      }
      case ClientCommand.info: {
        const { name, value } = await profile.readInfo(reader, opts());
        this.emit('info', { client: this.info(), name, value });
        return;
      }
      case ClientCommand.infoXml: {
        // The first path element is the client's root name; the receiver drops it (docs/protocols/pymodaq.md §8.4, §9 l).
        const path = (await profile.readPath(reader, opts())).slice(1);
        const xml = await profile.readString(reader, { ...opts(), maxBytes: maxInfosBytes });
        const parameter = await parseParameterXmlSliced(xml, xmlLimits);
        if (path.length === 1 && path[0] === 'units' && parameter.value !== undefined) {
          this.#units = parameter.value;
          this.#snapshot = undefined;
        }
        this.emit('infoXml', { client: this.info(), path, xml, parameter });
        return;
      }
      case ClientCommand.done: {
        // A stream's frame is received into a pre-faulted buffer when one of its size is ready (see
        // SpareBuffer) and decoded in place (the arrays are views of it).
        // Gen A–C: the array block of such a stream lands in that buffer the same way.
        const start = this.#consumed();
        const data = await profile.readDetectorData(reader, { ...opts(), into: this.#spare.take() });
        // Gen D: the frame lands in the buffer; A–C: the array block (what a handed-back buffer must fit).
        this.#spare.prepare(profile.framed ? this.#consumed() - start - 4 : largestArrayBytes(data));
        for (const buffer of largeBuffers(data)) this.#handedOut.add(buffer.buffer);
        receivedBy.set(data, this);
        const solicited = this.#settle('Done', data);
        this.emit('data', { client: this.info(), data, solicited });
        return;
      }
      case ClientCommand.positionIs:
      case ClientCommand.moveDone:
        this.#position(command, await profile.readPosition(reader, opts()));
        return;
      case ClientCommand.xAxis:
      case ClientCommand.yAxis: {
        // Sent by 1.6.4–4.0.x clients; PyMoDAQ 4.1+ drops a client that sends them (docs/protocols/pymodaq.md §9 g).
        if (profile.generation !== 'A' && profile.generation !== 'B') {
          throw new ProtocolError(
            `${command} is not part of PyMoDAQ ≥ 4.1 (generation ${profile.generation})`,
          );
        }
        const values = await profile.readValue(reader, { ...opts(), kind: 'array' });
        const label = await profile.readString(reader, opts());
        const units = await profile.readString(reader, opts());
        this.emit('axis', { client: this.info(), which: command, values, label, units });
        return;
      }
      default:
        // Includes server commands: PyMoDAQ relays those to another client; labwire does not relay.
        throw new UnknownCommandError(command, [...Object.values(ClientCommand)], {
          cause: SERVER_COMMANDS.includes(command)
            ? 'a server command sent by a client (relay is not supported)'
            : undefined,
        });
    }
  }
}
