// TcpBus: Pyrame's cmd_tcp bus as a library (docs/protocols/cmd_tcp.md §2, §4–§9). A registry of links keyed by
// caller-chosen ids; `init` parses and stores (no I/O), `config` resolves and connects, `inval` undoes
// config, `deinit` forgets. Links whose endpoints resolve to the same canonical key share one connection,
// reference-counted (Q4 kept; Q2 and Q3 fixed: the key is computed per link, the last `inval` closes).
// Every I/O call has one deadline (Q5), EOF is an error with the bytes that arrived (Q1), a timed-out read
// consumes nothing (Q10), and `wrnrd*` is one atomic request per link, so concurrent callers each get their
// own reply (docs/protocols/tcpinterface.md G8).

import { EventEmitter } from 'node:events';
import type { LookupFunction } from 'node:net';
import {
  AbortedError,
  ClosedError,
  DEFAULT_MAX_BUFFER,
  EofError,
  LabwireError,
  type Logger,
  latin1,
  type OperationOptions,
  type ReadUntilResult,
  TimeoutError,
  withDeadline,
} from '@labwire/framing';
import { ConnectionError, ConnectionLostError, type LoggerLike, toLogger } from '@labwire/tcp';
import { byteCountArg, type TimeoutArg, timeoutArgMs } from './arguments';
import { decodeBinData, encodeBinData } from './bin-data';
import { parseConfString } from './conf-string';
import { type Eot, parseEotList } from './eot';
import {
  AlreadyConfiguredError,
  BusError,
  IdInUseError,
  InvalidArgumentError,
  LinkEofError,
  LinkIoError,
  LinkTimeoutError,
  NotConfiguredError,
  TimeoutMismatchError,
  UnknownIdError,
  UnknownKindError,
} from './errors';
import { decodeEscapes } from './escapes';
import { classifyExpectPattern } from './expect-window';
import { canonicalLinkId, integerLinkId, type LinkId } from './link-id';
import type {
  Channel,
  DesyncPolicy,
  LinkDefaults,
  LinkKind,
  LinkParams,
  ReplyReader,
  ResolvedEndpoint,
} from './link-kind';
import { tcpKind } from './tcp-kind';
import { textModeString } from './text-mode';

/** Pyrame's module default timeout (`socket.setdefaulttimeout(60)` in cmd_tcp.py). */
export const PYRAME_DEFAULT_TIMEOUT_MS = 60_000;

export interface TcpBusOptions {
  /** The link timeout when a conf_string has none (or `undef`), in ms. Default 60 000, as Pyrame. */
  defaultTimeoutMs?: number;
  /** What `wrnrd*` does with unread input after a timed-out or aborted read, when the conf_string has no `desync`. Default `'drain'`. */
  desync?: DesyncPolicy;
  /** A drain ends after this many ms without input. Default 50. */
  drainQuietMs?: number;
  /** Longest drain before the connection is replaced instead, in ms. Default 1 000. */
  drainTimeoutMs?: number;
  /** Most bytes a read may ask for or look through (read n, read_until, expect). Default 1 MiB. */
  maxBuffer?: number;
  /** Link kinds besides the built-in `tcp`, selected by the conf_string's name. */
  kinds?: readonly LinkKind[];
  /** Resolver for host names at `config` (as `net.connect`'s `lookup`). Default: the system resolver. */
  lookup?: LookupFunction;
  /** Where diagnostics go: `(message, fields)` loggers, or pino/bunyan (detected). Default: nowhere. */
  logger?: LoggerLike;
}

/** Options of every bus call that may wait: a signal, and a deadline in ms that overrides `timeout`. */
export interface BusCallOptions {
  signal?: AbortSignal | undefined;
  /** Deadline of this call in ms; wins over the Pyrame-style `timeout` argument (seconds). */
  timeoutMs?: number | undefined;
}

type LinkState = LinkInfo['state'];

/** A snapshot of one link. */
export interface LinkInfo {
  readonly id: string;
  /** The conf_string's name: the link kind. */
  readonly kind: string;
  /** The conf_string as given to `init`. */
  readonly conf: string;
  readonly state: 'initialised' | 'configuring' | 'configured';
  /** The canonical key (`"<address>,<port>"` for tcp) once configured. */
  readonly canonical: string | undefined;
  /** The link's default deadline per operation, in ms. */
  readonly timeoutMs: number;
  /** Links using this link's connection, itself included (0 when not configured). */
  readonly sharedBy: number;
  /** The connection ended under the link (peer closed, reset); inval and config to reconnect. */
  readonly broken: boolean;
}

