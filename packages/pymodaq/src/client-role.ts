// The part PymodaqActuator and PymodaqDetector share: one Connection (@labwire/tcp) to the PyMoDAQ
// server, the identification after every (re)connect, the read loop over the server's commands, ordered
// sends, and `Quit` before closing (PyMoDAQ's server spins on a silent disconnect, docs/protocols/pymodaq.md §9 a).
//
// The server sends commands whenever it likes while the client answers, pushes data and sends settings,
// so reading and writing must not wait for each other: the protocol is full duplex, and a request queue
// would be in the way. So the client uses a Connection directly: on every `connected` event it takes the
// new Link, reads the server's commands from that link's ByteReader and writes with that link's `send`
// (ordered, never into a later link). The next command is awaited with one atomic readFrame (a command is
// a `str`, i.e. u32 n + n bytes, in gen A–C and a frame in gen D): nothing is consumed until it is whole.
//
// Reconnects follow the tcp reconnect policy. The server sends no greeting (docs/protocols/pymodaq.md §8.1), so the link
// proves the peer only when a well-formed command arrives (`markHealthy()`); a peer that accepts and then
// sends garbage, another service's banner, or closes on our type string never proves anything, and every
// drop of its links backs off further.
//
// A server that does not accept the type string closes the connection at once without a word (docs/protocols/pymodaq.md §8.5,
// §9 f): a link that ends within `handshakeRejectWindowMs` of the identification, before a single byte came
// back, is reported once as a HandshakeRejectedError naming the generations worth trying.

import { EventEmitter, setMaxListeners } from 'node:events';
import {
  AbortedError,
  armDeadline,
  type ByteReader,
  ClosedError,
  checkTimeout,
  coalesce,
  combineSignals,
  type Logger,
  type OperationOptions,
  TimeoutError,
} from '@labwire/framing';
import {
  Connection,
  type ConnectionCounters,
  ConnectionLostError,
  type Link,
  type LoggerLike,
  type ReconnectOptions,
  toLogger,
} from '@labwire/tcp';
import type { Position } from './codec';
import {
  type CodecLimits,
  type Generation,
  PymodaqDecodeError,
  type PymodaqProfile,
  resolveProfile,
} from './codec';
import type { CommandAtHand } from './codec/profile';
import { readerIdle } from './codec/pull';
import { commandBytes } from './command-bytes';
import { ClientCommand, type ClientType, grabDimOf, SERVER_COMMANDS, ServerCommand } from './commands';
import { HandlerError, HandshakeRejectedError, ProtocolError, UnknownCommandError } from './errors';
import {
  applyParameter,
  type ParameterNode,
  parameter,
  parseParameterXml,
  toParameterXml,
} from './parameter-xml';

export interface PymodaqClientOptions {
  /** The wire generation (`'A'`, `'B'`, `'C1'`…`'C4'`, `'D'`) or the server's PyMoDAQ version (`'4.4'`, `'5.0'`). */
  protocol: Generation | string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 6341, PyMoDAQ's. */
  port?: number;
  /**
   * The settings tree sent with `Infos` after identifying. The server keeps the root's children (docs/protocols/pymodaq.md
   * §8.1). Default: an empty group `settings`; an actuator adds a `units` child.
   */
  settings?: ParameterNode;
  /** Deadline of sends, and of the rest of a message once its command arrived. Default 10 000 ms. */
  timeoutMs?: number;
  /** Deadline of one connect attempt. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /**
   * Reconnect after the link drops (then identify again), or `false`. Default: backoff 200 ms … 5 s (the
   * tcp reconnect policy: a server that never sent a well-formed command is retried on a growing delay).
   */
  reconnect?: false | ReconnectOptions;
  /** Decoder limits (string, array, list sizes; see docs/codec.md). */
  limits?: Partial<CodecLimits>;
  /** A handler (hardware call) that takes longer than this is aborted through its signal. Default 60 000 ms. */
  handlerTimeoutMs?: number;
  /**
   * A link the server ends (EOF or reset) within this many ms of the identification, before sending a
   * single byte, counts as a rejected handshake (HandshakeRejectedError, reported once). PyMoDAQ's server
   * closes within a few hundred ms of reading an unknown type string. Default 3000.
   */
  handshakeRejectWindowMs?: number;
  /** `(message, fields)` loggers, or pino/bunyan (detected). Default: silent. */
  logger?: LoggerLike;
}

/**
 * The events of both client roles. A listener that throws is logged and never breaks the connection;
 * `error` is emitted only when a listener is attached (so it never throws as Node's unhandled `error`).
 */
