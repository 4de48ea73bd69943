// PymodaqBridge: instruments written for one PyMoDAQ wire generation talk to a PyMoDAQ server of another.
// It listens for instrument clients speaking the client generation (a PymodaqServer: slots, handshake and
// idle deadlines, bounded queues, backpressure), and for each identified instrument opens its own
// connection to the PyMoDAQ server in the server generation (a client role: identification, the tcp
// reconnect policy). Every message is read whole on one side, translated and written on the other:
//
//   server → instrument: Send Data xD, move_abs / move_rel (+ position), move_home, get_actuator_value /
//     check_position, stop_motion, set_info (+ path + XML);
//   instrument → server: Infos, Info, Info_xml, Done (+ DataToExport or list of arrays), move_done /
//     position_is (+ position), x_axis / y_axis, Quit.
//
// Array data is never copied: a decoded array is a view of the bytes that arrived and is written from
// there (every generation carries every dtype). Detector data follows a latest-wins rule when the server is
// slower than the instrument (one frame written, one waiting, newer replaces the waiting one); commands and
// replies are never dropped while their server link lives, and the side that sends too many is not read
// until the other side has taken them. What a generation cannot carry is a TranslationError (reported once
// per instrument and kind of loss, counted every time); the session goes on.

import { EventEmitter } from 'node:events';
import { checkTimeout, LimitExceededError, type Logger, type OperationOptions } from '@labwire/framing';
import { type ReconnectOptions, toLogger } from '@labwire/tcp';
import {
  type AxisMessage,
  carriesUnits,
  isListGeneration,
  positionQueryOf,
  sameAxis,
  translateDetectorData,
  type ViewerAxes,
} from './bridge-translate';
import { BridgeUpstream } from './bridge-upstream';
import type { LinkSession, ServerMessage } from './client-role';
import {
  type CodecLimits,
  type DataToExport,
  type Generation,
  NdArray,
  type Position,
  PymodaqDecodeError,
  type PymodaqProfile,
  resolveProfile,
} from './codec';
import { commandBytes } from './command-bytes';
import { CLIENT_TYPES, ClientCommand, type ClientType, grabDimOf, ServerCommand } from './commands';
import { ClientTypeError, generationsToTry, HandshakeRejectedError, TranslationError } from './errors';
import {
  checkMaxQueuedMessages,
  DEFAULT_MAX_MESSAGE_BYTES,
  PymodaqServer,
  type PymodaqServerOptions,
  type ServerRole,
  serverInternals,
} from './server';
import { RESOLVED, type ServerSession } from './server-session';

/** One instrument connected to the bridge. */
export interface BridgeClientInfo {
  /** Unique within the bridge's life (`c1`, `c2` … in connection order). */
  readonly id: string;
  readonly type: ClientType;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** Translation losses remembered per instrument (to report each once). */
const MAX_REPORTED = 64;
/** Server links remembered for the unanswered moves / queries of one instrument. */
const MAX_TRACKED = 1024;

/** One instrument and its server link. */
class Instrument {
  readonly info: BridgeClientInfo;
  readonly session: ServerSession;
  upstream!: BridgeUpstream;
  /** The server link that asked each move / position query not answered yet, oldest first. */
  readonly moves: LinkSession[] = [];
  readonly queries: LinkSession[] = [];
  /** x_axis / y_axis a gen A/B instrument declared (attached to its data for C/D servers). */
  readonly declared: ViewerAxes = {};
  /** Axes last sent to each gen A/B server link. */
  readonly sentAxes = new WeakMap<LinkSession, ViewerAxes>();
  readonly reported = new Set<string>();
  /** Messages handed to the instrument's session and not written yet. */
  unwritten = 0;
  readonly #waiters = new Set<() => void>();
  closed = false;

  constructor(info: BridgeClientInfo, session: ServerSession) {
    this.info = info;
    this.session = session;
  }