class Connection {
  readonly users = new Set<string>();
  /** A plain read timed out or was aborted: unread input may be stale before the next `wrnrd*`. */
  stale = false;
  resync: Promise<void> | undefined;
  broken: Error | undefined;
  /** The EOF's partial bytes were handed to a caller already. */
  partialTaken?: boolean;
  closing = false;
  constructor(
    readonly key: string,
    readonly canonical: string,
    readonly kind: LinkKind,
    readonly channel: Channel,
    readonly timeoutMs: number,
    readonly desync: DesyncPolicy,
  ) {}
}

interface Link {
  readonly id: string;
  readonly kind: LinkKind;
  readonly conf: string;
  readonly params: LinkParams;
  state: LinkState;
  connection: Connection | undefined;
  /** Serialises config/inval/deinit of this link. */
  lifecycle: Promise<unknown>;
  removed: boolean;
}

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: BusCallOptions = Object.freeze({});
const NUL_ONLY: readonly number[] = [0];
/** Entries kept in the eot and escape caches (commands repeat; the caches only spare re-parsing). */
const CACHE_LIMIT = 256;

/** cmd_tcp's message for a failure on a link's connection: `error at <label> link to <peer> <- <reason>`. */
function linkErrorText(link: Link, conn: Connection, reason: string): string {
  return `error at ${link.kind.label} link to ${conn.channel.peer} <- ${reason}`;
}

function untilText(result: ReadUntilResult): string {
  return textModeString(result.data);
}

function untilHex(result: ReadUntilResult): string {
  return encodeBinData(result.data);
}

/** The typed events of a TcpBus (declared on the class). */
type TcpBusEvents = TcpBus extends EventEmitter<infer E> ? E : never;