export interface PymodaqClientEvents {
  /** Identified on a new connection (the first one, or after a reconnect). */
  connected: [{ remoteAddress: string | undefined; remotePort: number | undefined }];
  /** The connection dropped (the client reconnects per the tcp reconnect policy). */
  disconnected: [{ reason: string; error?: unknown }];
  /** A command arrived from the server (after its payload was read). */
  command: [{ command: string }];
  /** `set_info`: the server changed one of this client's parameters (path below the root). */
  setInfo: [{ path: string[]; parameter: ParameterNode; xml: string }];
  /** The server said `Quit` (labwire servers do before closing). */
  serverQuit: [];
  /**
   * The server closed the connection right after the identification without a byte: it does not take
   * this generation or this type (docs/protocols/pymodaq.md §9 f). Emitted once per series of rejected links (again only after
   * a link proved the server); the client backs off per the reconnect policy. Also reported as `error`.
   */
  handshakeRejected: [HandshakeRejectedError];
  /** A bad message, a failing handler, a failed reply. The client keeps serving. */
  error: [unknown];
}

const WAIT_FOR_COMMAND = Object.freeze({ timeoutMs: Number.POSITIVE_INFINITY });

/** Server commands followed by a position: taken whole in the reader's arrival callback (moves). */
const MOVE_COMMANDS: ReadonlySet<string> = new Set([ServerCommand.moveAbs, ServerCommand.moveRel]);
/** Moves handled per arrival of bytes, at most (more wake the read loop, which lets the event loop turn). */
const MOVES_AT_HAND = 16;

/** What send() returns for a message written at once (callers compare against it to skip a `.catch`). */
export const SENT: Promise<void> = Promise.resolve();

/** sendNow's largest part after the first: one write slice (framing's sendAll slices larger ones). */
const SEND_NOW_MAX_PART = 1024 * 1024;

/** A message from the server, read whole (command and payload). */
export type ServerMessage =
  | {
      command: 'move_abs' | 'move_rel';
      position: Position;
      /** The position's DataActuator timestamp (undefined for gen A/B, which carry none). */
      timestamp?: number | undefined;
    }
  | { command: 'set_info'; path: string[]; xml: string; root: string }
  | { command: string };

/** One connection's life: replies to its commands go nowhere else. */
export class LinkSession {
  readonly abort = new AbortController();
  /** The tcp link this session runs on (its reader, its ordered sends). */
  readonly tcp: Link | undefined;

  constructor(tcp?: Link) {
    this.tcp = tcp;
    // Every message still being written holds one listener here (see `send`), removed when it is out: a
    // producer ahead of a slow link (pushed frames) has more than Node's warning threshold of 10.
    setMaxListeners(0, this.abort.signal);
    this.abort.signal.addEventListener(
      'abort',
      () => {
        this.#live = false;
        this.wakeReadLoop();
      },
      { once: true },
    );
  }

  /** Set while the read loop waits for the server's next message (the role's #readLoop). @internal */
  wake: (() => void) | undefined = undefined;