  written(): void {
    this.unwritten--;
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once fewer than `max` messages wait for the instrument (undefined: they already do). */
  whenBelow(max: number): Promise<void> | undefined {
    if (this.unwritten < max || this.closed) return undefined;
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.unwritten < max || this.closed) {
          this.#waiters.delete(check);
          resolve();
        }
      };
      this.#waiters.add(check);
    });
  }

  release(): void {
    this.closed = true;
    for (const w of [...this.#waiters]) w();
  }
}

/** A copy of an axis small enough to keep (never a view that would pin a whole received frame). */
function keepAxis(values: NdArray, label: string, units: string): AxisMessage {
  return { values: new NdArray(values.dtype, values.shape, values.data.slice()), label, units };
}

/**
 * The generations an instrument refused at the handshake seems to speak: a gen D type frame read as a gen
 * A–C string shows its tag (`\0\0\0\x03str…`); a gen A–C type string does not decode as a gen D frame.
 */
function suggestionsFor(error: unknown, listening: Generation): Generation[] {
  if (ClientTypeError.isInstance(error)) {
    return listening !== 'D' && isTypeFrameD(error.received) ? ['D'] : [];
  }
  if (listening !== 'D') return [];
  // A gen A–C type string read as a gen D frame: its first 4 characters become a tag length ("GRAB",
  // "ACTU" as a big-endian u32), far over the command limit; or the frame does not decode.
  if (LimitExceededError.isInstance(error)) {
    return error.actual === TAG_LENGTH_GRAB || error.actual === TAG_LENGTH_ACTU ? generationsToTry('D') : [];
  }
  return PymodaqDecodeError.isInstance(error) ? generationsToTry('D') : [];
}

/** "GRAB" and "ACTU" read as big-endian u32 lengths. */
const TAG_LENGTH_GRAB = 0x47524142;
const TAG_LENGTH_ACTU = 0x41435455;

/** A gen D type frame's payload (`u32 3` "str" `u32 n` TYPE, docs/protocols/pymodaq.md §6.1) as a gen A–C reader sees it. */
function isTypeFrameD(text: string): boolean {
  return CLIENT_TYPES.some(
    (type) =>
      text === `\u0000\u0000\u0000\u0003str\u0000\u0000\u0000${String.fromCharCode(type.length)}${type}`,
  );
}

/** The options of a bridge (declared on its constructor). */
type PymodaqBridgeOptions = ConstructorParameters<typeof PymodaqBridge>[0];

/** The events a bridge emits (declared on the class, named here for the emit helper). */
type PymodaqBridgeEvents = PymodaqBridge extends EventEmitter<infer E> ? E : never;

export class PymodaqBridge
  extends EventEmitter<{
    listening: [{ host: string; port: number }];
    /** An instrument identified; the bridge connects to the server for it. */
    client: [BridgeClientInfo];
    /** An instrument left (Quit, EOF, error, eviction, close). Its server link says Quit and closes. */
    clientClosed: [{ client: BridgeClientInfo; reason: string }];
    /**
     * An instrument was refused: a type the role does not take, no handshake in time, no slot, or a
     * handshake of another generation (then `suggestedGenerations` says which one it seems to speak).
     */
    rejected: [
      { remoteAddress: string; remotePort: number; error: unknown; suggestedGenerations: Generation[] },
    ];
    /** The bridge identified on the server for an instrument (again after every reconnect). */
    serverConnected: [
      { client: BridgeClientInfo; remoteAddress: string | undefined; remotePort: number | undefined },
    ];
    /** The server link of an instrument dropped; it reconnects per the reconnect policy. */
    serverDisconnected: [{ client: BridgeClientInfo; reason: string; error?: unknown }];
    /** The server refused the bridge's handshake (wrong server generation or role). Once per series. */
    handshakeRejected: [{ client: BridgeClientInfo; error: HandshakeRejectedError }];
    /** A message the target generation cannot carry whole. Once per instrument, command and loss. */
    translationError: [{ client: BridgeClientInfo; error: TranslationError }];
    /** A detector frame was not forwarded: a newer one replaced it, or no server link was up. */
    frameDropped: [{ client: BridgeClientInfo; reason: 'replaced' | 'no-server' }];
    /** Anything else that went wrong with one instrument or its server link; the bridge goes on. */
    error: [{ client: BridgeClientInfo | undefined; error: unknown }];
  }>
  implements AsyncDisposable
{
  /** What the instruments speak. */
  readonly clientProfile: PymodaqProfile;
  /** What the server speaks. */
  readonly serverProfile: PymodaqProfile;
  /** Running totals of the bridge. */
  readonly counters: {
    /** Messages written (or handed to the socket) towards the server. */
    toServer: number;
    /** Messages written (or handed to the socket) towards instruments. */
    toClients: number;
    /** Detector frames replaced by a newer one before they could be written (latest wins). */
    framesReplaced: number;
    /** Messages from instruments dropped because their server link was down. */
    droppedNoServer: number;
    /** move_done / position_is dropped because the server link that asked for them is gone. */
    staleReplies: number;
    /** Messages the target generation could not carry whole (forwarded without something, or dropped). */
    translationErrors: number;
  } = {
    toServer: 0,
    toClients: 0,
    framesReplaced: 0,
    droppedNoServer: 0,
    staleReplies: 0,
    translationErrors: 0,
  };
  readonly #options: PymodaqBridgeOptions;
  readonly #logger: Logger;
  readonly #server: PymodaqServer;
  readonly #instruments = new Map<string, Instrument>();
  readonly #maxQueued: number;
  readonly #timeoutMs: number;
  readonly #axesAsMessages: boolean;
  readonly #closings = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(
    options: Pick<
      PymodaqServerOptions,
      'handshakeTimeoutMs' | 'maxPendingClients' | 'maxInfosBytes' | 'logger'
    > & {
      /** The generation the instruments speak (`'B'`, `'C4'`, or the PyMoDAQ version they were made for). */
      clientProtocol: Generation | string;
      /** The generation of the PyMoDAQ server (`'D'`, `'5.0'` …). */
      serverProtocol: Generation | string;
      /** The PyMoDAQ server's address. Default `127.0.0.1`. */
      serverHost?: string;
      /** The PyMoDAQ server's port. Default 6341. */
      serverPort?: number;
      /** Where instruments connect. Default `127.0.0.1`. */
      host?: string;
      /** Default 6341 (what PyMoDAQ instruments are configured for); 0 picks a free port. */
      port?: number;
      /** Which instruments to accept: `'actuator'`, `'detector'` or `'both'` (default). */
      role?: ServerRole;
      /** A message, once started, must arrive whole within this many ms (both sides). Default 10 000. */
      readTimeoutMs?: number;
      /** Deadline of every write (a large frame to a slow peer included). Default 10 000. */
      timeoutMs?: number;
      /** Deadline of one connect attempt to the server. Default 5000. */
      connectTimeoutMs?: number;
      /** The reconnect policy of the server links (tcp). Default: backoff 200 ms … 5 s. */
      reconnect?: false | ReconnectOptions;
      /** Largest gen D frame / array block / gen A–C message part accepted from instruments. Default 64 MiB. */
      maxMessageBytes?: number;
      /** Further decoder limits (both sides; see docs/codec.md). */
      limits?: Partial<CodecLimits>;
      /** Identified instruments at most (each holds one server link). Default 16. */
      maxClients?: number;
      /**
       * An instrument that exchanged nothing for this long is closed. Default `Infinity`: instruments are
       * quiet between commands for hours; `maxClients` bounds the slots (the quietest makes room).
       */
      idleTimeoutMs?: number;
      /**
       * Messages that must arrive (commands, replies, settings) waiting to be written to one side, at most;
       * beyond it the other side is not read until they drain. Default 32.
       */
      maxQueuedMessages?: number;
      /**
       * Gen A/B servers take axes as `x_axis` / `y_axis` messages (PyMoDAQ 1.6.4 – 4.0.x): the bridge sends the
       * axes of C/D data that way when they change. `false` for a 1.6.0 – 1.6.3 server, which does not know
       * them. Default true.
       */
      axesAsMessages?: boolean;
    },
  ) {
    super();
    this.#options = options;
    this.#logger = toLogger(options.logger);
    this.#maxQueued = checkMaxQueuedMessages(options.maxQueuedMessages);
    this.#axesAsMessages = options.axesAsMessages ?? true;
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.serverProfile = resolveProfile(options.serverProtocol, {
      limits: { maxFrameBytes: maxMessageBytes, maxArrayBytes: maxMessageBytes, ...options.limits },
    });
    this.#server = new PymodaqServer({
      protocol: options.clientProtocol,
      role: options.role ?? 'both',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 6341,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      readTimeoutMs: options.readTimeoutMs,
      timeoutMs: options.timeoutMs,
      maxMessageBytes,
      limits: options.limits,
      maxClients: options.maxClients ?? 16,
      maxPendingClients: options.maxPendingClients,
      idleTimeoutMs: options.idleTimeoutMs ?? Number.POSITIVE_INFINITY,
      maxInfosBytes: options.maxInfosBytes,
      maxQueuedMessages: this.#maxQueued,
      logger: this.#logger,
    });
    this.clientProfile = this.#server.profile;
    this.#timeoutMs = checkTimeout(options.timeoutMs, 10_000);
    const internals = serverInternals(this.#server);
    internals.readGate = (session) => this.#instruments.get(session.id)?.upstream.whenBelow(this.#maxQueued);
    // Position replies come straight from the session (in the socket's read callback when they arrived
    // whole), not as server events: no event object per reply.
    internals.onPosition = (session, kind, position, timestamp) => {
      const i = this.#instruments.get(session.id);
      if (i === undefined) return;
      try {
        this.#reply(i, kind, position, timestamp);
      } catch (e) {
        // Never into the instrument's read loop (its stream is in step): reported, the session goes on.
        this.#error(i, e);
      }
    };
    this.#wireServer();
  }

  /** Where the bridge listens, once `listen()` resolved. */
  get address(): { host: string; port: number } | undefined {
    return this.#server.address;
  }

  /**
   * The instruments connected now: whether each has its server link, and the messages that must arrive
   * still waiting to be written towards the instrument and towards the server (each at most
   * `maxQueuedMessages` plus what one read brought in).
   */
  get clients(): (BridgeClientInfo & {
    readonly serverLinked: boolean;
    readonly queuedToClient: number;
    readonly queuedToServer: number;
  })[] {
    return [...this.#instruments.values()].map((i) => ({
      ...i.info,
      serverLinked: i.upstream.connected,
      queuedToClient: i.unwritten,
      queuedToServer: i.upstream.unwritten,
    }));
  }

  /** Starts listening for instruments; resolves with the bound address. */
  async listen(options: OperationOptions = {}): Promise<{ host: string; port: number }> {
    const address = await this.#server.listen(options);
    this.#logger.info('pymodaq bridge listening', {
      ...address,
      clients: this.clientProfile.generation,
      server: this.serverProfile.generation,
    });
    this.#emitSafe('listening', address);
    return address;
  }

  /**
   * Stops listening, closes every server link (each says `Quit` first, docs/protocols/pymodaq.md §9 a) and every instrument
   * connection (a `Quit` first, the labwire extension of docs/protocols/pymodaq.md §9 k). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    const upstreams = [...this.#instruments.values()].map((i) => {
      i.release();
      return i.upstream.close();
    });
    await Promise.all([...upstreams, this.#server.close(), ...this.#closings]);
    this.#instruments.clear();
  }

  // --- the instrument side ----------------------------------------------------------------------------------

  #wireServer(): void {
    const s = this.#server;
    s.on('client', (c) => {
      const session = serverInternals(s).session(c.id);
      if (session === undefined || this.#closing !== undefined) return;
      const info: BridgeClientInfo = {
        id: c.id,
        type: c.type,
        remoteAddress: c.remoteAddress,
        remotePort: c.remotePort,
      };
      this.#open(new Instrument(info, session));
    });
    s.on('clientClosed', (e) => {
      const instrument = this.#instruments.get(e.client.id);
      if (instrument === undefined) return;
      this.#instruments.delete(e.client.id);
      instrument.release();
      const closing = instrument.upstream.close();
      this.#closings.add(closing);
      void closing.finally(() => this.#closings.delete(closing));
      this.#emitSafe('clientClosed', { client: instrument.info, reason: e.reason });
    });
    s.on('rejected', (e) => {
      this.#emitSafe('rejected', {
        ...e,
        suggestedGenerations: suggestionsFor(e.error, this.clientProfile.generation),
      });
    });
    s.on('clientError', (e) => this.#error(this.#instruments.get(e.client.id), e.error));
    s.on('infos', (e) => {
      const i = this.#instruments.get(e.client.id);
      // Remembered either way: sent now, or with the next identification.
      if (i?.upstream.setInfos(e.xml)) this.counters.toServer++;
    });
    s.on('infoXml', (e) => {
      const i = this.#instruments.get(e.client.id);
      // The instrument's own root name (docs/protocols/pymodaq.md §8.4: the receiver drops it, so any name works; keep its own).
      const root = i?.session.settings?.name ?? 'settings';
      if (i?.upstream.setInfoXml(root, e.path, e.xml)) this.counters.toServer++;
    });
    s.on('info', (e) => {
      const i = this.#instruments.get(e.client.id);
      if (i !== undefined) this.#info(i, e.name, e.value);
    });
    s.on('data', (e) => {
      const i = this.#instruments.get(e.client.id);
      if (i !== undefined) this.#data(i, e.data);
    });
    s.on('axis', (e) => {
      const i = this.#instruments.get(e.client.id);
      if (i !== undefined) this.#axis(i, e.which, e.values, e.label, e.units);
    });
  }

  #open(instrument: Instrument): void {
    const o = this.#options;
    const info = instrument.info;
    const upstream = new BridgeUpstream({
      type: info.type,
      protocol: this.serverProfile.generation,
      limits: this.serverProfile.limits,
      host: o.serverHost ?? '127.0.0.1',
      port: o.serverPort ?? 6341,
      timeoutMs: this.#timeoutMs,
      connectTimeoutMs: o.connectTimeoutMs ?? 5000,
      reconnect: o.reconnect ?? { initialDelayMs: 200, maxDelayMs: 5000 },
      logger: this.#logger,
      onCommand: (message, link) => this.#command(instrument, message, link),
      onMove: (command, position, timestamp, link) =>
        this.#move(instrument, command, position.value, position.units ?? '', timestamp, link),
      gate: () => instrument.whenBelow(this.#maxQueued),
    });
    instrument.upstream = upstream;
    this.#instruments.set(info.id, instrument);
    upstream.on('connected', (e) => this.#emitSafe('serverConnected', { client: info, ...e }));
    upstream.on('disconnected', (e) => {
      // Not when the bridge ends the link itself (the instrument left, or close()).
      if (!instrument.closed) this.#emitSafe('serverDisconnected', { client: info, ...e });
    });
    upstream.on('handshakeRejected', (error) => {
      this.#logger.warn('pymodaq bridge: the server rejected the handshake', {
        client: info.id,
        error: error.message,
      });
      this.#emitSafe('handshakeRejected', { client: info, error });
    });
    upstream.on('error', (error) => {
      if (!HandshakeRejectedError.isInstance(error)) this.#error(instrument, error);
    });
    this.#emitSafe('client', info);
    // The first connect is bounded; after that the connection retries on its own, paced by the policy.
    upstream.connect({ timeoutMs: (o.connectTimeoutMs ?? 5000) + 1000 }).catch((e: unknown) => {
      if (!instrument.closed)
        this.#logger.info('pymodaq bridge: no server link yet', { client: info.id, error: e });
    });
  }

  /** #toClient of a message in one buffer: written at once when the instrument's socket is idle. */
  #toClientOne(i: Instrument, bytes: Uint8Array): void {
    if (i.closed) return;
    if (i.session.sendNow(bytes)) {
      this.counters.toClients++;
      return;
    }
    this.#toClient(i, [bytes]);
  }

  /** Hands a message to an instrument; a full queue or a gone session is reported. */
  #toClient(i: Instrument, parts: readonly Uint8Array[]): void {
    if (i.closed) return;
    this.counters.toClients++;
    const sent = i.session.send(parts);
    // Written at once (the common case): nothing to wait for.
    if (sent === RESOLVED) return;
    i.unwritten++;
    sent.then(
      () => i.written(),
      (e: unknown) => {
        i.written();
        if (!i.closed) this.#error(i, e);
      },
    );
  }

  #info(i: Instrument, name: string, value: string | number): void {
    const y = this.serverProfile;
    let payload: Uint8Array;
    try {
      payload = y.encodeInfo(name, value);
    } catch (e) {
      const lost = [`${JSON.stringify(name)}: ${(e as Error).message}`];
      this.#translation(i, ClientCommand.info, lost, { forwarded: false, toServer: true, cause: e });
      return;
    }
    this.#toServer(i, [commandBytes(y, ClientCommand.info), payload]);
  }

  #toServer(i: Instrument, parts: readonly Uint8Array[], link?: LinkSession): void {
    this.#sent(i.upstream.forward(parts, link));
  }

  /** Counts a message for the server: handed over, or dropped for want of a server link. */
  #sent(forwarded: boolean): void {
    if (forwarded) this.counters.toServer++;
    else this.counters.droppedNoServer++;
  }

  #data(i: Instrument, data: DataToExport): void {
    const pushed = i.upstream.pushData({
      messages: (link) => this.#dataMessages(i, data, link),
      // The memory the frame arrived in comes back for the next one (no page faults in a stream).
      done: (released) => {
        if (released && !i.closed) this.#server.release(data);
      },
    });
    if (pushed === 'sent' || pushed === 'waiting') return;
    if (pushed === 'replaced') this.counters.framesReplaced++;
    else this.counters.droppedNoServer++;
    if (this.listenerCount('frameDropped') > 0)
      this.#emitSafe('frameDropped', { client: i.info, reason: pushed });
  }

  /** The messages of one detector message for the server link `link` (encoded when its turn comes). */
  #dataMessages(i: Instrument, data: DataToExport, link: LinkSession): Uint8Array[][] | undefined {
    const y = this.serverProfile;
    const t = translateDetectorData(data, this.clientProfile, y, {
      declared: i.declared,
      axesAsMessages: this.#axesAsMessages,
    });
    if (t.lost.length > 0) {
      this.#translation(i, ClientCommand.done, t.lost, { forwarded: t.data !== undefined, toServer: true });
    }
    if (t.data === undefined) return undefined;
    const messages: Uint8Array[][] = [];
    if (isListGeneration(y.generation) && (t.axes.x !== undefined || t.axes.y !== undefined)) {
      const sent = i.sentAxes.get(link) ?? {};
      for (const which of ['x', 'y'] as const) {
        const a = t.axes[which];
        if (a === undefined || sameAxis(a, sent[which])) continue;
        const kept = keepAxis(a.values, a.label, a.units);
        messages.push(this.#axisMessage(which, kept));
        sent[which] = kept;
      }
      i.sentAxes.set(link, sent);
    }
    messages.push([commandBytes(y, ClientCommand.done), ...y.encodeDetectorDataParts(t.data)]);
    this.counters.toServer += messages.length;
    return messages;
  }

  #axisMessage(which: 'x' | 'y', a: AxisMessage): Uint8Array[] {
    const y = this.serverProfile;
    return [
      commandBytes(y, which === 'x' ? ClientCommand.xAxis : ClientCommand.yAxis),
      y.encodeValue(a.values),
      y.encodeString(a.label),
      y.encodeString(a.units),
    ];
  }

  /** x_axis / y_axis from a gen A/B instrument: passed on to A/B servers, attached to the data for C/D. */
  #axis(i: Instrument, which: 'x_axis' | 'y_axis', values: unknown, label: string, units: string): void {
    if (!(values instanceof NdArray)) return;
    const array =
      this.clientProfile.generation === 'A' && this.serverProfile.generation !== 'A'
        ? new NdArray(values.dtype, values.shape, values.data)
        : values;
    const kept = keepAxis(array, label, units);
    const key = which === 'x_axis' ? 'x' : 'y';
    i.declared[key] = kept;
    if (isListGeneration(this.serverProfile.generation)) {
      const link = i.upstream.currentLink;
      if (link !== undefined) {
        const sent = i.sentAxes.get(link) ?? {};
        sent[key] = kept;
        i.sentAxes.set(link, sent);
      }
      this.#toServer(i, this.#axisMessage(key, kept));
    }
  }

  /**
   * move_done / position_is: to the server link that asked (dropped when it is gone), else the current.
   * `timestamp`: the instrument's DataActuator timestamp, carried over (undefined: gen A/B, stamped now).
   */
  #reply(
    i: Instrument,
    kind: 'move_done' | 'position_is',
    position: Position,
    timestamp: number | undefined,
  ): void {
    const asked = (kind === ClientCommand.moveDone ? i.moves : i.queries).shift();
    if (asked !== undefined && !asked.live) {
      this.counters.staleReplies++;
      return;
    }
    const units = position.units ?? i.session.units ?? '';
    // Encoded with the link's own profile, which takes the bytes back once they are written.
    const up = i.upstream;
    this.#sent(up.forwardOne(up.profile.encodeMove(kind, position.value, units, timestamp), asked));
  }

  // --- the server side ----------------------------------------------------------------------------------------

  /** A server command for instrument `i`, read whole on `link`. */
  #command(i: Instrument, message: ServerMessage, link: LinkSession): void {
    const x = this.clientProfile;
    const command = message.command;
    switch (command) {
      case ServerCommand.moveAbs:
      case ServerCommand.moveRel: {
        const move = message as { position: Position; timestamp?: number | undefined };
        const { value, units = '' } = move.position;
        this.#move(i, command, value, units, move.timestamp ?? move.position.data?.timestamp, link);
        return;
      }
      case ServerCommand.moveHome:
        this.#track(i.moves, link);
        this.#toClient(i, [commandBytes(x, command)]);
        return;
      case ServerCommand.getActuatorValue:
      case ServerCommand.checkPosition:
        this.#track(i.queries, link);
        this.#toClient(i, [commandBytes(x, positionQueryOf(x.generation))]);
        return;
      case ServerCommand.stopMotion:
        this.#toClient(i, [commandBytes(x, command)]);
        return;
      case ServerCommand.setInfo: {
        const { path, xml, root } = message as { path: string[]; xml: string; root: string };
        this.#toClient(i, [
          commandBytes(x, command),
          x.encodePath([root, ...path]),
          x.encodeString(x.generation === 'D' ? new TextEncoder().encode(xml) : xml),
        ]);
        return;
      }
      default: {
        const dim = grabDimOf(command);
        if (dim === undefined) return;
        if (dim === 'ND' && x.generation === 'A') {
          const lost = ['Send Data ND (gen A instruments know 0D, 1D and 2D)'];
          this.#translation(i, command, lost, { forwarded: false, toServer: false });
          return;
        }
        this.#toClient(i, [commandBytes(x, command)]);
      }
    }
  }

  /**
   * move_abs / move_rel from `link` for instrument `i`, in the instrument's generation. `timestamp`: the
   * server's DataActuator timestamp, carried over (undefined: gen A/B, stamped now). Called in the
   * upstream socket's read callback when the move arrived whole: no message object, no promise.
   */
  #move(
    i: Instrument,
    command: 'move_abs' | 'move_rel',
    value: number,
    units: string,
    timestamp: number | undefined,
    link: LinkSession,
  ): void {
    const x = this.clientProfile;
    const own = i.session.units ?? '';
    // An instrument whose generation carries no unit takes the value in its own unit: a target in
    // another one cannot be told to it (a move in µm taken as mm is a crash, not a loss).
    if (units !== '' && own !== '' && units !== own && !carriesUnits(x.generation)) {
      const lost = [`a target in ${units} for an instrument in ${own}`];
      this.#translation(i, command, lost, { forwarded: false, toServer: false });
      return;
    }
    this.#track(i.moves, link);
    this.#toClientOne(i, x.encodeMove(command, value, units === '' ? own : units, timestamp));
  }

  #track(fifo: LinkSession[], link: LinkSession): void {
    if (fifo.length >= MAX_TRACKED) fifo.shift();
    fifo.push(link);
  }

  // --- reports ------------------------------------------------------------------------------------------------

  /** Counts a translation loss; reports it (log, event) the first time per instrument, command and loss. */
  #translation(
    i: Instrument,
    command: string,
    lost: string[],
    how: { forwarded: boolean; toServer: boolean; cause?: unknown },
  ): void {
    this.counters.translationErrors++;
    const key = `${command}\u0000${how.forwarded}\u0000${lost.join('\u0000')}`;
    if (i.reported.has(key)) return;
    if (i.reported.size < MAX_REPORTED) i.reported.add(key);
    const [from, to] = how.toServer
      ? [this.clientProfile.generation, this.serverProfile.generation]
      : [this.serverProfile.generation, this.clientProfile.generation];
    const error = new TranslationError(
      { command, from, to, forwarded: how.forwarded, lost },
      how.cause === undefined ? undefined : { cause: how.cause },
    );
    this.#logger.warn('pymodaq bridge: translation', { client: i.info.id, error: error.message });
    this.#emitSafe('translationError', { client: i.info, error });
  }

  #error(i: Instrument | undefined, error: unknown): void {
    this.#logger.warn('pymodaq bridge error', { client: i?.info.id, error });
    if (this.listenerCount('error') > 0) this.#emitSafe('error', { client: i?.info, error });
  }

  #emitSafe<K extends keyof PymodaqBridgeEvents>(event: K, ...payload: PymodaqBridgeEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: PymodaqBridgeEvents[K]) => boolean)(event, ...payload);
    } catch (e) {
      this.#logger.error(`a listener of '${String(event)}' threw`, { error: e });
    }
  }
}
