// Baselines: the fastest way plain Node `net` does the job a case does, measured in the same run as the
// case. "The same job" means the same bytes from the same long-lived buffers, the same write sizes, the
// same window (requests in flight), and the best receive path: `onread` into one reused landing buffer,
// with payloads copied into the same kind of destination the case delivers (a reused buffer, or a fresh
// allocation). A ratio near 1 then means "at the limit of this machine"; a ratio far above 1 means the
// baseline is weak and must be fixed, not celebrated. Only 127.0.0.1.
//
// The older, weaker baselines ('data' events, which cost one Buffer allocation and copy per read) are
// kept as `receive: 'data'` for the informational rows that show what the default socket path costs.

import net from 'node:net';
import { adoptOnread } from '@labwire/framing';

export const MiB = 1024 * 1024;
/** The landing buffer of every `onread` baseline: the same size as OnreadSource's default. */
export const LANDING_BYTES = 64 * 1024;
/** The largest slice sendAll hands to write() at once (framing's SEND_SLICE_BYTES). */
export const SEND_SLICE = MiB;

export type ReceivePath = 'onread' | 'data';

export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** The chunk handler of a receive path: `bytes[0, n)` is valid only during the call. */
type OnChunk = (bytes: Uint8Array, n: number) => void;

/**
 * Hands every chunk an accepted socket reads to `onChunk`: through `onread` into one reused landing
 * buffer when `receive` is 'onread' (Node's API offers `onread` only to sockets it creates; framing's
 * adoptOnread gives it to an accepted one, as the library's PyMoDAQ server sessions read since issue 16),
 * else through 'data' events (a fresh Buffer per read, what a plain server has through the public API).
 * Call it in the server's 'connection' listener, before the socket read anything.
 */
export function receiveAccepted(socket: net.Socket, onChunk: OnChunk, receive: ReceivePath): void {
  const landing = new Uint8Array(LANDING_BYTES);
  const onread = {
    buffer: landing,
    callback: (n: number, bytes: Uint8Array) => {
      onChunk(bytes, n);
      return true;
    },
  };
  if (receive === 'onread' && adoptOnread(socket, onread)) return;
  if (receive === 'onread')
    throw new Error('this Node cannot give an accepted socket onread (framing adoptOnread)');
  socket.on('data', (chunk: Buffer) => onChunk(chunk, chunk.length));
}

/**
 * A connected client socket that hands every received chunk to `onChunk`: through `onread` into one
 * reused landing buffer (no allocation per read), or through 'data' events (a fresh Buffer per read).
 */