  /** Wakes the read loop if it waits. @internal */
  wakeReadLoop(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
  identified = false;
  /** performance.now() when the identification went out (see handshakeRejectWindowMs). */
  identifiedAt = 0;
  /** The signals handed to handlers, one per kind of work, replaced once aborted (see `handlerSignal`). */
  readonly #controllers = new Map<string, AbortController>();

  /** False once the link ended (a plain field: read several times per message, cheaper than the signal). */
  get live(): boolean {
    return this.#live;
  }
  #live = true;

  /**
   * The controller behind the signal handlers of `kind` get on this link. It is shared by successive
   * handlers until it is aborted (stop_motion, a handler deadline) and then replaced; ending the link
   * aborts them all. Sharing avoids an AbortController per call, which costs more than a whole
   * loopback round trip on Node 20.
   */
  controller(kind: string): AbortController {
    let c = this.#controllers.get(kind);
    if (c === undefined || c.signal.aborted) {
      c = new AbortController();
      if (!this.live) c.abort(this.abort.signal.reason);
      this.#controllers.set(kind, c);
    }
    return c;
  }

  end(reason?: unknown): void {
    this.#live = false;
    this.abort.abort(reason);
    for (const c of this.#controllers.values()) c.abort(reason);
    this.wakeReadLoop();
  }
}

export abstract class PymodaqClientRole<Events extends PymodaqClientEvents & Record<keyof Events, unknown[]>>
  extends EventEmitter<Events>
  implements AsyncDisposable
{
  readonly profile: PymodaqProfile;
  readonly type: ClientType;
  /** @internal */
  protected readonly logger: Logger;
  /** @internal */
  protected readonly timeoutMs: number;
  /** @internal */
  protected readonly handlerTimeoutMs: number;
  readonly #connection: Connection;
  readonly #settings: ParameterNode;
  readonly #closed = new AbortController();
  readonly #rejectWindowMs: number;
  /** A rejected handshake was reported and no link has proved the server since (say it once). */
  #rejectionReported = false;
  #link: LinkSession | undefined;
  #identifiedWaiters = new Set<() => void>();
  #closing: Promise<void> | undefined;

  /** @internal */
  protected constructor(type: ClientType, options: PymodaqClientOptions, defaultSettings: ParameterNode) {
    super();
    const logger = toLogger(options.logger);
    this.type = type;
    this.logger = logger;
    this.profile = resolveProfile(options.protocol, { limits: options.limits });
    this.timeoutMs = checkTimeout(options.timeoutMs, 10_000);
    this.handlerTimeoutMs = checkTimeout(options.handlerTimeoutMs, 60_000);
    this.#settings = options.settings ?? defaultSettings;
    this.#rejectWindowMs = checkTimeout(options.handshakeRejectWindowMs, 3000);
    this.#connection = new Connection(options.host ?? '127.0.0.1', options.port ?? 6341, {
      autoConnect: false,
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      reconnect: options.reconnect ?? { initialDelayMs: 200, maxDelayMs: 5000 },
      logger,
      linkId: `pymodaq-${type.toLowerCase()}`,
    });
    this.#connection.on('connected', (e) => this.#onConnected(e.link, e.remoteAddress, e.remotePort));
    this.#connection.on('disconnected', (e) => this.#onDisconnected(e.reason, e.error));
  }

  /** The settings tree sent with `Infos` (kept up to date by `set_info` and `updateSetting`). */
  get settings(): ParameterNode {
    return this.#settings;
  }

  /** True while connected and identified. */
  get connected(): boolean {
    return this.#link?.identified === true && this.#link.live;
  }

  /** Running totals of the connection (bytes, connects, reconnects, timeouts …). */
  get counters(): ConnectionCounters {
    return this.#connection.counters;
  }

