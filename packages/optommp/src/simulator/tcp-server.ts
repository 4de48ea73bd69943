// The simulator's TCP server: OptoMMP packets back to back on each connection, answered as the chosen
// behaviour says (in order by default), after an optional latency. No client can starve another: a
// connection whose answers are not drained stops being read until they are, each turn of the event loop
// answers a bounded number of requests, idle connections are closed, and at capacity a newcomer takes the
// slot of the connection that has been idle the longest.

import net from 'node:net';
import { type Logger, silentLogger } from '@labwire/framing';
import type { DecodedPacket } from '../codec/decode';
import { PacketDecoder } from '../codec/packet-decoder';
import type { EpicDevice } from './device';
import type { FaultHook } from './faults';

/** Per-connection response buffer: a whole module (4 KiB) and its header fit. */
const SCRATCH_BYTES = 8192;
/** The most the response buffer grows to, for requests answered together (16 module reads and more). */
const COALESCE_BYTES = 128 * 1024;
/** Answers sent per connection in one turn of the event loop before the others get theirs. */
const ANSWERS_PER_TURN = 256;

/**
 * How a device treats requests sent before the previous one was answered (pipelined requests):
 * - `in-order`: answers every request, in the order they came (what a TCP peer should do);
 * - `serial`: handles one request at a time, so each answer waits for the one before it plus the latency;
 * - `first-only`: drops every request that arrives while another is outstanding (never answers it);
 * - `out-of-order`: answers the requests that are due together newest first.
 */
export type PipeliningBehaviour = 'in-order' | 'serial' | 'first-only' | 'out-of-order';

/** How a simulated device answers: its pipelining behaviour and its timing. */
export interface AnswerBehaviour {
  /** Default `'in-order'`. */
  pipelining?: PipeliningBehaviour;
  /** Time from a request to its answer, ms. Default 0 (answered at once). */
  latencyMs?: number;
  /** A random extra delay of 0…jitterMs per answer (order is kept except in `out-of-order`). Default 0. */
  jitterMs?: number;
  /** Source of the jitter, numbers in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface SimulatorServerOptions extends AnswerBehaviour {
  /** Interface to bind. Default 127.0.0.1 (loopback only unless told otherwise). */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /**
   * Connections served at once. At capacity a newcomer takes the slot of the connection idle the longest
   * (one with no request waiting for its answer); only when every connection is busy is it refused.
   * Default 64.
   */
  maxConnections?: number;
  /** A connection that completes no request for this long is closed, ms. 0 never closes. Default 60 000. */
  idleTimeoutMs?: number;
  /** Requests waiting for their answers on one connection before it stops being read. Default 1 024. */
  maxQueuedRequests?: number;
  /** Test hook that can replace, drop or cut replies. */
  faults?: FaultHook;
  logger?: Logger;
}

export interface BoundAddress {
  host: string;
  port: number;
}

/** Running totals of a server. */
export interface SimulatorServerStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections refused because every slot was busy. */
  refused: number;
  /** Idle connections closed to make room for a newcomer. */
  evicted: number;
  /** Connections closed after `idleTimeoutMs` without a complete request. */
  idleClosed: number;
  /** Requests answered. */
  answered: number;
  /** Requests dropped by the `first-only` behaviour. */
  dropped: number;
  /** Times a connection stopped being read because its answers were not drained. */
  backpressured: number;
}

interface Pending {
  request: DecodedPacket;
  /** performance.now() at which the answer is due. */
  dueAt: number;
}

/** One client connection: its decoder, its queue of requests waiting for their answers, its buffer. */
class Connection {
  readonly decoder = new PacketDecoder({ undefinedTcodes: 'header' });
  readonly queue: Pending[] = [];
  queueHead = 0;
  /** Answer time of the last request queued (answers leave in order). */
  lastDueAt = 0;
  /** When the last complete request arrived (or the connection was accepted). */
  lastRequestAt: number;
  /** The socket took more than it could send at once: wait for 'drain' before answering again. */
  blocked = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  timerAt = Number.POSITIVE_INFINITY;
  turn: ReturnType<typeof setImmediate> | undefined;
  /** The connection's response buffer, and whether the socket may still hold a response built in it. */
  own = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  scratch: Buffer | undefined = this.own;
  closed = false;
  /** Reading stopped (answers not drained, or too many requests waiting). */
  paused = false;

  constructor(
    readonly socket: net.Socket,
    readonly peer: string,
    now: number,
  ) {
    this.lastRequestAt = now;
  }

  get waiting(): number {
    return this.queue.length - this.queueHead;
  }
}