export class TcpBus
  extends EventEmitter<{
    /** A new connection was opened by `config` (a shared one is opened once). */
    connectionOpened: [
      {
        /** The canonical key, e.g. `127.0.0.1,5025`. */
        canonical: string;
        kind: string;
        peer: string;
      },
    ];
    /** The last user of a connection invalidated it and it was closed. */
    connectionClosed: [
      {
        /** The canonical key, e.g. `127.0.0.1,5025`. */
        canonical: string;
        kind: string;
      },
    ];
    /** A connection ended under its links (peer closed, reset). */
    linkBroken: [
      {
        /** The canonical key, e.g. `127.0.0.1,5025`. */
        canonical: string;
        kind: string;
        linkIds: string[];
        error: Error;
      },
    ];
  }>
  implements AsyncDisposable
{
  readonly #defaults: LinkDefaults;
  readonly #log: Logger;
  readonly #kinds = new Map<string, LinkKind>();
  readonly #links = new Map<string, Link>();
  readonly #connections = new Map<string, Connection>();
  readonly #opening = new Map<string, Promise<Connection>>();
  readonly #eotCache = new Map<string, Uint8Array[]>();
  readonly #escapeCache = new Map<string, Uint8Array>();
  #closing: Promise<void> | undefined;

  constructor(options: TcpBusOptions = {}) {
    super();
    this.#log = toLogger(options.logger);
    this.#defaults = {
      timeoutMs: options.defaultTimeoutMs ?? PYRAME_DEFAULT_TIMEOUT_MS,
      desync: options.desync ?? 'drain',
      drainQuietMs: options.drainQuietMs ?? 50,
      drainTimeoutMs: options.drainTimeoutMs ?? 1_000,
      maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
      logger: this.#log,
      lookup: options.lookup,
    };
    this.registerKind(tcpKind);
    for (const kind of options.kinds ?? []) this.registerKind(kind);
  }

  /** Adds (or replaces) a link kind; conf_strings named `kind.name` then make links of it. */
  registerKind(kind: LinkKind): this {
    this.#kinds.set(kind.name, kind);
    return this;
  }

  /** The names of the registered link kinds. */
  get kinds(): string[] {
    return [...this.#kinds.keys()];
  }

  // --- phases --------------------------------------------------------------------------------------------

  /**
   * Registers a link without any I/O (no socket, no DNS). With one argument the id is chosen as in
   * Pyrame 2.1.3: max(integer ids) + 1, or 0. Returns the id. Throws InvalidConfError (grammar, kind,
   * parameters) or IdInUseError.
   */
  init(conf: string): string;
  init(id: LinkId, conf: string): string;
  init(idOrConf: LinkId, maybeConf?: string): string {
    if (this.#closing !== undefined)
      throw new BusError('Closed', 'the bus is closed', 'bus closed', { op: 'init' });
    const chosen = maybeConf !== undefined;
    const conf = chosen ? maybeConf : String(idOrConf);
    let id: string | undefined;
    let kind: LinkKind;
    let params: LinkParams;
    try {
      id = chosen ? canonicalLinkId(idOrConf) : undefined;
      const parsed = parseConfString(conf);
      const found = this.#kinds.get(parsed.name);
      if (found === undefined) {
        const known = this.kinds;
        throw new UnknownKindError(
          parsed.name,
          known,
          `Invalid module name ${parsed.name} in conf_string. Should be ${known.length === 1 ? known[0] : `one of ${known.join(', ')}`}`,
        );
      }
      kind = found;
      params = kind.parse(parsed, conf, this.#defaults);
    } catch (e) {
      throw this.#withOp(e, 'init');
    }
    const linkId = id ?? this.#nextId();
    if (this.#links.has(linkId)) throw new IdInUseError(linkId, { op: 'init' });
    this.#links.set(linkId, {
      id: linkId,
      kind,
      conf,
      params,
      state: 'initialised',
      connection: undefined,
      lifecycle: Promise.resolve(),
      removed: false,
    });
    this.#log.debug('bus: init', { linkId, conf });
    return linkId;
  }

  /**
   * Resolves the link's endpoint and connects, or joins the connection another configured link already
   * has to the same canonical key. Resolves with the canonical key (`"<address>,<port>"`). Throws
   * UnknownIdError, AlreadyConfiguredError, ResolveError, ConnectError, TimeoutMismatchError.
   */
  config(id: LinkId, options: BusCallOptions = NO_OPTIONS): Promise<string> {
    let link: Link;
    try {
      link = this.#get(id, 'config');
    } catch (e) {
      return Promise.reject(e);
    }
    if (link.state !== 'initialised') {
      return Promise.reject(new AlreadyConfiguredError({ linkId: link.id, op: 'config' }));
    }
    link.state = 'configuring';
    return this.#serial(link, () => this.#configure(link, options));
  }

  /**
   * Undoes `config`: the link leaves its connection, which closes when no other link uses it. Resolves
   * true, or false when the link was not configured (a success in Pyrame: `not configured`). Throws
   * UnknownIdError.
   */
  inval(id: LinkId, options: BusCallOptions = NO_OPTIONS): Promise<boolean> {
    let link: Link;
    try {
      link = this.#get(id, 'inval');
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#serial(
      link,
      async () => {
        if (link.removed) throw new UnknownIdError(link.id, { op: 'inval' });
        if (link.state !== 'configured') return false;
        await this.#release(link);
        return true;
      },
      options.signal,
      'inval',
    );
  }

  /** Runs `inval` when configured, then forgets the link. Resolves false for an unknown id (idempotent). */
  deinit(id: LinkId, options: BusCallOptions = NO_OPTIONS): Promise<boolean> {
    let link: Link | undefined;
    try {
      link = this.#links.get(canonicalLinkId(id));
    } catch (e) {
      return Promise.reject(e);
    }
    if (link === undefined) return Promise.resolve(false);
    const target = link;
    return this.#serial(
      target,
      async () => {
        if (target.removed) return false;
        if (target.state === 'configured') await this.#release(target);
        target.removed = true;
        if (this.#links.get(target.id) === target) this.#links.delete(target.id);
        this.#log.debug('bus: deinit', { linkId: target.id });
        return true;
      },
      options.signal,
      'deinit',
    );
  }

  // --- writes --------------------------------------------------------------------------------------------

  /** Sends `data`: a string has its backslash escapes decoded (§7.1, `\e` included); bytes go as they are. */
  async write(id: LinkId, data: string | Uint8Array, options: BusCallOptions = NO_OPTIONS): Promise<void> {
    const link = this.#get(id, 'write');
    const bytes = this.#payload(link, 'write', data, false);
    await this.#send(link, 'write', bytes, options);
  }

  /** Sends the bytes of strict hex `hex` (§7.3, Q13). */
  async writeBin(id: LinkId, hex: string, options: BusCallOptions = NO_OPTIONS): Promise<void> {
    const link = this.#get(id, 'writeBin');
    const bytes = this.#payload(link, 'writeBin', hex, true);
    await this.#send(link, 'writeBin', bytes, options);
  }

  // --- reads ---------------------------------------------------------------------------------------------

  /** Reads exactly `n` bytes (Q9) and returns them in text mode: NUL, CR and LF removed (§7.2). */
  async read(
    id: LinkId,
    n: number | string,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return textModeString(await this.#readExactly('read', id, n, timeout, options));
  }

  /** Reads exactly `n` bytes and returns them as lowercase hex. */
  async readBin(
    id: LinkId,
    n: number | string,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return encodeBinData(await this.#readExactly('readBin', id, n, timeout, options));
  }

  /** Reads up to the first eot pattern (§8), removes it, and returns the rest in text mode. */
  async readUntil(
    id: LinkId,
    eot: Eot,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return textModeString(await this.#readUntil('readUntil', id, eot, timeout, options));
  }

  /** Reads up to the first eot pattern, removes it, and returns the rest as lowercase hex. */
  async readBinUntil(
    id: LinkId,
    eot: Eot,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return encodeBinData(await this.#readUntil('readBinUntil', id, eot, timeout, options));
  }

  /**
   * Waits for `pattern` (escapes decoded) in the input, skipping NUL bytes (§9), and resolves with every
   * byte consumed, the pattern included (Pyrame returns only `Pattern found`, Q15). An empty or all-NUL
   * pattern matches at once without reading. A pattern that mixes NUL and other bytes is refused: NULs in
   * the input are skipped, so it could never match (Pyrame waits for the timeout).
   */
  async expect(
    id: LinkId,
    pattern: string | Uint8Array,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<Uint8Array> {
    const op = 'expect';
    const link = this.#get(id, op);
    const bytes = typeof pattern === 'string' ? this.#arg(link, op, () => decodeEscapes(pattern)) : pattern;
    const timeoutMs = this.#timeoutMs(link, op, timeout, options);
    const conn = this.#connection(link, op);
    const shape = classifyExpectPattern(bytes);
    if (shape === 'immediate') return EMPTY;
    if (shape === 'mixed') {
      throw new InvalidArgumentError(
        'an expect pattern may be all NUL bytes or have none: NUL bytes in the input are skipped',
        'Pattern not found',
        { linkId: link.id, op },
      );
    }
    try {
      return await conn.channel.expect(bytes, {
        ignore: NUL_ONLY,
        maxBytes: this.#defaults.maxBuffer,
        timeoutMs,
        signal: options.signal,
      });
    } catch (e) {
      throw this.#readFailure(e, link, conn, op, 'expect');
    }
  }

  // --- write and read, atomically ------------------------------------------------------------------------
  // These four are the hot path (instrument queries): no async layers of their own, one promise hop on top
  // of the channel's request.

  /** Writes `data` (escapes decoded) and reads exactly `n` bytes of reply, text mode, as one unit. */
  wrnrd(
    id: LinkId,
    data: string | Uint8Array,
    n: number | string,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return this.#exchangeExactly('wrnrd', id, data, false, n, timeout, options, textModeString);
  }

  /** Writes strict hex `hex` and reads exactly `n` bytes of reply, as hex, as one unit. */
  wrnrdBin(
    id: LinkId,
    hex: string,
    n: number | string,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return this.#exchangeExactly('wrnrdBin', id, hex, true, n, timeout, options, encodeBinData);
  }

  /** Writes `data` (escapes decoded) and reads up to an eot pattern, text mode, as one unit. */
  wrnrdUntil(
    id: LinkId,
    data: string | Uint8Array,
    eot: Eot,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return this.#exchangeUntil('wrnrdUntil', id, data, false, eot, timeout, options, untilText);
  }

  /** Writes strict hex `hex` and reads up to an eot pattern, as hex, as one unit. */
  wrnrdBinUntil(
    id: LinkId,
    hex: string,
    eot: Eot,
    timeout?: TimeoutArg,
    options: BusCallOptions = NO_OPTIONS,
  ): Promise<string> {
    return this.#exchangeUntil('wrnrdBinUntil', id, hex, true, eot, timeout, options, untilHex);
  }

  // --- introspection and close ---------------------------------------------------------------------------

  /** A snapshot of one link. Throws UnknownIdError. */
  link(id: LinkId): LinkInfo {
    return this.#info(this.#get(id, 'link'));
  }

  /** Snapshots of every link, in init order. */
  links(): LinkInfo[] {
    return [...this.#links.values()].map((l) => this.#info(l));
  }

  /** Deinits every link (closing every connection) and refuses new links. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#links.keys()].map((id) => this.deinit(id)));
      await Promise.allSettled([...this.#opening.values()]);
      const left = [...this.#connections.values()];
      this.#connections.clear();
      await Promise.allSettled(left.map((c) => c.channel.close()));
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- internals: phases ---------------------------------------------------------------------------------

  #nextId(): string {
    let max: number | undefined;
    for (const id of this.#links.keys()) {
      const n = integerLinkId(id);
      if (n !== undefined && (max === undefined || n > max)) max = n;
    }
    return String(max === undefined ? 0 : max + 1);
  }

  /**
   * Runs `run` after the link's earlier config/inval/deinit. A signal may cancel the wait (then `run` never
   * runs); the next call still waits for the earlier ones.
   */
  #serial<T>(link: Link, run: () => Promise<T>, signal?: AbortSignal, op = 'lifecycle'): Promise<T> {
    const before = link.lifecycle;
    const waited =
      signal === undefined
        ? before
        : within(before, Number.POSITIVE_INFINITY, signal, op).catch((e: unknown) => {
            throw new BusError(
              'Aborted',
              `${op} aborted while waiting for an earlier config, inval or deinit`,
              'aborted',
              {
                linkId: link.id,
                op,
                cause: e,
              },
            );
          });
    const result = waited.then(run);
    link.lifecycle = Promise.allSettled([before, result]);
    return result;
  }

  async #configure(link: Link, options: BusCallOptions): Promise<string> {
    const op = 'config';
    try {
      if (link.removed) throw new UnknownIdError(link.id, { op });
      const deadline = { signal: options.signal, timeoutMs: options.timeoutMs };
      const endpoint = await link.kind.resolve(link.params, deadline, this.#defaults);
      const key = `${link.kind.name}:${endpoint.canonical}`;
      let conn: Connection | undefined;
      for (let attempt = 0; attempt < 3 && conn === undefined; attempt++) {
        const existing = this.#connections.get(key);
        if (existing !== undefined && existing.broken === undefined && !existing.closing) {
          conn = existing;
          break;
        }
        let opening = this.#opening.get(key);
        if (opening === undefined) {
          opening = this.#open(link, endpoint, key, deadline);
          this.#opening.set(key, opening);
          const forget = () => {
            if (this.#opening.get(key) === opening) this.#opening.delete(key);
          };
          opening.then(forget, forget);
        }
        const opened = await opening;
        if (!opened.closing) conn = opened;
      }
      if (conn === undefined)
        throw new BusError('Closed', 'the connection closed while configuring', 'closed', { op });
      if (conn.timeoutMs !== link.params.timeoutMs) {
        throw new TimeoutMismatchError(endpoint.canonical, conn.timeoutMs, link.params.timeoutMs, { op });
      }
      conn.users.add(link.id);
      link.connection = conn;
      link.state = 'configured';
      this.#log.debug('bus: configured', {
        linkId: link.id,
        canonical: endpoint.canonical,
        users: conn.users.size,
      });
      return endpoint.canonical;
    } catch (e) {
      if (link.state === 'configuring') link.state = 'initialised';
      throw this.#withLink(e, link, op);
    }
  }

  async #open(
    link: Link,
    endpoint: ResolvedEndpoint,
    key: string,
    options: OperationOptions,
  ): Promise<Connection> {
    const channel = await link.kind.open(link.params, endpoint, options, this.#defaults);
    const conn = new Connection(
      key,
      endpoint.canonical,
      link.kind,
      channel,
      link.params.timeoutMs,
      link.params.desync,
    );
    channel.onBroken((error) => {
      conn.broken = error;
      const linkIds = [...conn.users];
      this.#log.warn('bus: connection lost', { canonical: conn.canonical, linkIds, error: error.message });
      this.#emitSafe('linkBroken', { canonical: conn.canonical, kind: conn.kind.name, linkIds, error });
    });
    if (this.#closing !== undefined) {
      conn.closing = true;
      await channel.close();
      return conn;
    }
    this.#connections.set(key, conn);
    this.#emitSafe('connectionOpened', {
      canonical: conn.canonical,
      kind: conn.kind.name,
      peer: channel.peer,
    });
    return conn;
  }

  async #release(link: Link): Promise<void> {
    const conn = link.connection;
    link.connection = undefined;
    link.state = 'initialised';
    if (conn === undefined) return;
    conn.users.delete(link.id);
    if (conn.users.size > 0) return;
    conn.closing = true;
    if (this.#connections.get(conn.key) === conn) this.#connections.delete(conn.key);
    await conn.channel.close();
    this.#log.debug('bus: connection closed', { canonical: conn.canonical });
    this.#emitSafe('connectionClosed', { canonical: conn.canonical, kind: conn.kind.name });
  }

  // --- internals: I/O ------------------------------------------------------------------------------------

  #get(id: LinkId, op: string): Link {
    // Map keys are canonical ids, so a hit on the id as given is the link (the common case).
    const direct = this.#links.get(typeof id === 'string' ? id : String(id));
    if (direct !== undefined) return direct;
    let key: string;
    try {
      key = canonicalLinkId(id);
    } catch (e) {
      throw this.#withOp(e, op);
    }
    const link = this.#links.get(key);
    if (link === undefined) throw new UnknownIdError(key, { op });
    return link;
  }

  /** The link's connection, or NotConfiguredError; a broken connection fails with what broke it. */
  #connection(link: Link, op: string): Connection {
    const conn = link.connection;
    if (link.state !== 'configured' || conn === undefined)
      throw new NotConfiguredError({ linkId: link.id, op });
    if (conn.broken !== undefined) throw this.#brokenError(conn, link, op);
    return conn;
  }

  #brokenError(conn: Connection, link: Link, op: string): BusError {
    const cause = conn.broken;
    const peer = conn.channel.peer;
    const ctx = { linkId: link.id, op, cause };
    const what = `${op} on ${peer}: the connection was lost earlier`;
    if (EofError.isInstance(cause)) {
      // The bytes the peer sent before closing go to the first call that finds the link broken, once.
      const partial = conn.partialTaken ? EMPTY : cause.partial;
      conn.partialTaken = true;
      return new LinkEofError(partial, linkErrorText(link, conn, 'connection closed by the peer'), what, ctx);
    }
    const code = LabwireError.isInstance(cause) ? cause.code : 'Broken';
    const reason = (cause as Error | undefined)?.message ?? 'connection lost';
    return new LinkIoError(
      code,
      `${what} (${reason}); inval and config the link to reconnect`,
      linkErrorText(link, conn, reason),
      ctx,
    );
  }

  #timeoutMs(link: Link, op: string, timeout: TimeoutArg, options: BusCallOptions): number {
    if (options.timeoutMs !== undefined) return options.timeoutMs;
    if (timeout === undefined) return link.params.timeoutMs;
    return this.#arg(link, op, () => timeoutArgMs(timeout, link.params.timeoutMs));
  }

  /** Runs an argument parser; its error gets the link and operation. */
  #arg<T>(link: Link, op: string, parse: () => T): T {
    try {
      return parse();
    } catch (e) {
      throw this.#withLink(e, link, op);
    }
  }

  #eot(link: Link, op: string, eot: Eot): Uint8Array[] {
    if (typeof eot !== 'string') return this.#arg(link, op, () => parseEotList(eot));
    let patterns = this.#eotCache.get(eot);
    if (patterns === undefined) {
      patterns = this.#arg(link, op, () => parseEotList(eot));
      if (this.#eotCache.size >= CACHE_LIMIT) this.#eotCache.clear();
      this.#eotCache.set(eot, patterns);
    }
    return patterns;
  }

  #byteCount(link: Link, conn: Connection, op: string, n: number | string): number {
    let count: number;
    try {
      count = byteCountArg(n);
    } catch (e) {
      const err = e as InvalidArgumentError;
      throw new InvalidArgumentError(err.message, linkErrorText(link, conn, err.pyrameMessage), {
        linkId: link.id,
        op,
      });
    }
    if (count > this.#defaults.maxBuffer) {
      throw new LinkIoError(
        'LimitExceeded',
        `${op} of ${count} bytes exceeds the read limit of ${this.#defaults.maxBuffer} bytes (maxBuffer)`,
        linkErrorText(link, conn, `read of ${count} bytes exceeds the limit`),
        { linkId: link.id, op },
      );
    }
    return count;
  }

  async #send(link: Link, op: string, bytes: Uint8Array, options: BusCallOptions): Promise<void> {
    const conn = this.#connection(link, op);
    const timeoutMs = options.timeoutMs ?? link.params.timeoutMs;
    try {
      await conn.channel.send(bytes, { timeoutMs, signal: options.signal });
    } catch (e) {
      throw this.#failure(e, link, conn, op, 'send', bytes);
    }
  }

  async #readExactly(
    op: string,
    id: LinkId,
    n: number | string,
    timeout: TimeoutArg,
    options: BusCallOptions,
  ): Promise<Uint8Array> {
    const link = this.#get(id, op);
    const conn = this.#connection(link, op);
    const timeoutMs = this.#timeoutMs(link, op, timeout, options);
    const count = this.#byteCount(link, conn, op, n);
    if (count === 0) return EMPTY;
    try {
      return await conn.channel.readExactly(count, { timeoutMs, signal: options.signal });
    } catch (e) {
      throw this.#readFailure(e, link, conn, op, 'read');
    }
  }

  async #readUntil(
    op: string,
    id: LinkId,
    eot: Eot,
    timeout: TimeoutArg,
    options: BusCallOptions,
  ): Promise<Uint8Array> {
    const link = this.#get(id, op);
    // Pyrame checks the eot before anything else (buses.py read_until).
    const patterns = this.#eot(link, op, eot);
    const timeoutMs = this.#timeoutMs(link, op, timeout, options);
    const conn = this.#connection(link, op);
    try {
      const result = await conn.channel.readUntil(patterns, {
        timeoutMs,
        signal: options.signal,
        maxBytes: this.#defaults.maxBuffer,
      });
      return result.data;
    } catch (e) {
      throw this.#readFailure(e, link, conn, op, 'until');
    }
  }

  // Closures here are passed inline (never bound to a name) and there is no promise hop beyond the request's
  // own: this is the path every instrument query takes.
  #exchangeExactly(
    op: string,
    id: LinkId,
    data: string | Uint8Array,
    bin: boolean,
    n: number | string,
    timeout: TimeoutArg,
    options: BusCallOptions,
    render: (bytes: Uint8Array) => string,
  ): Promise<string> {
    let link: Link;
    let bytes: Uint8Array;
    let conn: Connection;
    let timeoutMs: number;
    let count: number;
    try {
      link = this.#get(id, op);
      bytes = this.#payload(link, op, data, bin);
      conn = this.#connection(link, op);
      timeoutMs = this.#timeoutMs(link, op, timeout, options);
      count = this.#byteCount(link, conn, op, n);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#exchange<Uint8Array>(
      op,
      'read',
      link,
      conn,
      bytes,
      count === 0 ? () => Promise.resolve(EMPTY) : (reader, o) => reader.readExactly(count, o),
      render,
      timeoutMs,
      options.signal,
    );
  }

  #exchangeUntil(
    op: string,
    id: LinkId,
    data: string | Uint8Array,
    bin: boolean,
    eot: Eot,
    timeout: TimeoutArg,
    options: BusCallOptions,
    render: (result: ReadUntilResult) => string,
  ): Promise<string> {
    let link: Link;
    let bytes: Uint8Array;
    let conn: Connection;
    let patterns: Uint8Array[];
    let timeoutMs: number;
    try {
      link = this.#get(id, op);
      bytes = this.#payload(link, op, data, bin);
      conn = this.#connection(link, op);
      patterns = this.#eot(link, op, eot);
      timeoutMs = this.#timeoutMs(link, op, timeout, options);
    } catch (e) {
      return Promise.reject(e);
    }
    // The channel's reader is made with maxBuffer as its limit, so `o` is passed on as it is.
    return this.#exchange<ReadUntilResult>(
      op,
      'until',
      link,
      conn,
      bytes,
      (reader, o) => reader.readUntil(patterns, o),
      render,
      timeoutMs,
      options.signal,
    );
  }

  /** The write and its reply as one request on the link's channel, after a resync when one is due. */
  #exchange<T>(
    op: string,
    what: 'read' | 'until',
    link: Link,
    conn: Connection,
    bytes: Uint8Array,
    read: ReplyReader<T>,
    render: (value: T) => string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    if (!conn.stale) {
      return conn.channel.request(bytes, read, { timeoutMs, signal }).then(render, (e: unknown) => {
        throw this.#failure(e, link, conn, op, what, bytes);
      });
    }
    const deadlineAt = performance.now() + timeoutMs;
    return this.#resync(conn, link, op, deadlineAt, signal).then(() =>
      conn.channel
        .request(bytes, read, { timeoutMs: remaining(deadlineAt), signal })
        .then(render, (e: unknown) => {
          throw this.#failure(e, link, conn, op, what, bytes);
        }),
    );
  }

  /** Write data: a string has its escapes decoded (cached), bin data is strict hex, bytes go as they are. */
  #payload(link: Link, op: string, data: string | Uint8Array, bin: boolean): Uint8Array {
    if (typeof data !== 'string') return data;
    if (bin) return this.#arg(link, op, () => decodeBinData(data));
    let bytes = this.#escapeCache.get(data);
    if (bytes === undefined) {
      bytes = this.#arg(link, op, () => decodeEscapes(data));
      if (this.#escapeCache.size >= CACHE_LIMIT) this.#escapeCache.clear();
      this.#escapeCache.set(data, bytes);
    }
    return bytes;
  }

  /**
   * Q10: after a plain read timed out or was aborted, unread input may be the tail of an old reply. Before
   * the next `wrnrd*` writes, the connection's desync policy runs once: drain until quiet (falling back to
   * a new connection when the line never goes quiet), or a new connection.
   */
  async #resync(
    conn: Connection,
    link: Link,
    op: string,
    deadlineAt: number,
    signal?: AbortSignal,
  ): Promise<void> {
    conn.resync ??= (async () => {
      try {
        if (conn.desync === 'drain') {
          try {
            const discarded = await conn.channel.drain({
              quietMs: this.#defaults.drainQuietMs,
              timeoutMs: this.#defaults.drainTimeoutMs,
            });
            this.#log.debug('bus: drained stale input', { canonical: conn.canonical, discarded });
          } catch (e) {
            if (!TimeoutError.isInstance(e)) throw e;
            await conn.channel.reconnect({ timeoutMs: conn.timeoutMs });
          }
        } else {
          await conn.channel.reconnect({ timeoutMs: conn.timeoutMs });
        }
        conn.stale = false;
      } finally {
        conn.resync = undefined;
      }
    })();
    try {
      await within(conn.resync, deadlineAt, signal, op);
    } catch (e) {
      throw this.#failure(e, link, conn, op, 'read');
    }
  }

  #readFailure(
    error: unknown,
    link: Link,
    conn: Connection,
    op: string,
    what: 'read' | 'until' | 'expect',
  ): BusError {
    const mapped = this.#failure(error, link, conn, op, what);
    if (mapped.code === 'Timeout' || mapped.code === 'Aborted') conn.stale = true;
    return mapped;
  }

  /** A transport error as a bus error with Pyrame's message (docs/protocols/cmd_tcp.md §5). */
  #failure(
    error: unknown,
    link: Link,
    conn: Connection,
    op: string,
    what: 'read' | 'until' | 'expect' | 'send',
    sent?: Uint8Array,
  ): BusError {
    if (BusError.isInstance(error)) return error;
    const peer = conn.channel.peer;
    const label = link.kind.label;
    const ctx = { linkId: link.id, op, cause: error };
    const subject = `${op} on ${peer}`;
    if (TimeoutError.isInstance(error)) {
      const received = error.received;
      let pyrame = `${label} link at ${peer} is not responding <- timed out`;
      if (received.length > 0 && what === 'until') pyrame = 'Timeout waiting for EOT character';
      if (received.length > 0 && what === 'expect') pyrame = 'Pattern not found';
      return new LinkTimeoutError(error.timeoutMs, received, pyrame, subject, ctx);
    }
    const eof = EofError.isInstance(error)
      ? error
      : ConnectionLostError.isInstance(error) && EofError.isInstance(error.cause)
        ? error.cause
        : undefined;
    if (eof !== undefined) {
      return new LinkEofError(
        eof.partial,
        linkErrorText(link, conn, `connection closed by the peer after ${eof.partial.length} byte(s)`),
        subject,
        ctx,
      );
    }
    if (
      conn.broken !== undefined &&
      (ClosedError.isInstance(error) || (ConnectionError.isInstance(error) && error.code === 'NotConnected'))
    ) {
      return this.#brokenError(conn, link, op);
    }
    const code = AbortedError.isInstance(error)
      ? 'Aborted'
      : ClosedError.isInstance(error)
        ? 'Closed'
        : LabwireError.isInstance(error)
          ? error.code
          : 'Io';
    const reason = (error as Error)?.message ?? String(error);
    const pyrame =
      what === 'send' && sent !== undefined
        ? `Error sending data ${latin1(sent)} to ${peer} <- ${reason}`
        : linkErrorText(link, conn, reason);
    return new LinkIoError(code, `${subject} failed: ${reason}`, pyrame, ctx);
  }

  /** Gives an argument or conf error the link and operation it belongs to. */
  #withLink(error: unknown, link: Link, op: string): unknown {
    if (!BusError.isInstance(error)) return error;
    const e = error as { linkId: string | undefined; op: string | undefined };
    if (e.linkId === undefined) Object.defineProperty(error, 'linkId', { value: link.id });
    if (e.op === undefined) Object.defineProperty(error, 'op', { value: op });
    return error;
  }

  #withOp(error: unknown, op: string): unknown {
    if (BusError.isInstance(error) && error.op === undefined)
      Object.defineProperty(error, 'op', { value: op });
    return error;
  }

  #info(link: Link): LinkInfo {
    const conn = link.connection;
    return {
      id: link.id,
      kind: link.kind.name,
      conf: link.conf,
      state: link.state,
      canonical: conn?.canonical,
      timeoutMs: link.params.timeoutMs,
      sharedBy: conn?.users.size ?? 0,
      broken: conn?.broken !== undefined,
    };
  }

  #emitSafe<K extends keyof TcpBusEvents>(event: K, payload: TcpBusEvents[K][0]): void {
    try {
      (this.emit as (event: string, payload: unknown) => boolean)(event, payload);
    } catch (error) {
      this.#log.error('bus: event listener threw', { event, error });
    }
  }
}

function remaining(deadlineAt: number): number {
  return Math.max(0, deadlineAt - performance.now());
}

/** Waits for `promise` until `deadlineAt` (performance.now() time) or the signal; the promise runs on. */
function within(
  promise: Promise<unknown>,
  deadlineAt: number,
  signal: AbortSignal | undefined,
  op: string,
): Promise<unknown> {
  return withDeadline(promise, op, remaining(deadlineAt), signal);
}
