// A TCP server on a loopback address for tests: one handler per connection, accept counting, and a
// stop/restart on the same port (the device being power-cycled).

import type net from 'node:net';
import { ByteReader } from '@labwire/framing';
import { LoopbackListener, socketsClosed } from './loopback-listener';

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

export class LoopbackServer extends LoopbackListener<net.Socket> implements AsyncDisposable {
  readonly #handler: ConnectionHandler;

  private constructor(handler: ConnectionHandler, options: LoopbackServerOptions) {
    super('LoopbackServer', options.host ?? '127.0.0.1', options.port ?? 0);
    this.#handler = handler;
  }

  /** Starts listening and resolves once the port is known. */
  static async start(
    handler: ConnectionHandler,
    options: LoopbackServerOptions = {},
  ): Promise<LoopbackServer> {
    const server = new LoopbackServer(handler, options);
    await server.listen();
    return server;
  }

  get listening(): boolean {
    return this.serverListening;
  }

  /** The client sockets open now. */
  get sockets(): readonly net.Socket[] {
    return [...this.connections];
  }

  /** Closes every client connection: a FIN by default, an RST with `{ reset: true }`. */
  async dropConnections(options: { reset?: boolean } = {}): Promise<void> {
    const sockets = [...this.connections];
    for (const s of sockets) {
      if (options.reset) s.resetAndDestroy();
      else s.destroy();
    }
    await socketsClosed(sockets);
  }

  /** Stops listening (new connects are refused) and drops every connection. */
  async stop(options: { reset?: boolean } = {}): Promise<void> {
    const closed = this.unlisten();
    await this.dropConnections(options);
    await closed;
  }

  async close(): Promise<void> {
    this.markClosed();
    await this.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  protected override onConnection(socket: net.Socket, id: number): net.Socket {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    // The reader is made on first use only: an unused reader would buffer up to its limit and then pause
    // the socket, stalling a handler that reads through its own 'data' listener (the echo server).
    let reader: ByteReader | undefined;
    socket.once('close', () => reader?.close());
    const connection: ServerConnection = {
      id,
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
    return socket;
  }
}
