// PymodaqServer: what PyMoDAQ's TCPServer plugins (DAQ_Move_TCPServer, DAQ_xDViewer_TCPServer) do, as a
// library: listen, accept GRABBER/ACTUATOR clients, send them commands and await their replies.
// Differences from upstream, each from docs/protocols/pymodaq.md §9: no 100 ms pacing per message; EOF is a disconnect, never
// a spin (a); one client's error never stops the others (d); an unknown command closes that client in
// gen A–C and skips the frame in gen D (e); XML is parsed without entity expansion and never evaluated
// (i); every call has a deadline, moves included (j); close() says `Quit` to every client first (k).

import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  AbortedError,
  armDeadline,
  ClosedError,
  checkTimeout,
  LimitExceededError,
  type Logger,
  type OperationOptions,
  TimeoutError,
} from '@labwire/framing';
import { type LoggerLike, toLogger } from '@labwire/tcp';
import {
  type CodecLimits,
  type DataToExport,
  type Generation,
  type Position,
  type PymodaqProfile,
  resolveProfile,
} from './codec';
import { commandBytes } from './command-bytes';
import {
  type ClientType,
  type GrabDim,
  positionQueryFor,
  SERVER_SETTINGS_ROOT,
  ServerCommand,
} from './commands';
import { NoClientError, ProtocolError } from './errors';
import { type ParameterNode, toParameterXml } from './parameter-xml';
import {
  type PymodaqServerClient,
  type PymodaqServerEvents,
  type ReplyKind,
  releaseReceived,
  SESSION_EVENTS,
  ServerSession,
  type SessionConfig,
} from './server-session';

/** Which clients a server accepts: an actuator server takes ACTUATOR, a detector server GRABBER. */
export type ServerRole = 'actuator' | 'detector' | 'both';

export interface PymodaqServerOptions {
  /** The wire generation (`'A'`, `'B'`, `'C1'`…`'C4'`, `'D'`) or a PyMoDAQ version (`'4.4'`, `'5.0'`). */
  protocol: Generation | string;
  /** Default `'both'`. PyMoDAQ's plugins are one or the other. */
  role?: ServerRole;
  /** Default `127.0.0.1` (PyMoDAQ's default is a lab address, 10.47.0.39; docs/protocols/pymodaq.md §1). */
  host?: string;
  /** Default 6341, PyMoDAQ's. Use 0 for an ephemeral port. */
  port?: number;
  /** A client must identify within this many ms of connecting. Default 5000. */
  handshakeTimeoutMs?: number;
  /** Default deadline of `grab`, `getActuatorValue`, `stopMotion`, `setInfo`. Default 10 000. */
  timeoutMs?: number;
  /** Default deadline of `moveAbs`, `moveRel`, `moveHome` (PyMoDAQ's move timeout, §9 j). Default 60 000. */
  moveTimeoutMs?: number;
  /** Once a message has started, the rest must arrive within this many ms. Default 10 000. */
  readTimeoutMs?: number;
  /**
   * Largest gen D frame and largest array block accepted, checked before allocating. Default 64 MiB (a
   * 2048×2048 float64 image is 32 MiB).
   */
  maxMessageBytes?: number;
  /** Further decoder limits (string, list and nesting sizes; see docs/codec.md). */
  limits?: Partial<CodecLimits>;
  /**
   * Identified clients at most. When one more identifies, the identified client that has been quiet
   * longest and has nothing pending is closed to make room ('evicted'); when every one is busy, the
   * newcomer is rejected. Default 64.
   */
  maxClients?: number;
  /**
   * Connections that have not identified yet, at most; they never take an identified slot. When one more
   * connects, the oldest of them is closed to make room. Default 16.
   */
  maxPendingClients?: number;
  /**
   * An identified client with nothing pending that has exchanged no complete message (either way) for this
   * long is closed ('idle'). PyMoDAQ clients are quiet between commands: raise it, or `Infinity` to keep
   * quiet clients for good (labwire's clients reconnect by themselves). Default 60 000.
   */
  idleTimeoutMs?: number;
  /**
   * Largest `Infos` / `Info_xml` XML accepted, in bytes, checked before it is read (PyMoDAQ settings trees
   * are a few tens of KiB). XML is parsed in slices between which other clients are served; about 50 ms
   * of work per MiB here. Default 1 MiB.
   */
  maxInfosBytes?: number;
  /**
   * Messages one client's sending queue holds while earlier ones are still being written (a client that
   * does not read); one more is refused with LimitExceededError. Queued messages are encoded only when
   * their turn comes. Default 32.
   */
  maxQueuedMessages?: number;
  /** The command that asks for a position. Default `check_position` for gen A, else `get_actuator_value`. */
  positionQuery?: 'check_position' | 'get_actuator_value';
  /** `(message, fields)` loggers, or pino/bunyan (detected). Default: silent. */
  logger?: LoggerLike;
}