export function connect(
  port: number,
  onChunk?: OnChunk,
  receive: ReceivePath = 'onread',
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const options: net.NetConnectOpts = { port, host: '127.0.0.1', noDelay: true };
    if (onChunk && receive === 'onread') {
      options.onread = {
        buffer: new Uint8Array(LANDING_BYTES),
        callback: (n: number, bytes: Uint8Array) => {
          onChunk(bytes, n);
          return true;
        },
      };
    }
    const s = net.connect(options);
    if (onChunk && receive === 'data') s.on('data', (chunk: Buffer) => onChunk(chunk, chunk.length));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** How long a baseline waits for its peer before it fails (a wrong reply size must not hang the run). */
export const BASELINE_DEADLINE_MS = 60_000;

/** `promise`, or a rejection naming `what` after BASELINE_DEADLINE_MS. */
export function deadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer within ${BASELINE_DEADLINE_MS / 1000} s`)),
      BASELINE_DEADLINE_MS,
    );
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const drained = (socket: net.Socket) => new Promise<void>((resolve) => socket.once('drain', resolve));

/**
 * Writes `data` as sendAll does: slices of at most 1 MiB, waiting for 'drain' after any write() that
 * returns false. `head`, when given, is written first under cork() with the first slice, as writeFrame
 * does with a frame header.
 */
export async function writeSliced(socket: net.Socket, data: Uint8Array, head?: Uint8Array): Promise<void> {
  let at = 0;
  let ok = true;
  if (head) {
    socket.cork();
    socket.write(head);
    const end = Math.min(data.length, SEND_SLICE);
    ok = socket.write(data.subarray(0, end));
    at = end;
    socket.uncork();
  }
  while (at < data.length || !ok) {
    if (!ok) await drained(socket);
    if (at >= data.length) break;
    const end = Math.min(data.length, at + SEND_SLICE);
    ok = socket.write(data.subarray(at, end));
    at = end;
  }
}

/** A u32 big-endian length prefix. */
export function frameHeader(length: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, length);
  return h;
}

/**
 * Receives u32-BE length-prefixed frames from the chunks of a receive path and copies every payload into
 * `destination(length)`: one reused buffer, or a fresh allocation per frame. `onFrame` sees each payload.
 */
export class RawFrameReceiver {
  frames = 0;
  bytes = 0;
  #header = 0;
  #headerFill = 0;
  #dest: Uint8Array | undefined;
  #want = 0;
  #filled = 0;

  constructor(
    private readonly destination: (length: number) => Uint8Array,
    private readonly onFrame: (payload: Uint8Array) => void,
  ) {}

  readonly push: OnChunk = (bytes, n) => {
    let at = 0;
    while (at < n) {
      if (this.#dest === undefined) {
        while (this.#headerFill < 4 && at < n) {
          this.#header = ((this.#header << 8) | bytes[at++]!) >>> 0;
          this.#headerFill++;
        }
        if (this.#headerFill < 4) return;
        this.#want = this.#header;
        this.#dest = this.destination(this.#want);
        this.#filled = 0;
        this.#header = 0;
        this.#headerFill = 0;
      }
      const take = Math.min(n - at, this.#want - this.#filled);
      if (take > 0) this.#dest.set(bytes.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === this.#want) {
        const payload = this.#dest.subarray(0, this.#want);
        this.#dest = undefined;
        this.frames++;
        this.bytes += this.#want;
        this.onFrame(payload);
      }
    }
  };
}

export interface FrameStreamOptions {
  /** The payload of every frame (one long-lived buffer, as the case sends). */
  payload: Uint8Array;
  count: number;
  /** Where payloads land: one reused buffer (the case's `into`) or a fresh allocation per frame. */
  into: 'reused' | 'fresh';
  receive?: ReceivePath;
}

const reusedDestinations = new Map<number, Uint8Array>();
/** One reused destination per size, kept across runs (its pages are faulted in once). */
export function reusedDestination(size: number): Uint8Array {
  let d = reusedDestinations.get(size);
  if (d === undefined) {
    d = new Uint8Array(size);
    reusedDestinations.set(size, d);
  }
  return d;
}

/**
 * Raw length-prefixed frame stream: the server side sends `count` frames as writeFrame does (header and
 * first 1 MiB slice under cork, then 1 MiB slices, waiting for 'drain', one frame after the other); the
 * client side receives them through `onread` and copies each payload into its destination. MiB/s of
 * payload from the first write to the last byte received.
 */
export async function rawFrameStream({
  payload,
  count,
  into,
  receive = 'onread',
}: FrameStreamOptions): Promise<number> {
  const header = frameHeader(payload.length);
  const reused = into === 'reused' ? reusedDestination(payload.length) : undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const receiver = new RawFrameReceiver(
    (length) => reused ?? allocateUnsafe(length),
    () => {
      if (receiver.frames === count) done();
    },
  );
  const server = net.createServer({ noDelay: true });
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const port = await listen(server);
  const client = await connect(port, receiver.push, receive);
  const sender = await accepted;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await writeSliced(sender, payload, header);
  await deadline(finished, 'rawFrameStream');
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  sender.destroy();
  server.close();
  if (receiver.bytes !== count * payload.length) throw new Error(`received ${receiver.bytes} bytes`);
  return receiver.bytes / MiB / seconds;
}

/** Uninitialised memory, as ByteReader allocates for a frame without `into` (no zero fill). */
export function allocateUnsafe(size: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The old bulk baseline, kept for informational rows: 64 KiB writes from one cache-resident block,
 * counted through 'data' events (a Buffer per read). MiB/s.
 */
export async function rawBulkDataEvents(totalBytes: number, writeSize = 64 * 1024): Promise<number> {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const server = net.createServer((sock) => {
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= totalBytes) done();
    });
  });
  const port = await listen(server);
  const client = await connect(port);
  const block = Buffer.alloc(writeSize, 0x5a);
  const t0 = performance.now();
  let sent = 0;
  while (sent < totalBytes) {
    const n = Math.min(writeSize, totalBytes - sent);
    const ok = client.write(n === writeSize ? block : block.subarray(0, n));
    sent += n;
    if (!ok) await drained(client);
  }
  await deadline(finished, 'rawBulkDataEvents');
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  server.close();
  return totalBytes / MiB / seconds;
}

// --- request / response -------------------------------------------------------------------------------

export interface ExchangeOptions {
  /** The request: its size (filler bytes, for a raw server) or its bytes (for a real device model). */
  request: number | Uint8Array;
  /** Bytes of each reply; a list means one request per entry, in turn (a read split into packets). */
  replyBytes: number | readonly number[];
  /** Round trips (requests answered) to time. */
  count: number;
  /** Requests in flight at once (default 1: each request waits for the previous reply). */
  window?: number;
  /** The client's receive path (default `onread`, as TcpInterface reads). */
  receive?: ReceivePath;
  /** The raw server's receive path (default 'data'; 'onread' where the case's accepting side reads so). */
  serverReceive?: ReceivePath;
}

/**
 * A raw request/response server on 127.0.0.1: answers `replies[k]` (in turn) once a whole request of
 * `requestBytes` has arrived; the requests that arrived in one chunk in one gathered write. It reads 'data' events (what a plain
 * server has through Node's public API), or with `receive` 'onread' through one reused landing buffer
 * (receiveAccepted), for cases whose own accepting side reads that way. The reply buffers live as long as the server.
 */
export function rawReplyServer(
  requestBytes: number,
  replyBytes: number | readonly number[],
  receive: ReceivePath = 'data',
): net.Server {
  const replies = (typeof replyBytes === 'number' ? [replyBytes] : replyBytes).map((n) =>
    Buffer.alloc(n, 0x52),
  );
  return net.createServer({ noDelay: true }, (sock) => {
    sock.on('error', () => {});
    let pending = 0;
    let k = 0;
    receiveAccepted(
      sock,
      (_bytes, n) => {
        pending += n;
        // The requests of one chunk are answered in one gathered write (as the simulator does).
        const together = pending >= 2 * requestBytes;
        if (together) sock.cork();
        while (pending >= requestBytes) {
          pending -= requestBytes;
          sock.write(replies[k]!);
          k = k + 1 === replies.length ? 0 : k + 1;
        }
        if (together) sock.uncork();
      },
      receive,
    );
  });
}

/**
 * Raw request/response on one connection, driven from the receive callback (no promise per round trip,
 * the cheapest plain-Node client): the client writes a request whenever fewer than `window` are in
 * flight and counts reply bytes until each reply is whole. Round trips per second.
 */
export async function rawExchange(
  {
    request: requestOrSize,
    replyBytes,
    count,
    window = 1,
    receive = 'onread',
    serverReceive,
  }: ExchangeOptions,
  server: { port: number } | undefined = undefined,
): Promise<number> {
  const sizes = typeof replyBytes === 'number' ? [replyBytes] : replyBytes;
  const request = typeof requestOrSize === 'number' ? Buffer.alloc(requestOrSize, 0x51) : requestOrSize;
  const own = server === undefined ? rawReplyServer(request.length, sizes, serverReceive) : undefined;
  const port = server?.port ?? (await listen(own!));
  let sent = 0;
  let answered = 0;
  let got = 0;
  let k = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onChunk: OnChunk = (_bytes, n) => {
    got += n;
    while (got >= sizes[k]!) {
      got -= sizes[k]!;
      k = k + 1 === sizes.length ? 0 : k + 1;
      if (++answered === count) return done();
      if (sent < count) {
        socket.write(request);
        sent++;
      }
    }
  };
  const socket: net.Socket = await connect(port, onChunk, receive);
  const t0 = performance.now();
  for (; sent < Math.min(window, count); sent++) socket.write(request);
  await deadline(finished, `rawExchange (${request.length} B out, ${sizes.join('/')} B back)`);
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  own?.close();
  return count / seconds;
}

/**
 * A plain byte relay on 127.0.0.1, the fastest plain-Node way to do a bridge's job without the
 * translation: it accepts a client, connects to `upstreamPort` at once, and writes every chunk either
 * side reads to the other side, undecoded. Both sockets read through `onread` into a landing buffer of
 * their own (the accepted one through receiveAccepted), and each chunk is copied out before it is written
 * (a write keeps a reference to its bytes until they went out, and the next read reuses the landing
 * buffer). That is faster here than 'data' events, which need no copy (0.49 against 0.45 of rawExchange,
 * 2026-12-03). Either side closing closes the other.
 */
export function rawRelay(upstreamPort: number): net.Server {
  return net.createServer({ noDelay: true }, (down) => {
    down.on('error', () => {});
    // Writes before the connection is up wait in the socket: nothing read from `down` is lost.
    const up = net.connect({
      port: upstreamPort,
      host: '127.0.0.1',
      noDelay: true,
      onread: {
        buffer: new Uint8Array(LANDING_BYTES),
        callback: (n: number, bytes: Uint8Array) => {
          down.write(Buffer.from(bytes.subarray(0, n)));
          return true;
        },
      },
    });
    up.on('error', () => {});
    up.once('close', () => down.destroy());
    down.once('close', () => up.destroy());
    receiveAccepted(down, (bytes, n) => up.write(Buffer.from(bytes.subarray(0, n))), 'onread');
  });
}

/**
 * rawExchange through a rawRelay in the same process (client -> relay -> raw server -> relay -> client):
 * what sequential round trips reach through a go-between that only copies bytes, the ceiling of any
 * bridge on this machine. The raw server reads through `onread`, as the case's accepting side does.
 */
export async function rawRelayExchange(options: ExchangeOptions): Promise<number> {
  const request = typeof options.request === 'number' ? options.request : options.request.length;
  const server = rawReplyServer(request, options.replyBytes, 'onread');
  const relay = rawRelay(await listen(server));
  try {
    return await rawExchange(options, { port: await listen(relay) });
  } finally {
    relay.close();
    server.close();
  }
}

/**
 * Raw request/response with the client awaiting a promise per round trip (the shape of an async API):
 * informational, to show what the promise costs next to the callback-driven baseline.
 */
export async function rawExchangeAwaited({
  request: requestOrSize,
  replyBytes,
  count,
}: ExchangeOptions): Promise<number> {
  const size = typeof replyBytes === 'number' ? replyBytes : replyBytes[0]!;
  const request = typeof requestOrSize === 'number' ? Buffer.alloc(requestOrSize, 0x51) : requestOrSize;
  const server = rawReplyServer(request.length, size);
  const port = await listen(server);
  let got = 0;
  let wake: (() => void) | undefined;
  const socket = await connect(port, (_b, n) => {
    got += n;
    if (got >= size && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  });
  const t0 = performance.now();
  const loop = async () => {
    for (let i = 0; i < count; i++) {
      const arrived = new Promise<void>((resolve) => {
        wake = resolve;
      });
      socket.write(request);
      await arrived;
      got -= size;
    }
  };
  await deadline(loop(), 'rawExchangeAwaited');
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  server.close();
  return count / seconds;
}

// --- a request answered by a large message ---------------------------------------------------------------

export interface BulkReplyOptions {
  /** The request bytes (e.g. PyMoDAQ's `Send Data 2D`). */
  request: Uint8Array;
  /** The reply as the peer writes it: small parts joined into one write, large ones sent in slices. */
  reply: readonly Uint8Array[];
}

/**
 * An established link in PyMoDAQ's topology where a request is answered by a large reply: the side that
 * accepted the connection asks and receives, the side that connected answers. The connecting side reads
 * the request through `onread` and writes each reply part as sendAll does; the accepting side receives
 * through `onread` into one reused landing buffer (given to the accepted socket by framing's adoptOnread,
 * as the library's server sessions read) and copies every byte into one reused destination of the
 * reply's size.
 * `transfer()` is one exchange, from the request's write to the reply's last byte.
 */
export async function rawBulkLink({
  request,
  reply,
}: BulkReplyOptions): Promise<{ transfer(): Promise<void>; close(): Promise<void> }> {
  const total = reply.reduce((n, p) => n + p.length, 0);
  const dest = reusedDestination(total);
  let got = 0;
  let done: (() => void) | undefined;
  const onChunk: OnChunk = (bytes, n) => {
    const take = Math.min(n, total - got);
    dest.set(take === bytes.length ? bytes : bytes.subarray(0, take), got);
    got += take;
    if (got === total) done?.();
  };
  const server = net.createServer({ noDelay: true });
  // The library's server sessions read their accepted sockets through one reused landing buffer
  // (framing's adoptOnread): the asker does too, given that path as the socket is accepted.
  const accepted = new Promise<net.Socket>((resolve) =>
    server.once('connection', (sock) => {
      receiveAccepted(sock, onChunk, 'onread');
      resolve(sock);
    }),
  );
  const port = await listen(server);
  let pending = 0;
  const answerer: net.Socket = await connect(port, (_bytes, n) => {
    pending += n;
    while (pending >= request.length) {
      pending -= request.length;
      void (async () => {
        for (const part of reply) await writeSliced(answerer, part);
      })();
    }
  });
  const asker = await accepted;
  return {
    transfer() {
      got = 0;
      const arrived = new Promise<void>((resolve) => {
        done = resolve;
      });
      asker.write(request);
      return deadline(arrived, 'rawBulkLink');
    },
    async close() {
      answerer.destroy();
      asker.destroy();
      server.close();
    },
  };
}

/** Joins runs of parts below 64 KiB into one buffer and keeps large parts as they are (one write each). */
export function joinSmallParts(parts: readonly Uint8Array[], limit = 64 * 1024): Uint8Array[] {
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  const flush = () => {
    if (run.length > 0) out.push(Buffer.concat(run));
    run = [];
  };
  for (const part of parts) {
    if (part.length >= limit) {
      flush();
      out.push(part);
    } else {
      run.push(part);
    }
  }
  flush();
  return out;
}