export class OptoMmpTcpServer implements AsyncDisposable {
  readonly device: EpicDevice;
  readonly #options: SimulatorServerOptions;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  readonly #log: Logger;
  readonly #maxConnections: number;
  readonly #idleTimeoutMs: number;
  readonly #maxQueued: number;
  readonly #mode: PipeliningBehaviour;
  readonly #latencyMs: number;
  readonly #jitterMs: number;
  readonly #random: () => number;
  /** In order with no latency: requests are answered as they are read. */
  readonly #immediate: boolean;
  readonly #stats: SimulatorServerStats = {
    accepted: 0,
    refused: 0,
    evicted: 0,
    idleClosed: 0,
    answered: 0,
    dropped: 0,
    backpressured: 0,
  };
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #address: BoundAddress | undefined;
  #closing: Promise<void> | undefined;

  constructor(device: EpicDevice, options: SimulatorServerOptions = {}) {
    this.device = device;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#maxConnections = Math.max(1, options.maxConnections ?? 64);
    this.#idleTimeoutMs = Math.max(0, options.idleTimeoutMs ?? 60_000);
    this.#maxQueued = Math.max(1, options.maxQueuedRequests ?? 1024);
    this.#mode = options.pipelining ?? 'in-order';
    this.#latencyMs = Math.max(0, options.latencyMs ?? 0);
    this.#jitterMs = Math.max(0, options.jitterMs ?? 0);
    this.#random = options.random ?? Math.random;
    this.#immediate = this.#mode === 'in-order' && this.#latencyMs === 0 && this.#jitterMs === 0;
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  /** The bound address once `listen()` resolved. */
  get address(): BoundAddress {
    if (this.#address === undefined) throw new Error('OptoMmpTcpServer: not listening');
    return this.#address;
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Requests received and not answered yet (waiting for their time, or for the client to read). */
  get pendingRequests(): number {
    let n = 0;
    for (const c of this.#connections) n += c.waiting;
    return n;
  }

  /** A snapshot of the running totals. */
  get stats(): SimulatorServerStats {
    return { ...this.#stats };
  }

  listen(): Promise<BoundAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        this.#server.off('error', onError);
        this.#server.on('error', (error) =>
          this.#log.error('epic-sim: server error', { error: error.message }),
        );
        const a = this.#server.address() as net.AddressInfo;
        this.#address = { host: a.address, port: a.port };
        if (this.#idleTimeoutMs > 0) {
          // One timer for every connection's idle deadline, checked a few times per timeout.
          const every = Math.max(10, Math.min(1000, Math.floor(this.#idleTimeoutMs / 4)));
          this.#sweeper = setInterval(() => this.#closeIdle(), every);
          this.#sweeper.unref();
        }
        resolve(this.#address);
      });
    });
  }

  // --- connections ---------------------------------------------------------------------------------------

  #accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.#connections.size >= this.#maxConnections && !this.#evictIdlest()) {
      this.#stats.refused++;
      this.#log.warn('epic-sim: every connection is busy, newcomer refused', { peer });
      socket.destroy();
      return;
    }
    const c = new Connection(socket, peer, performance.now());
    this.#connections.add(c);
    this.#stats.accepted++;
    this.#log.debug('epic-sim: connection', { peer });
    socket.on('close', () => this.#drop(c));
    socket.on('error', (error) => this.#log.debug('epic-sim: socket error', { peer, error: error.message }));
    socket.on('drain', () => {
      // Everything queued on the socket has left, the responses built in the buffer included.
      c.blocked = false;
      c.scratch = c.own;
      this.#answer(c);
      this.#updateReading(c);
    });
    socket.on('data', (chunk: Buffer) => this.#onData(c, chunk));
  }

  /** Closes the connection idle the longest to make room; false when every connection is busy. */
  #evictIdlest(): boolean {
    let idlest: Connection | undefined;
    for (const c of this.#connections) {
      if (c.waiting > 0 || c.blocked) continue;
      if (idlest === undefined || c.lastRequestAt < idlest.lastRequestAt) idlest = c;
    }
    if (idlest === undefined) return false;
    this.#stats.evicted++;
    this.#log.info('epic-sim: at capacity, closing the connection idle the longest', {
      peer: idlest.peer,
      idleMs: Math.round(performance.now() - idlest.lastRequestAt),
    });
    this.#close(idlest);
    return true;
  }

  #closeIdle(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.waiting === 0 && now - c.lastRequestAt >= this.#idleTimeoutMs) {
        this.#stats.idleClosed++;
        this.#log.info('epic-sim: idle connection closed', {
          peer: c.peer,
          idleTimeoutMs: this.#idleTimeoutMs,
        });
        this.#close(c);
      }
    }
  }

  #close(c: Connection): void {
    this.#drop(c);
    c.socket.destroy();
  }

  #drop(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    this.#connections.delete(c);
    if (c.timer !== undefined) clearTimeout(c.timer);
    if (c.turn !== undefined) clearImmediate(c.turn);
    c.timer = c.turn = undefined;
    c.queue.length = 0;
    c.queueHead = 0;
  }

  // --- requests ------------------------------------------------------------------------------------------

  #onData(c: Connection, chunk: Buffer): void {
    let packets: DecodedPacket[];
    try {
      packets = c.decoder.push(chunk);
    } catch (error) {
      // Cannot happen with undefined tcodes read as headers and the u16 limit; drop the peer if it does.
      this.#log.warn('epic-sim: undecodable input, closing', {
        peer: c.peer,
        error: (error as Error).message,
      });
      this.#close(c);
      return;
    }
    if (packets.length === 0) return;
    const now = performance.now();
    c.lastRequestAt = now;
    if (this.#immediate && c.waiting === 0 && !c.blocked && packets.length <= ANSWERS_PER_TURN) {
      // Answered at once and in order (no latency, nothing queued): straight through, no queue.
      const faults = this.#options.faults;
      if (c.scratch === undefined && c.socket.writableLength === 0) c.scratch = c.own;
      if (packets.length > 1 && faults === undefined) {
        this.#answerTogether(c, packets, now);
        this.#updateReading(c);
        return;
      }
      for (let i = 0; i < packets.length; i++) {
        this.#stats.answered++;
        if (!this.#send(c, packets[i]!, faults)) return;
        if (c.blocked) {
          for (let j = i + 1; j < packets.length; j++) c.queue.push({ request: packets[j]!, dueAt: now });
          break;
        }
      }
      this.#updateReading(c);
      return;
    }
    const outstanding = c.waiting > 0;
    const firstOfBatch = c.queue.length;
    for (let i = 0; i < packets.length; i++) {
      const request = packets[i]!;
      if (this.#mode === 'first-only' && (outstanding || i > 0)) {
        // Sent before the previous request was answered: this device never sees it.
        this.#stats.dropped++;
        continue;
      }
      c.queue.push({ request, dueAt: this.#dueAt(c, now) });
    }
    if (this.#mode === 'out-of-order' && c.queue.length - firstOfBatch > 1) {
      // Requests that came together are answered newest first (same answer times, reversed).
      const batch = c.queue.splice(firstOfBatch).reverse();
      for (const p of batch) c.queue.push(p);
    }
    this.#answer(c);
    this.#updateReading(c);
  }

  /** When the answer to a request arriving now is due (answers never overtake each other). */
  #dueAt(c: Connection, now: number): number {
    const delay = this.#latencyMs + (this.#jitterMs > 0 ? this.#random() * this.#jitterMs : 0);
    // serial: each request is handled after the previous answer left; otherwise latencies overlap.
    const due =
      this.#mode === 'serial' ? Math.max(now, c.lastDueAt) + delay : Math.max(now + delay, c.lastDueAt);
    c.lastDueAt = due;
    return due;
  }

  /** Sends the answers that are due, until the socket backs up or this turn's share is used. */
  #answer(c: Connection): void {
    if (c.closed || c.blocked) return;
    // Nothing queued on the socket: whatever was built in the connection's buffer has left.
    if (c.scratch === undefined && c.socket.writableLength === 0) c.scratch = c.own;
    const faults = this.#options.faults;
    const now = performance.now();
    // Several answers due at once leave in one gathered write (after the first, responses are built in
    // memory of their own while the socket holds the connection's buffer).
    const corked =
      faults === undefined && c.queue.length - c.queueHead > 1 && c.queue[c.queueHead + 1]!.dueAt <= now;
    if (corked) c.socket.cork();
    try {
      this.#answerDue(c, now, faults);
    } finally {
      if (corked) c.socket.uncork();
    }
  }

  #answerDue(c: Connection, now: number, faults: FaultHook | undefined): void {
    let sent = 0;
    while (c.queueHead < c.queue.length) {
      const head = c.queue[c.queueHead]!;
      if (head.dueAt > now) {
        this.#armTimer(c, head.dueAt);
        break;
      }
      if (sent >= ANSWERS_PER_TURN) {
        // Let other connections (and this one's reads) have a turn.
        c.turn ??= setImmediate(() => {
          c.turn = undefined;
          this.#answer(c);
          this.#updateReading(c);
        });
        break;
      }
      c.queueHead++;
      sent++;
      this.#stats.answered++;
      if (!this.#send(c, head.request, faults)) return;
      if (c.blocked) break;
    }
    if (c.queueHead === c.queue.length) {
      // pop() for the usual one or two slots: setting `length` is a runtime call in V8 (~10× slower).
      if (c.queueHead <= 4) for (let i = c.queueHead; i > 0; i--) c.queue.pop();
      else c.queue.length = 0;
      c.queueHead = 0;
    } else if (c.queueHead > 1024) {
      c.queue.splice(0, c.queueHead);
      c.queueHead = 0;
    }
  }

  /**
   * Answers the requests that arrived in one chunk with one write, as a device's TCP stack sends what is
   * ready together: the responses are built one after the other in the connection's buffer (grown to fit
   * up to COALESCE_BYTES; what does not fit gets memory of its own) and leave in one write, or one
   * gathered write under cork() when some were built elsewhere. Each request is still answered exactly
   * once and in order. At most COALESCE_BYTES of responses are built at once: the requests after them
   * wait in the queue and are answered as the socket drains, so memory per connection stays bounded.
   */
  #answerTogether(c: Connection, packets: readonly DecodedPacket[], now: number): void {
    let need = 0;
    for (let i = 0; i < packets.length; i++) need += responseBytes(packets[i]!);
    if (c.scratch === c.own && c.own.length < need) {
      const size = Math.min(COALESCE_BYTES, Math.max(need, 2 * c.own.length));
      if (size > c.own.length) {
        c.own = Buffer.allocUnsafeSlow(size);
        c.scratch = c.own;
      }
    }
    const buf = c.scratch;
    let used = 0;
    let built = 0;
    // Responses built in `buf` are contiguous from 0 until one is built elsewhere (a NAK, no room).
    let together = true;
    const responses: Uint8Array[] = [];
    let i = 0;
    for (; i < packets.length && built < COALESCE_BYTES; i++) {
      this.#stats.answered++;
      const room = buf === undefined || used >= buf.length ? undefined : buf.subarray(used);
      const response = this.device.handle(packets[i]!, room);
      if (room !== undefined && response.buffer === room.buffer && response.byteOffset === room.byteOffset) {
        used += response.length;
      } else {
        together = false;
      }
      built += response.length;
      responses.push(response);
    }
    const socket = c.socket;
    let ok: boolean;
    if (together) {
      ok = socket.write(buf!.subarray(0, used));
    } else {
      socket.cork();
      ok = true;
      for (const r of responses) ok = socket.write(r) && ok;
      socket.uncork();
    }
    if (!ok) this.#blocked(c);
    // The socket holds what it could not send at once (the buffer included) until it drains.
    if (c.scratch !== undefined && socket.writableLength !== 0) c.scratch = undefined;
    if (i < packets.length) {
      for (; i < packets.length; i++) c.queue.push({ request: packets[i]!, dueAt: now });
      this.#answer(c);
    }
  }

  /** Answers one request. False when the connection was closed (a truncating fault). */
  #send(c: Connection, request: DecodedPacket, faults: FaultHook | undefined): boolean {
    const socket = c.socket;
    if (faults === undefined) {
      // The response is built in the connection's buffer. A write the kernel took at once leaves nothing
      // queued (writableLength 0) and the buffer free for the next response; otherwise the socket holds it
      // until 'drain', and responses get fresh memory till then.
      const response = this.device.handle(request, c.scratch);
      if (!socket.write(response)) this.#blocked(c);
      if (c.scratch !== undefined && socket.writableLength !== 0) c.scratch = undefined;
      return true;
    }
    const response = this.device.handle(request);
    const fault = faults(request, response);
    let bytes: Uint8Array | undefined = response;
    if (fault?.kind === 'replace') bytes = fault.bytes;
    else if (fault?.kind === 'drop') bytes = undefined;
    else if (fault?.kind === 'truncate') {
      socket.end(response.subarray(0, fault.bytes));
      this.#drop(c);
      return false;
    }
    if (bytes !== undefined && !socket.write(bytes)) this.#blocked(c);
    return true;
  }

  #blocked(c: Connection): void {
    c.blocked = true;
    this.#stats.backpressured++;
  }

  /** Reads while there is room: not while answers wait for 'drain' or too many requests are queued. */
  #updateReading(c: Connection): void {
    if (c.closed) return;
    const hold = c.blocked || c.waiting >= this.#maxQueued;
    if (hold === c.paused) return;
    c.paused = hold;
    if (hold) c.socket.pause();
    else c.socket.resume();
  }

  #armTimer(c: Connection, at: number): void {
    if (c.timer !== undefined && c.timerAt <= at) return;
    if (c.timer !== undefined) clearTimeout(c.timer);
    c.timerAt = at;
    c.timer = setTimeout(
      () => {
        c.timer = undefined;
        c.timerAt = Number.POSITIVE_INFINITY;
        this.#answer(c);
        this.#updateReading(c);
      },
      Math.max(0, Math.ceil(at - performance.now())),
    );
  }

  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      for (const c of [...this.#connections]) this.#close(c);
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The size of the ACK that answers `request` (a NAK is never longer). */
function responseBytes(request: DecodedPacket): number {
  if ('undefinedTcode' in request) return 12;
  return request.tcode === 5 ? 16 + request.dataLength : request.tcode === 4 ? 16 : 12;
}