/** Per-call options of the server's commands. */
export interface ServerCallOptions extends OperationOptions {
  /**
   * The id of the client to address. Default: the client of the needed type that identified last
   * ("last client of each type wins", PyMoDAQ's rule, docs/protocols/pymodaq.md §1).
   */
  client?: string | undefined;
}

export type { PymodaqServerEvents };

/**
 * What PymodaqBridge needs beyond the public API: the session of a client (to forward commands to it
 * without waiting for a reply) and a gate on reading clients. Internal: not exported by the package.
 */
export interface ServerInternals {
  session(id: string): ServerSession | undefined;
  readGate: ((session: ServerSession) => Promise<void> | undefined) | undefined;
  /** Every position reply of every client (see SessionConfig.onPosition). */
  onPosition: SessionConfig['onPosition'];
}
const INTERNALS = new WeakMap<PymodaqServer, ServerInternals>();

/** @internal The internals of a server (for PymodaqBridge). */
export function serverInternals(server: PymodaqServer): ServerInternals {
  return INTERNALS.get(server)!;
}

const DEFAULT_PORT = 6341;
/** @internal Also the bridge's. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_INFOS_BYTES = 1024 * 1024;
/** @internal `maxQueuedMessages` (the server's and the bridge's), checked: a whole number >= 1. Default 32. */
export function checkMaxQueuedMessages(value: number | undefined): number {
  const max = value ?? 32;
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`maxQueuedMessages must be a whole number >= 1, got ${max}`);
  return max;
}

const TYPE_OF_ROLE: Record<ServerRole, readonly ClientType[]> = {
  actuator: ['ACTUATOR'],
  detector: ['GRABBER'],
  both: ['ACTUATOR', 'GRABBER'],
};

/**
 * A listener that throws is reported to the logger and never reaches the connection that emitted the
 * event. No `error` event exists: one client's failure is its `clientError`.
 */
export class PymodaqServer extends EventEmitter<PymodaqServerEvents> implements AsyncDisposable {
  readonly profile: PymodaqProfile;
  readonly role: ServerRole;
  readonly #options: PymodaqServerOptions;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #moveTimeoutMs: number;
  readonly #sessionConfig: SessionConfig;
  readonly #idleTimeoutMs: number;
  #idleTimer: ReturnType<typeof setInterval> | undefined;
  readonly #sessions = new Map<string, ServerSession>();
  #server: net.Server | undefined;
  #address: { host: string; port: number } | undefined;
  #nextId = 1;
  #closing: Promise<void> | undefined;
  readonly #clientWaiters = new Set<() => void>();

