// A TCP server on a loopback address for tests: one handler per connection, accept counting, and a
// stop/restart on the same port (the device being power-cycled).

import net from 'node:net';
import { ByteReader } from '@labwire/framing';

export interface ServerConnection {
  /** 1, 2, … in accept order. */
  readonly id: number;
  readonly socket: net.Socket;
  /** Reads from the client (made on first use); no default deadline (the server waits for its client). */
  readonly reader: ByteReader;
  /** Writes unless the socket is gone. */
  write(bytes: Uint8Array): void;
}

export type ConnectionHandler = (connection: ServerConnection) => void | Promise<void>;

export interface LoopbackServerOptions {
  /** `127.0.0.1` (default) or `::1`. Only loopback addresses are allowed. */
  host?: '127.0.0.1' | '::1';
  /** Default 0 (ephemeral). */
  port?: number;
}

export class LoopbackServer implements AsyncDisposable {
  readonly host: '127.0.0.1' | '::1';
  #port: number;
  #server: net.Server | undefined;
  readonly #handler: ConnectionHandler;
  readonly #sockets = new Set<net.Socket>();
  #accepts = 0;
  #maxOpen = 0;
  #closed = false;

  private constructor(handler: ConnectionHandler, options: LoopbackServerOptions) {
    this.#handler = handler;
    this.host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
  }

  /** Starts listening and resolves once the port is known. */
  static async start(
    handler: ConnectionHandler,
    options: LoopbackServerOptions = {},
  ): Promise<LoopbackServer> {
    const server = new LoopbackServer(handler, options);
    await server.#listen();
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** Connections accepted since start. */
  get accepts(): number {
    return this.#accepts;
  }

  /** Connections open now. */
  get open(): number {
    return this.#sockets.size;
  }

  /** The most connections that were open at the same time. */
  get maxOpen(): number {
    return this.#maxOpen;
  }

  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  /** The client sockets open now. */
  get sockets(): readonly net.Socket[] {
    return [...this.#sockets];
  }

  /** Closes every client connection: a FIN by default, an RST with `{ reset: true }`. */
  async dropConnections(options: { reset?: boolean } = {}): Promise<void> {
    const sockets = [...this.#sockets];
    for (const s of sockets) {
      if (options.reset) s.resetAndDestroy();
      else s.destroy();
    }
    await Promise.all(sockets.filter((s) => !s.closed).map((s) => new Promise((r) => s.once('close', r))));
  }

  /** Stops listening (new connects are refused) and drops every connection. */
  async stop(options: { reset?: boolean } = {}): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await this.dropConnections(options);
    await closed;
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (this.#closed) throw new Error('LoopbackServer: restart after close');
    if (this.#server) return;
    await this.#listen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #listen(): Promise<void> {
    const server = net.createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.#port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', () => {});
        this.#port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  #accept(socket: net.Socket): void {
    this.#accepts++;
    this.#sockets.add(socket);
    this.#maxOpen = Math.max(this.#maxOpen, this.#sockets.size);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    // The reader is made on first use only: an unused reader would buffer up to its limit and then pause
    // the socket, stalling a handler that reads through its own 'data' listener (the echo server).
    let reader: ByteReader | undefined;
    socket.once('close', () => {
      this.#sockets.delete(socket);
      reader?.close();
    });
    const connection: ServerConnection = {
      id: this.#accepts,
      socket,
      get reader() {
        reader ??= new ByteReader(socket, { timeoutMs: Number.POSITIVE_INFINITY });
        return reader;
      },
      write(bytes) {
        if (!socket.destroyed && socket.writable) socket.write(bytes);
      },
    };
    // A handler that returns leaves the connection open (it may keep serving through listeners); one that
    // throws (its connection went away, or the client sent garbage) closes it.
    Promise.resolve()
      .then(() => this.#handler(connection))
      .catch(() => {
        socket.destroy();
      });
  }
}