  /**
   * Connects (when not connected) and resolves once identified: the type string and `Infos` are out.
   * After a drop the client reconnects and identifies by itself when `reconnect` is on.
   */
  async connect(options: OperationOptions = {}): Promise<void> {
    const timeoutMs = checkTimeout(options.timeoutMs, this.timeoutMs);
    const startedAt = Date.now();
    await this.#connection.connect({ signal: options.signal, timeoutMs });
    if (this.connected) return;
    const left = Math.max(0, timeoutMs - (Date.now() - startedAt));
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        if (!this.connected && !this.#closed.signal.aborted) return;
        deadline.clear();
        this.#identifiedWaiters.delete(done);
        if (this.connected) resolve();
        else reject(new ClosedError('connect'));
      };
      const fail = (error: unknown) => {
        this.#identifiedWaiters.delete(done);
        reject(error);
      };
      const deadline = armDeadline(
        left,
        options.signal,
        () => fail(new TimeoutError('connect: identification', timeoutMs)),
        (reason) => fail(new AbortedError('connect', reason)),
      );
      this.#identifiedWaiters.add(done);
    });
  }

  /** `Info` + name + value: a free-form piece of information for the server (gen A: values are floats). */
  async sendInfo(name: string, value: string | number, options: OperationOptions = {}): Promise<void> {
    const p = this.profile;
    await this.send([commandBytes(p, ClientCommand.info), p.encodeInfo(name, value)], options);
  }

  /**
   * Changes one of this client's parameters and tells the server (`Info_xml`, path prefixed with the
   * root name, which the server drops, docs/protocols/pymodaq.md §8.4). `path` is below the root and ends with the parameter.
   */
  async updateSetting(
    path: readonly string[],
    node: ParameterNode,
    options: OperationOptions = {},
  ): Promise<void> {
    if (!applyParameter(this.#settings, path, node)) {
      throw new RangeError(`updateSetting: no group ${JSON.stringify(path.slice(0, -1))} in the settings`);
    }
    this.onSettingChanged(path, { ...node, name: path[path.length - 1]! });
    const p = this.profile;
    const xml = toParameterXml({ ...node, name: path[path.length - 1]! });
    await this.send(
      [
        commandBytes(p, ClientCommand.infoXml),
        p.encodePath([this.#settings.name, ...path]),
        p.encodeString(this.#textForWire(xml)),
      ],
      options,
    );
  }

  /**
   * Sends `Quit` (so PyMoDAQ's server does not spin, §9 a), then closes the connection and settles
   * everything. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    const link = this.#link;
    if (link?.identified && link.live) {
      try {
        await this.send([commandBytes(this.profile, ClientCommand.quit)], { timeoutMs: 1000 }, link);
      } catch (e) {
        this.logger.debug('pymodaq client: Quit could not be sent', { error: e });
      }
    }
    this.#isClosed = true;
    this.#closed.abort();
    link?.end(new ClosedError('PymodaqClient'));
    this.onClose();
    await this.#connection.close();
    for (const done of [...this.#identifiedWaiters]) done();
  }

  /** Signal aborted by close(). @internal */
  protected get closedSignal(): AbortSignal {
    return this.#closed.signal;
  }

  /** Whether close() has begun (closedSignal.aborted as a plain field, for the per-message paths). @internal */
  protected get isClosed(): boolean {
    return this.#isClosed;
  }
  #isClosed = false;

  /** The current connection, if identified. @internal */
  protected get link(): LinkSession | undefined {
    return this.#link;
  }

  /** XML text as this generation carries it: PyMoDAQ 5 sends bytes (docs/protocols/pymodaq.md §9 n). @internal */
  protected textForWire(xml: string): string | Uint8Array {
    return this.#textForWire(xml);
  }

  #textForWire(xml: string): string | Uint8Array {
    return this.profile.generation === 'D' ? new TextEncoder().encode(xml) : xml;
  }

  /**
   * Sends one message (its parts in order, nothing in between) on `link` (default: the current one).
   * Small parts are joined; large blocks are sent by reference, never copied.
   * @internal
   */
  protected send(
    parts: readonly Uint8Array[],
    options: OperationOptions = {},
    link = this.#link,
  ): Promise<void> {
    if (this.#isClosed) return Promise.reject(new ClosedError('send'));
    const tcp = link?.tcp;
    if (link === undefined || !link.live || tcp === undefined) {
      return Promise.reject(new ProtocolError('not connected to a PyMoDAQ server'));
    }
    const chunks = parts.length === 1 ? parts : coalesce(parts);
    const timeoutMs =
      options.timeoutMs === undefined ? this.timeoutMs : checkTimeout(options.timeoutMs, this.timeoutMs);
    if (chunks.length === 1 && options.signal === undefined) {
      // Nothing being written and the bytes fit under the high-water mark: written at once, so nothing can
      // be left to withdraw (no abort listener: adding one costs more than the write itself on Node 20).
      if (tcp.trySend(chunks[0]!)) {
        // Written through to the kernel in this turn: bytes from the profile's encodeCommandPosition (a
        // move_done) are free again, for the next message of the same command and units.
        if (tcp.socket.writableLength === 0) this.profile.giveBack(chunks[0]!);
        return SENT;
      }
      return tcp.send(chunks[0]!, { signal: link.abort.signal, timeoutMs });
    }
    // One signal for the whole message: when a part fails, the parts still queued are withdrawn, so no
    // fragment of this message can go out (on this link or the next one).
    const combined = combineSignals([link.abort.signal, options.signal]);
    const sends = chunks.map((chunk) => tcp.send(chunk, { signal: combined.signal, timeoutMs }));
    return Promise.all(
      sends.map((s) =>
        s.catch((e: unknown) => {
          combined.abort(e);
          throw e;
        }),
      ),
    )
      .then(() => undefined)
      .finally(combined.dispose);
  }

  /**
   * A detector message's write when the link is idle (the data-frame path; commands use `send`): every
   * part is handed to the socket now, small runs joined, large blocks by reference, all under one cork,
   * so the message leaves whole and in order and nothing is left to withdraw. Resolves once the socket
   * has flushed them to the kernel, under `timeoutMs` (default the role's; on expiry the link is dropped:
   * part of the message may be out). One promise and one timer per message: no abort listener, no promise per part.
   * Undefined, with nothing written, when the link is busy or down, the message is a single run, the
   * first run is above the socket's high-water mark or a part is larger than one write slice: use `send`.
   * @internal
   */
  protected sendNow(
    parts: readonly Uint8Array[],
    link = this.#link,
    timeoutMs = this.timeoutMs,
  ): Promise<void> | undefined {
    const tcp = link?.tcp;
    if (this.#isClosed || link === undefined || !link.live || tcp === undefined) return undefined;
    const chunks = parts.length === 1 ? parts : coalesce(parts);
    const last = chunks.length - 1;
    // A message of one run takes send's own fast path.
    if (last === 0) return undefined;
    for (let i = 1; i <= last; i++) if (chunks[i]!.length > SEND_NOW_MAX_PART) return undefined;
    const socket = tcp.socket;
    socket.cork();
    // trySend writes the first run only when no send of the link is under way and nothing is queued in
    // the socket: then the rest follows it at once, before any other write can.
    if (!tcp.trySend(chunks[0]!)) {
      socket.uncork();
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            const error = new TimeoutError('send', timeoutMs);
            tcp.drop('desync', error);
            reject(error);
          }, timeoutMs)
        : undefined;
      const written = (error?: Error | null) => {
        if (timer !== undefined) clearTimeout(timer);
        // Node reports a write that was under way when the socket was destroyed as done, without an
        // error: whether its bytes went out is unknown.
        if (error == null && !socket.destroyed) {
          resolve();
          return;
        }
        // The socket failed under the write (EPIPE, destroyed): the link goes down with it.
        const cause = error ?? new Error('the connection closed during the write');
        tcp.drop('reset', cause);
        reject(
          new ConnectionLostError({
            op: 'send',
            host: socket.remoteAddress,
            port: socket.remotePort,
            cause,
          }),
        );
      };
      try {
        for (let i = 1; i < last; i++) socket.write(chunks[i]!);
        socket.write(chunks[last]!, written);
      } catch (e) {
        // write() threw (the socket ended under it): the first run is out, the message is not.
        written(e instanceof Error ? e : new Error(String(e)));
      } finally {
        socket.uncork();
      }
    });
  }

  /** Runs a user handler with a signal (close, disconnect, deadline) and wraps what it throws. @internal */
  protected runHandler<T>(
    name: string,
    link: LinkSession,
    kind: string,
    run: (signal: AbortSignal) => Promise<T> | T,
  ): Promise<T> | T {
    const controller = link.controller(kind);
    let result: Promise<T> | T;
    try {
      result = run(controller.signal);
    } catch (e) {
      throw this.#handlerFailure(name, e);
    }
    // A handler that answered synchronously needs no deadline (and no promise).
    if (!(result instanceof Promise)) return result;
    const timer = setTimeout(
      () => {
        controller.abort(new TimeoutError(`handler ${name}`, this.handlerTimeoutMs));
      },
      Math.min(this.handlerTimeoutMs, 2 ** 31 - 1),
    );
    return result.then(
      (value) => {
        clearTimeout(timer);
        return value;
      },
      (e: unknown) => {
        clearTimeout(timer);
        throw this.#handlerFailure(name, e);
      },
    );
  }

  #handlerFailure(name: string, e: unknown): unknown {
    return AbortedError.isInstance(e) || HandlerError.isInstance(e) ? e : new HandlerError(name, e);
  }

  /** @internal */
  protected reportError(error: unknown): void {
    this.logger.warn('pymodaq client error', { error });
    if ((this.listenerCount as (event: string) => number)('error') > 0) this.emitSafe('error', error);
  }

  /** @internal */
  protected emitEvent<K extends keyof PymodaqClientEvents>(event: K, ...args: PymodaqClientEvents[K]): void {
    this.emitSafe(event, ...args);
  }

  /** Emits to the listeners; one that throws is logged and never breaks the connection's loops. @internal */
  protected emitSafe(event: string, ...args: unknown[]): void {
    try {
      (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
    } catch (e) {
      this.logger.error(`a listener of '${event}' threw`, { error: e });
    }
  }

  /**
   * The messages sent on every new connection, in order: the type string first
   * (docs/protocols/pymodaq.md §8.1), then `Infos` with the settings XML.
   * @internal
   */
  protected identification(): Uint8Array[][] {
    const p = this.profile;
    return [
      [commandBytes(p, this.type)],
      [
        commandBytes(p, ClientCommand.infos),
        p.encodeString(this.#textForWire(toParameterXml(this.#settings))),
      ],
    ];
  }

  /** A server command for this role; runs after the whole message was read. Must not throw. @internal */
  protected abstract handle(message: ServerMessage, link: LinkSession): void;
  /** A parameter changed (by `set_info` or `updateSetting`). @internal */
  protected onSettingChanged(_path: readonly string[], _node: ParameterNode): void {}
  /** The client is closing: stop pending work. @internal */
  protected onClose(): void {}
  /** The link dropped: replies for it are void. @internal */
  protected onLinkLost(_link: LinkSession): void {}
  /**
   * `set_info` from the server (path below the root; `root` is the first element the server sent). The
   * default applies it to `settings` and emits `setInfo`.
   * @internal
   */
  protected onSetInfo(message: { path: string[]; xml: string; root: string }, _link: LinkSession): void {
    this.#applySetInfo(message);
  }
  /**
   * Awaited before each server message is read (when it returns a promise): a subclass that cannot take
   * more right now (its own consumer is slow) holds the server back through TCP backpressure.
   * @internal
   */
  protected readGate(_link: LinkSession): Promise<void> | undefined {
    return undefined;
  }

  // --- connection --------------------------------------------------------------------------------------

  #onConnected(tcp: Link, remoteAddress: string | undefined, remotePort: number | undefined): void {
    if (this.#closed.signal.aborted) return;
    const link = new LinkSession(tcp);
    this.#link = link;
    void this.#identify(link, remoteAddress, remotePort);
    // The link dropped during a `connected` listener: the disconnect ends this session.
    if (tcp.down) return;
    void this.#readLoop(link, tcp.reader);
  }

  async #identify(
    link: LinkSession,
    remoteAddress: string | undefined,
    remotePort: number | undefined,
  ): Promise<void> {
    try {
      // Every message is queued at once (the link keeps them in order), then awaited together.
      await Promise.all(this.identification().map((message) => this.send(message, {}, link)));
      if (!link.live) return;
      link.identified = true;
      link.identifiedAt = performance.now();
      this.logger.info('pymodaq client identified', { type: this.type, protocol: this.profile.generation });
      this.emitEvent('connected', { remoteAddress, remotePort });
    } catch (e) {
      if (link.live && !this.#closed.signal.aborted) this.reportError(e);
    } finally {
      for (const done of [...this.#identifiedWaiters]) done();
    }
  }

  #onDisconnected(reason: string, error: unknown): void {
    const link = this.#link;
    if (link === undefined) return;
    this.#link = undefined;
    // Everything still queued for the old connection is withdrawn before a new one can take it.
    link.end(error ?? new Error(reason));
    this.onLinkLost(link);
    // A refusal is said first, so a listener of `disconnected` already knows why the link ended.
    this.#checkRejection(link, reason, error);
    if (link.identified) this.emitEvent('disconnected', error === undefined ? { reason } : { reason, error });
  }

  /**
   * A link that the server ended soon after the identification, having sent nothing at all, was refused
   * (docs/protocols/pymodaq.md §9 f). Said once; the reconnect policy already backs off (the link never proved healthy).
   */
  #checkRejection(link: LinkSession, reason: string, error: unknown): void {
    const tcp = link.tcp;
    if (
      tcp === undefined ||
      !link.identified ||
      (reason !== 'eof' && reason !== 'reset') ||
      tcp.healthy ||
      tcp.socket.bytesRead !== 0 ||
      performance.now() - link.identifiedAt > this.#rejectWindowMs ||
      this.#closed.signal.aborted
    ) {
      return;
    }
    const rejected = new HandshakeRejectedError(
      { clientType: this.type, generation: this.profile.generation, closedBy: reason as 'eof' | 'reset' },
      { cause: error },
    );
    if (this.#rejectionReported) {
      this.logger.debug('pymodaq client: handshake rejected again', { type: this.type });
      return;
    }
    this.#rejectionReported = true;
    this.emitEvent('handshakeRejected', rejected);
    this.reportError(rejected);
  }

  /**
   * Reads the server's messages on one link. With nothing buffered the loop waits for the next message
   * without a queued read: the reader calls #arrival when bytes come, which takes the moves that arrived
   * whole (command and position) right there, in the socket's own callback, and wakes the loop only for
   * anything else (moves are the hot path: no read object, promise or turn of the event loop per move).
   */
  async #readLoop(link: LinkSession, reader: ByteReader): Promise<void> {
    const p = this.profile;
    const commandRead = { timeoutMs: Number.POSITIVE_INFINITY, maxBytes: p.maxCommandFrame };
    reader.onArrival(() => this.#arrival(link, reader));
    try {
      await this.#readMessages(link, reader, commandRead);
    } finally {
      reader.onArrival(undefined);
    }
  }

  async #readMessages(
    link: LinkSession,
    reader: ByteReader,
    commandRead: { timeoutMs: number; maxBytes: number },
  ): Promise<void> {
    while (link.live && !this.#isClosed) {
      let message: ServerMessage | undefined;
      try {
        const gate = this.readGate(link);
        if (gate !== undefined) {
          await gate;
          if (!link.live || this.#isClosed) return;
        }
        // With no message read in line, a command is one frame (every generation), and what follows it
        // has usually arrived with it: one await per message that #arrival did not take.
        if (readerIdle(reader)) {
          if (reader.buffered === 0 && !reader.ended) {
            await new Promise<void>((resolve) => {
              link.wake = resolve;
            });
            continue;
          }
          const read = this.#messageAfter(await reader.readFrame(commandRead), reader, link);
          message = read instanceof Promise ? await read : read;
        } else {
          message = await this.#readMessage(reader, link);
        }
      } catch (e) {
        if (!link.live || this.#closed.signal.aborted || reader.ended) return;
        // The stream is out of step (gen A–C: an unknown command, a stalled or undecodable payload):
        // drop the connection; the loop of the next one takes over after the reconnect.
        this.reportError(e);
        // Only the server's side of the stream is out of step: say Quit before leaving (§9 a).
        await this.send([commandBytes(this.profile, ClientCommand.quit)], { timeoutMs: 1000 }, link).catch(
          () => {},
        );
        this.#dropLink(link, e);
        return;
      }
      if (message !== undefined) this.#accept(message, link);
    }
  }

  /** A well-formed message from the server, read whole: handled. */
  #accept(message: ServerMessage, link: LinkSession): void {
    // A well-formed command: the server is a PyMoDAQ server of our generation (the handshake has no
    // reply, docs/protocols/pymodaq.md §8.1), so this link proved the peer and the reconnect backoff starts over.
    link.tcp?.markHealthy();
    this.#rejectionReported = false;
    this.#dispatch(message, link);
  }

  /**
   * Bytes arrived on `link` (called by the reader, synchronously). While the read loop waits, moves that
   * arrived whole are handled here, at most MOVES_AT_HAND per call and only while the read gate is open;
   * the loop wakes for anything else (another command, a partial message, the end of the stream).
   */
  #arrival(link: LinkSession, reader: ByteReader): void {
    if (link.wake === undefined) return;
    if (link.live && !this.#isClosed && !reader.ended) {
      const p = this.profile;
      const atHand = this.#movesAtHand;
      let took = false;
      try {
        for (let i = 0; i < MOVES_AT_HAND; i++) {
          // Nothing more at hand (the usual end after one move): no gate to ask.
          if (reader.buffered === 0) break;
          if (this.readGate(link) !== undefined) break;
          const command = p.positionReplyAtHand(reader, atHand);
          if (command === undefined) break;
          took = true;
          this.#acceptMove(command as 'move_abs' | 'move_rel', atHand.position!, atHand.timestamp, link);
          if (link.wake === undefined) return;
        }
      } catch (e) {
        // handle() must not throw; should it, the error is reported and the loop takes over.
        this.reportError(e);
      }
      if (took && reader.buffered === 0 && link.live && !this.#isClosed) return;
    }
    link.wakeReadLoop();
  }

  /** #accept for a move taken at hand: no message object (see handleMove). */
  #acceptMove(
    command: 'move_abs' | 'move_rel',
    position: Position,
    timestamp: number | undefined,
    link: LinkSession,
  ): void {
    link.tcp?.markHealthy();
    this.#rejectionReported = false;
    if (this.listenerCount('command' as never) > 0) this.emitEvent('command', { command });
    this.handleMove(command, position, timestamp, link);
  }

  /**
   * A move taken whole in the socket's read callback (the hot path): `position` is lean (value and
   * units), `timestamp` its DataActuator's (undefined for gen A/B, which carry none). The default hands
   * it to handle() as a message; a subclass may take it without one. Must not throw.
   * @internal
   */
  protected handleMove(
    command: 'move_abs' | 'move_rel',
    position: Position,
    _timestamp: number | undefined,
    link: LinkSession,
  ): void {
    this.handle({ command, position }, link);
  }

  /** What #arrival matches: a move command and its position (lean: value and units). */
  readonly #movesAtHand: CommandAtHand = { positionAfter: MOVE_COMMANDS, position: undefined };

  #dispatch(message: ServerMessage, link: LinkSession): void {
    if (message.command === ServerCommand.quit) {
      this.emitEvent('serverQuit');
      return;
    }
    if (this.listenerCount('command' as never) > 0) this.emitEvent('command', { command: message.command });
    if (message.command === ServerCommand.setInfo)
      this.onSetInfo(message as { path: string[]; xml: string; root: string }, link);
    else this.handle(message, link);
  }

  /**
   * Reads one whole message, or returns undefined after a gen D frame that could not be used (it was
   * consumed whole, so the stream stays in step, docs/protocols/pymodaq.md §6.3).
   */
  async #readMessage(reader: ByteReader, link: LinkSession): Promise<ServerMessage | undefined> {
    // No deadline while waiting: the server sends when it likes. The reader is closed when the link
    // drops or the client closes.
    const p = this.profile;
    let command: string;
    try {
      command = await p.readCommand(reader, WAIT_FOR_COMMAND);
    } catch (e) {
      // Gen D: a command frame that failed to decode was consumed whole; the stream stays in step.
      if (!p.framed || !PymodaqDecodeError.isInstance(e)) throw e;
      this.reportError(e);
      return undefined;
    }
    return this.#readPayload(command, reader, link);
  }

  /**
   * The message whose command frame was just read: at once when its payload is a position that has
   * arrived whole (a move), else through #readPayload.
   */
  #messageAfter(
    frame: Uint8Array,
    reader: ByteReader,
    link: LinkSession,
  ): ServerMessage | undefined | Promise<ServerMessage | undefined> {
    const p = this.profile;
    let command: string;
    try {
      command = p.commandOfFrame(frame);
    } catch (e) {
      // As in #readMessage: an undecodable gen D command frame was consumed whole.
      if (!p.framed || !PymodaqDecodeError.isInstance(e)) throw e;
      this.reportError(e);
      return undefined;
    }
    if (command === ServerCommand.moveAbs || command === ServerCommand.moveRel) {
      const position = p.positionAtHand(reader);
      if (position !== undefined) return { command, position, timestamp: p.matchedTimestamp };
    }
    return this.#readPayload(command, reader, link);
  }

  /** The payload of `command`, read whole (undefined after a gen D frame that could not be used). */
  async #readPayload(
    command: string,
    reader: ByteReader,
    link: LinkSession,
  ): Promise<ServerMessage | undefined> {
    const p = this.profile;
    // Once the command is in, the rest of the message is due within the deadline.
    const opts = { signal: link.abort.signal, timeoutMs: this.timeoutMs };
    try {
      switch (command) {
        case ServerCommand.moveAbs:
        case ServerCommand.moveRel: {
          const position = await p.readPosition(reader, opts);
          return {
            command,
            position: { value: position.value, units: position.units },
            timestamp: position.data?.timestamp,
          };
        }
        case ServerCommand.setInfo: {
          // set_info's path starts with the server's root name (`settings_client`), dropped here (§8.4).
          const [root = '', ...path] = await p.readPath(reader, opts);
          const xml = await p.readString(reader, opts);
          return { command, path, xml, root };
        }
        default:
          if (SERVER_COMMANDS.includes(command) || grabDimOf(command) !== undefined) return { command };
          // Gen A–C: its payload (if any) cannot be skipped; the link is dropped and reconnected (§9 e).
          throw new UnknownCommandError(command, SERVER_COMMANDS);
      }
    } catch (e) {
      // Gen D: a payload frame that failed to decode was consumed whole; a timeout consumed nothing of
      // the frame it waited for, but the command it belongs to is lost: both leave the stream in step.
      if (p.framed && (PymodaqDecodeError.isInstance(e) || UnknownCommandError.isInstance(e))) {
        this.reportError(e);
        return undefined;
      }
      throw e;
    }
  }

  /**
   * Drops the link on purpose (what it buffered is garbage now). The tcp reconnect policy decides what
   * follows: at once after a link that proved the peer, on a growing delay after one that did not.
   */
  #dropLink(link: LinkSession, error: unknown): void {
    link.tcp?.drop('desync', error instanceof Error ? error : new Error(String(error)));
  }

  #applySetInfo(message: { path: string[]; xml: string }): void {
    try {
      const node = parseParameterXml(message.xml);
      if (message.path.length === 0) throw new ProtocolError('set_info with an empty parameter path');
      if (!applyParameter(this.#settings, message.path, node)) {
        throw new ProtocolError(
          `set_info for ${JSON.stringify(message.path)}: no such group in the settings`,
        );
      }
      const applied = { ...node, name: message.path[message.path.length - 1]! };
      this.onSettingChanged(message.path, applied);
      this.emitEvent('setInfo', { path: message.path, parameter: applied, xml: message.xml });
    } catch (e) {
      this.reportError(e);
    }
  }
}

/** The default settings root of a client. */
export function defaultSettings(children: ParameterNode[] = []): ParameterNode {
  return parameter('settings', { type: 'group', title: 'Settings', attributes: PYMODAQ_FLAGS, children });
}

/**
 * The attributes PyMoDAQ's own `parameter_to_xml_string` writes on every element (docs/protocols/pymodaq.md §7, vector
 * v5_bytes_xml); a real server's XML reader finds what it expects.
 */
export const PYMODAQ_FLAGS: Readonly<Record<string, string>> = Object.freeze({
  visible: '1',
  removable: '0',
  readonly: '0',
});