  constructor(options: PymodaqServerOptions) {
    super();
    const logger = toLogger(options.logger);
    this.#options = options;
    this.#logger = logger;
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.profile = resolveProfile(options.protocol, {
      limits: {
        maxFrameBytes: maxMessageBytes,
        maxArrayBytes: maxMessageBytes,
        maxMessageBytes,
        ...options.limits,
      },
    });
    this.role = options.role ?? 'both';
    if (!(this.role in TYPE_OF_ROLE))
      throw new RangeError(`role must be actuator, detector or both, got ${this.role}`);
    this.#timeoutMs = checkTimeout(options.timeoutMs, 10_000);
    this.#moveTimeoutMs = checkTimeout(options.moveTimeoutMs, 60_000);
    this.#moveCallOptions = Object.freeze({ signal: undefined, timeoutMs: this.#moveTimeoutMs });
    this.#sessionConfig = {
      profile: this.profile,
      logger,
      accepted: TYPE_OF_ROLE[this.role],
      handshakeTimeoutMs: checkTimeout(options.handshakeTimeoutMs, 5000),
      readTimeoutMs: checkTimeout(options.readTimeoutMs, 10_000),
      maxMessageBytes,
      maxInfosBytes: options.maxInfosBytes ?? DEFAULT_MAX_INFOS_BYTES,
      maxQueuedMessages: checkMaxQueuedMessages(options.maxQueuedMessages),
      listened: (event) => this.listenerCount(event) > 0,
      admit: (session) => this.#admit(session),
      readGate: (session) => internals.readGate?.(session),
      onPosition: (session, kind, position, timestamp) =>
        internals.onPosition?.(session, kind, position, timestamp),
    };
    const internals: ServerInternals = {
      session: (id) => {
        const s = this.#sessions.get(id);
        return s?.identified ? s : undefined;
      },
      readGate: undefined,
      onPosition: undefined,
    };
    INTERNALS.set(this, internals);
    this.#idleTimeoutMs = checkTimeout(options.idleTimeoutMs, 60_000);
  }

  /** Where the server listens, once `listen()` resolved. */
  get address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  /** The identified clients, oldest first. */
  get clients(): PymodaqServerClient[] {
    return [...this.#sessions.values()].filter((s) => s.identified).map((s) => s.info());
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  listen(options: OperationOptions = {}): Promise<{ host: string; port: number }> {
    if (this.#closing) return Promise.reject(new ClosedError('PymodaqServer.listen'));
    if (this.#server) return Promise.reject(new Error('PymodaqServer.listen: already listening'));
    const host = this.#options.host ?? '127.0.0.1';
    const port = this.#options.port ?? DEFAULT_PORT;
    const server = net.createServer({ noDelay: true, keepAlive: true }, (socket) => this.#accept(socket));
    this.#server = server;
    const timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    return new Promise((resolve, reject) => {
      const deadline = armDeadline(
        timeoutMs,
        options.signal,
        () => fail(new TimeoutError('PymodaqServer.listen', timeoutMs)),
        (reason) => fail(new AbortedError('PymodaqServer.listen', reason)),
      );
      const fail = (error: unknown) => {
        deadline.clear();
        server.off('listening', ok);
        server.close();
        this.#server = undefined;
        reject(error);
      };
      const ok = () => {
        deadline.clear();
        server.off('error', fail);
        server.on('error', (e) => this.#logger.error('pymodaq server socket error', { error: e }));
        const a = server.address() as net.AddressInfo;
        this.#address = { host: a.address, port: a.port };
        this.#logger.info('pymodaq server listening', {
          ...this.#address,
          protocol: this.profile.generation,
        });
        this.#startIdleTimer();
        this.#emitSafe('listening', this.#address);
        resolve(this.#address);
      };
      server.once('error', fail);
      server.once('listening', ok);
      server.listen(port, host);
    });
  }

  /**
   * Resolves with a client of `type` as soon as one is identified (at once when one is). With
   * `type` undefined, any client.
   */
  waitForClient(type?: ClientType, options: OperationOptions = {}): Promise<PymodaqServerClient> {
    const find = () => this.#latest(type);
    const found = find();
    if (found) return Promise.resolve(found.info());
    if (this.#closing) return Promise.reject(new ClosedError('waitForClient'));
    const timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = find();
        if (s) {
          done();
          resolve(s.info());
        } else if (this.#closing) {
          done();
          reject(new ClosedError('waitForClient'));
        }
      };
      const done = () => {
        deadline.clear();
        this.#clientWaiters.delete(check);
      };
      const deadline = armDeadline(
        timeoutMs,
        options.signal,
        () => {
          done();
          reject(new TimeoutError(`waitForClient(${type ?? 'any'})`, timeoutMs));
        },
        (reason) => {
          done();
          reject(new AbortedError('waitForClient', reason));
        },
      );
      this.#clientWaiters.add(check);
    });
  }

  /** `Send Data 0D|1D|2D|ND` → the detector's `Done` + data. */
  grab(dim: GrabDim, options: ServerCallOptions = {}): Promise<DataToExport> {
    if (dim === 'ND' && this.profile.generation === 'A') {
      return Promise.reject(
        new ProtocolError('Send Data ND does not exist in generation A (PyMoDAQ ≤ 2.0.0)'),
      );
    }
    return this.#request<DataToExport>('GRABBER', 'Done', `grab(${dim})`, options, this.#timeoutMs, () => [
      commandBytes(this.profile, ServerCommand.sendData(dim)),
    ]);
  }

  /** `move_abs` + position → the actuator's `move_done` + where it arrived. */
  moveAbs(position: number, options: ServerCallOptions & { units?: string } = {}): Promise<Position> {
    return this.#move(ServerCommand.moveAbs, position, options);
  }

  /** `move_rel` + offset → `move_done` + the new absolute position (computed by the client). */
  moveRel(offset: number, options: ServerCallOptions & { units?: string } = {}): Promise<Position> {
    return this.#move(ServerCommand.moveRel, offset, options);
  }

  /** `move_home` → `move_done` + the home position. */
  moveHome(options: ServerCallOptions = {}): Promise<Position> {
    return this.#request<Position>('ACTUATOR', 'move_done', 'moveHome', options, this.#moveTimeoutMs, () => [
      commandBytes(this.profile, ServerCommand.moveHome),
    ]);
  }

  /** `get_actuator_value` (or `check_position`) → `position_is` + the current position. */
  getActuatorValue(options: ServerCallOptions = {}): Promise<Position> {
    const command = this.#options.positionQuery ?? positionQueryFor(this.profile.generation);
    return this.#request<Position>(
      'ACTUATOR',
      'position_is',
      'getActuatorValue',
      options,
      this.#timeoutMs,
      () => [commandBytes(this.profile, command)],
    );
  }

  /** `stop_motion`. No reply exists; a move in progress answers its own `move_done`. */
  async stopMotion(options: ServerCallOptions = {}): Promise<void> {
    const session = this.#select('ACTUATOR', options.client);
    await session.send(
      [commandBytes(this.profile, ServerCommand.stopMotion)],
      this.#callOptions(options, this.#timeoutMs),
    );
  }

  /**
   * `set_info`: changes one client parameter. `path` is below the client's settings root; the server
   * prefixes `settings_client`, which the client drops (docs/protocols/pymodaq.md §8.4). Gen D sends the XML as bytes, as
   * PyMoDAQ 5 does.
   */
  async setInfo(
    path: readonly string[],
    parameter: ParameterNode | string,
    options: ServerCallOptions & { type?: ClientType } = {},
  ): Promise<void> {
    const session = this.#select(options.type, options.client);
    const xml = typeof parameter === 'string' ? parameter : toParameterXml(parameter);
    const p = this.profile;
    const route = [SERVER_SETTINGS_ROOT, ...path];
    // Encoded when its turn comes: a queue of messages for a client that does not read holds no bytes.
    await session.send(
      () => [
        commandBytes(p, ServerCommand.setInfo),
        p.encodePath(route),
        p.encodeString(p.generation === 'D' ? new TextEncoder().encode(xml) : xml),
      ],
      this.#callOptions(options, this.#timeoutMs),
    );
  }

  /**
   * Hands back the memory that received detector data (a `data` event's `data`, or what `grab()`
   * resolved with) lives in, once nothing refers to its arrays any more: the client's next frames of the
   * same size are received into it instead of into fresh memory. A viewer showing a stream calls it once
   * a frame is drawn (or copied); a stream whose frames are handed back runs on one or two buffers, with
   * no page faults and no garbage per frame. Without it every frame lands in memory of its own, which the
   * listener may keep for good.
   *
   * After the call the arrays of `data` are overwritten by later frames: do not read them again. Only the
   * large arrays (256 KiB and more) are concerned; smaller ones are copies and stay valid. Handing back
   * data twice, data of another server, or data of a client that has left is harmless and returns false.
   * Returns whether memory was kept for the next frames.
   */
  release(data: DataToExport): boolean {
    return releaseReceived(data, (session) => this.#sessions.get(session.id) === session);
  }

  /**
   * Stops listening, says `Quit` to every client (labwire extension), closes every connection and
   * rejects every pending call with PeerGoneError. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    for (const check of [...this.#clientWaiters]) check();
    const server = this.#server;
    const stopped = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    await Promise.all([...this.#sessions.values()].map((s) => s.close('server closed', { quit: true })));
    await stopped;
    this.#server = undefined;
  }

  /**
   * A move (the hot path of an actuator server): no closure and, without a signal or a deadline of its
   * own, no options object per call.
   */
  #move(command: string, value: number, options: ServerCallOptions & { units?: string }): Promise<Position> {
    let session: ServerSession;
    let message: Uint8Array[];
    try {
      session = this.#select('ACTUATOR', options.client);
      message = [this.profile.encodeCommandPosition(command, value, options.units ?? session.units)];
    } catch (e) {
      return Promise.reject(e);
    }
    return session.request<Position>(
      'move_done',
      message,
      command,
      options.signal === undefined && options.timeoutMs === undefined
        ? this.#moveCallOptions
        : this.#callOptions(options, this.#moveTimeoutMs),
    );
  }

  /** The call options of a move without a signal or a deadline of its own (shared by every such move). */
  readonly #moveCallOptions: OperationOptions & { timeoutMs: number };

  #request<T>(
    type: ClientType,
    kind: ReplyKind,
    operation: string,
    options: ServerCallOptions,
    defaultTimeoutMs: number,
    parts: (session: ServerSession) => Uint8Array[],
  ): Promise<T> {
    let session: ServerSession;
    let message: Uint8Array[];
    try {
      session = this.#select(type, options.client);
      message = parts(session);
    } catch (e) {
      return Promise.reject(e);
    }
    return session.request<T>(kind, message, operation, this.#callOptions(options, defaultTimeoutMs));
  }

  #callOptions(
    options: ServerCallOptions,
    defaultTimeoutMs: number,
  ): OperationOptions & { timeoutMs: number } {
    return { signal: options.signal, timeoutMs: checkTimeout(options.timeoutMs, defaultTimeoutMs) };
  }

  #latest(type: ClientType | undefined): ServerSession | undefined {
    let latest: ServerSession | undefined;
    for (const s of this.#sessions.values()) {
      if (!s.identified || (type !== undefined && s.type !== type)) continue;
      if (latest === undefined || s.identifiedAt >= latest.identifiedAt) latest = s;
    }
    return latest;
  }

  #select(type: ClientType | undefined, id: string | undefined): ServerSession {
    if (this.#closing) throw new ClosedError('PymodaqServer');
    if (id !== undefined) {
      const s = this.#sessions.get(id);
      if (!s?.identified) throw new NoClientError(`no client with id ${id}`);
      if (type !== undefined && s.type !== type)
        throw new NoClientError(`client ${id} is a ${s.type}, not a ${type}`);
      return s;
    }
    const s = this.#latest(type);
    if (!s)
      throw new NoClientError(type === undefined ? 'none is connected' : `no ${type} client is connected`);
    return s;
  }

  #accept(socket: net.Socket): void {
    const id = `c${this.#nextId++}`;
    if (this.#closing) {
      socket.on('error', () => {});
      this.#emitSafe('rejected', {
        remoteAddress: socket.remoteAddress ?? '',
        remotePort: socket.remotePort ?? 0,
        error: new ClosedError('accept'),
      });
      socket.destroy();
      return;
    }
    // Unidentified connections have their own slots: at capacity the oldest makes room for the newcomer.
    const maxPending = this.#options.maxPendingClients ?? 16;
    let pending = 0;
    let oldest: ServerSession | undefined;
    for (const s of this.#sessions.values()) {
      if (!s.unidentified) continue;
      pending++;
      oldest ??= s;
    }
    if (pending >= maxPending && oldest !== undefined) {
      const error = new LimitExceededError(
        'pymodaq server: unidentified connections',
        maxPending,
        pending + 1,
      );
      this.#logger.warn('pymodaq connection evicted', { id: oldest.id, remote: oldest.remoteAddress });
      oldest.reject(error, 'evicted: a newer connection needed its slot');
    }
    const session = new ServerSession(id, socket, this.#sessionConfig);
    this.#sessions.set(id, session);
    for (const event of SESSION_EVENTS) {
      session.on(event, (payload: unknown) => this.#emitSafe(event, payload as never));
    }
    session.on('client', () => {
      for (const check of [...this.#clientWaiters]) check();
    });
    session.start();
    void session.finished.then(() => {
      // The session object stays until its close settled, so close() can await it.
      void session.close('finished', { quit: false }).then(() => this.#sessions.delete(id));
    });
  }

  /**
   * Whether `session` may take an identified slot: at capacity the identified client quiet the longest
   * with nothing pending is closed for it; when all are busy the newcomer gets the returned error.
   */
  #admit(session: ServerSession): Error | undefined {
    const max = this.#options.maxClients ?? 64;
    let identified = 0;
    let victim: ServerSession | undefined;
    for (const s of this.#sessions.values()) {
      if (s === session || !s.identified || s.closing) continue;
      identified++;
      if (!s.busy && (victim === undefined || s.lastActivity < victim.lastActivity)) victim = s;
    }
    if (identified < max) return undefined;
    if (victim === undefined) return new NoClientError(`refused: ${max} clients connected, all busy`);
    this.#logger.info('pymodaq client evicted', { id: victim.id, for: session.id });
    void victim.close('evicted: a newer client needed its slot', { quit: true });
    return undefined;
  }

  /** Closes identified clients that stayed quiet with nothing pending for idleTimeoutMs. */
  #startIdleTimer(): void {
    const idle = this.#idleTimeoutMs;
    if (!Number.isFinite(idle)) return;
    const every = Math.min(5000, Math.max(50, Math.floor(idle / 8)));
    this.#idleTimer = setInterval(() => {
      const now = Date.now();
      for (const s of this.#sessions.values()) {
        if (s.identified && !s.busy && now - s.lastActivity >= idle) {
          void s.close('idle', { quit: true });
        }
      }
    }, every);
    this.#idleTimer.unref();
  }

  /** Emits to the listeners; one that throws is logged and never breaks the connection that emitted. */
  #emitSafe<K extends keyof PymodaqServerEvents>(event: K, ...payload: PymodaqServerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: PymodaqServerEvents[K]) => boolean)(event, ...payload);
    } catch (e) {
      this.#logger.error(`a listener of '${String(event)}' threw`, { error: e });
    }
  }
}
