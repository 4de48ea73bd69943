// An in-process fault proxy on 127.0.0.1 between a client and a server (the toxiproxy toxics of docs/protocols/tcpinterface.md
// §3.1, in-process so tests stay fast and need no extra service): slicing into 1..k-byte pieces,
// latency, blackhole (half-open), RST, close after N bytes, slow close, stop/restart, accept counting.

import net from 'node:net';
import { LoopbackListener, socketsClosed } from './loopback-listener';
import { randomInt, seededRandom } from './random';

/** Faults applied to one direction of every connection. Changes apply to bytes arriving afterwards. */
export interface FaultSettings {
  /** Split every chunk into pieces of 1..sliceMax bytes (0 or undefined: forward chunks as they are). */
  sliceMax?: number;
  /** Pause between pieces, in ms, so the peer sees them as separate reads. Default 1. */
  sliceDelayMs?: number;
  /** Hold every chunk this long before forwarding it (order kept), in ms. */
  latencyMs?: number;
  /** Drop every byte silently and keep the connection open: a half-open peer. */
  blackhole?: boolean;
  /** Forward this many bytes in this direction, then close both sides (toxiproxy `limit_data`). */
  limitBytes?: number;
  /** Forward this many bytes in this direction, then reset both sides with RST. */
  resetAfterBytes?: number;
  /** When the source closes, close the destination only after this many ms (toxiproxy `slow_close`). */
  closeDelayMs?: number;
}

export interface FaultProxyOptions {
  /** Where to forward to (a loopback address). */
  target: { host?: string; port: number };
  /** Client to server. */
  upstream?: FaultSettings;
  /** Server to client. */
  downstream?: FaultSettings;
  /** Seed of the slicing randomness. Default 1. */
  seed?: number;
  /** Listen address: `127.0.0.1` (default) or `::1`. */
  host?: '127.0.0.1' | '::1';
}

type Direction = 'upstream' | 'downstream';

class Pipe {
  readonly #queue: { chunk: Uint8Array; at: number }[] = [];
  #busy = false;
  #forwarded = 0;
  #ended = false;

  constructor(
    readonly proxy: FaultProxy,
    readonly connection: ProxyConnection,
    readonly direction: Direction,
    readonly destination: () => net.Socket | undefined,
  ) {}

  get forwarded(): number {
    return this.#forwarded;
  }

  push(chunk: Uint8Array): void {
    if (this.proxy.settings(this.direction).blackhole) return;
    this.#queue.push({ chunk, at: performance.now() });
    if (!this.#busy) void this.#pump();
  }

  end(): void {
    this.#ended = true;
    if (!this.#busy) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.connection.closed) {
        const { chunk, at } = this.#queue.shift()!;
        const s = this.proxy.settings(this.direction);
        const wait = at + (s.latencyMs ?? 0) - performance.now();
        if (wait > 0) await this.proxy.sleep(wait);
        await this.connection.ready;
        if (this.proxy.settings(this.direction).blackhole) continue;
        await this.#forward(chunk, s);
      }
      if (this.#ended && this.#queue.length === 0 && !this.connection.closed) {
        const delay = this.proxy.settings(this.direction).closeDelayMs ?? 0;
        if (delay > 0) await this.proxy.sleep(delay);
        this.destination()?.end();
      }
    } finally {
      this.#busy = false;
    }
  }

  async #forward(chunk: Uint8Array, s: FaultSettings): Promise<void> {
    let data = chunk;
    const cap = s.resetAfterBytes ?? s.limitBytes;
    if (cap !== undefined) data = data.subarray(0, Math.max(0, cap - this.#forwarded));
    const pieces: Uint8Array[] = [];
    if (s.sliceMax !== undefined && s.sliceMax > 0) {
      for (let i = 0; i < data.length; ) {
        const n = randomInt(this.proxy.random, 1, s.sliceMax);
        pieces.push(data.subarray(i, i + n));
        i += n;
      }
    } else if (data.length > 0) {
      pieces.push(data);
    }
    for (let i = 0; i < pieces.length; i++) {
      if (this.connection.closed) return;
      if (i > 0) await this.proxy.sleep(s.sliceDelayMs ?? 1);
      const destination = this.destination();
      if (destination === undefined || destination.destroyed) return;
      destination.write(pieces[i]!);
      this.#forwarded += pieces[i]!.length;
    }
    if (cap !== undefined && this.#forwarded >= cap) {
      if (s.resetAfterBytes !== undefined) this.connection.reset();
      else this.connection.close();
    }
  }
}

/** One client connection through the proxy and its upstream connection to the target. */
class ProxyConnection {
  readonly id: number;
  readonly client: net.Socket;
  server: net.Socket | undefined;
  closed = false;
  readonly ready: Promise<void>;
  readonly up: Pipe;
  readonly down: Pipe;
  #markReady: () => void = () => {};

  readonly #proxy: FaultProxy;

  constructor(proxy: FaultProxy, id: number, client: net.Socket, target: { host: string; port: number }) {
    this.#proxy = proxy;
    this.id = id;
    this.client = client;
    this.ready = new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
    this.up = new Pipe(proxy, this, 'upstream', () => this.server);
    this.down = new Pipe(proxy, this, 'downstream', () => this.client);
    client.setNoDelay(true);
    client.on('error', () => this.close());
    client.on('data', (chunk: Uint8Array) => this.up.push(chunk));
    client.on('end', () => this.up.end());
    client.on('close', () => this.#closeAfter('upstream'));
    const server = net.connect({ host: target.host, port: target.port, noDelay: true });
    this.server = server;
    server.on('error', () => this.close());
    server.on('connect', () => this.#markReady());
    server.on('data', (chunk: Uint8Array) => this.down.push(chunk));
    server.on('end', () => this.down.end());
    server.on('close', () => this.#closeAfter('downstream'));
  }

  /** One side closed: close the other, after the direction's `closeDelayMs` (slow close). */
  #closeAfter(direction: Direction): void {
    const delay = this.#proxy.settings(direction).closeDelayMs ?? 0;
    if (delay > 0 && !this.closed) void this.#proxy.sleep(delay).then(() => this.close());
    else this.close();
  }

  /** Closes both sides (FIN, or RST for a socket that still has unread data). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#markReady();
    this.client.destroy();
    this.server?.destroy();
  }

  /** Resets both sides with RST. */
  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.#markReady();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (this.server !== undefined && !this.server.destroyed) {
      if (this.server.connecting) this.server.destroy();
      else this.server.resetAndDestroy();
    }
  }

  sockets(): net.Socket[] {
    return this.server === undefined ? [this.client] : [this.client, this.server];
  }
}

export class FaultProxy extends LoopbackListener<ProxyConnection> implements AsyncDisposable {
  readonly random: () => number;
  upstream: FaultSettings;
  downstream: FaultSettings;
  #target: { host: string; port: number };
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  private constructor(options: FaultProxyOptions) {
    super('FaultProxy', options.host ?? '127.0.0.1', 0);
    this.#target = { host: options.target.host ?? '127.0.0.1', port: options.target.port };
    this.upstream = { ...options.upstream };
    this.downstream = { ...options.downstream };
    this.random = seededRandom(options.seed ?? 1);
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await proxy.listen();
    return proxy;
  }

  settings(direction: Direction): FaultSettings {
    return direction === 'upstream' ? this.upstream : this.downstream;
  }

  /** Replaces the faults of one or both directions (for bytes arriving from now on). */
  set(faults: { upstream?: FaultSettings; downstream?: FaultSettings }): void {
    if (faults.upstream !== undefined) this.upstream = { ...faults.upstream };
    if (faults.downstream !== undefined) this.downstream = { ...faults.downstream };
  }

  /** Removes every fault. */
  heal(): void {
    this.upstream = {};
    this.downstream = {};
  }

  /** Blackholes both directions (or lifts it): the client sees a half-open connection. */
  blackhole(on = true): void {
    this.upstream = { ...this.upstream, blackhole: on };
    this.downstream = { ...this.downstream, blackhole: on };
  }

  /** Points new connections at another target port (a server restarted elsewhere). */
  retarget(port: number, host = '127.0.0.1'): void {
    this.#target = { host, port };
  }

  /** Resets every open connection with RST (client and server side). */
  resetAll(): void {
    for (const c of [...this.connections]) c.reset();
  }

  /** Closes every open connection with FIN. */
  closeAll(): void {
    for (const c of [...this.connections]) c.close();
  }

  /** Stops listening (connects are refused) and resets or closes every connection. */
  async stop(options: { reset?: boolean } = {}): Promise<void> {
    const closed = this.unlisten();
    const sockets = [...this.connections].flatMap((c) => c.sockets());
    if (options.reset) this.resetAll();
    else this.closeAll();
    await socketsClosed(sockets);
    await closed;
  }

  /** Stops, and clears every pending timer. */
  async close(): Promise<void> {
    this.markClosed();
    await this.stop();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Each client connection gets its own connection to the current target. */
  protected override onConnection(socket: net.Socket, id: number): ProxyConnection {
    return new ProxyConnection(this, id, socket, this.#target);
  }

  /** A sleep whose timer `close()` clears. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}
