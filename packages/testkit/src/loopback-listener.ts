// The listening half of LoopbackServer and FaultProxy: a net.Server on a loopback address that can stop
// and listen again on the same port (the device being power-cycled), counting what it accepts and what is
// open. Internal: each owner exposes its own API on top.

import net from 'node:net';

export class LoopbackListener<T> {
  readonly host: '127.0.0.1' | '::1';
  /** What the accepted connections became, while their socket is open. */
  readonly open = new Set<T>();
  readonly #owner: string;
  readonly #onConnection: (socket: net.Socket, id: number) => T;
  #port: number;
  #server: net.Server | undefined;
  #accepts = 0;
  #maxOpen = 0;
  #closed = false;

  /**
   * `owner` names the class in errors; `onConnection` turns each accepted socket (with its 1-based id) into
   * what `open` tracks until the socket closes.
   */
  constructor(
    owner: string,
    host: '127.0.0.1' | '::1',
    port: number,
    onConnection: (socket: net.Socket, id: number) => T,
  ) {
    this.#owner = owner;
    this.host = host;
    this.#port = port;
    this.#onConnection = onConnection;
  }

  get port(): number {
    return this.#port;
  }

  get accepts(): number {
    return this.#accepts;
  }

  get maxOpen(): number {
    return this.#maxOpen;
  }

  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  /** Listens on the port (0 the first time: ephemeral; afterwards the same one) and learns it. */
  listen(): Promise<void> {
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

  /** Stops listening at once (connects are refused); resolves when the server has closed. */
  unlisten(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    return server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  }

  /** Listens again on the same port, unless already listening; throws once `markClosed` was called. */
  async restart(): Promise<void> {
    if (this.#closed) throw new Error(`${this.#owner}: restart after close`);
    if (this.#server === undefined) await this.listen();
  }

  /** From now on `restart` throws. */
  markClosed(): void {
    this.#closed = true;
  }

  #accept(socket: net.Socket): void {
    this.#accepts++;
    const connection = this.#onConnection(socket, this.#accepts);
    this.open.add(connection);
    this.#maxOpen = Math.max(this.#maxOpen, this.open.size);
    socket.once('close', () => this.open.delete(connection));
  }
}

/** Resolves once every socket in `sockets` has emitted 'close'. */
export function socketsClosed(sockets: readonly net.Socket[]): Promise<unknown> {
  return Promise.all(sockets.filter((s) => !s.closed).map((s) => new Promise((r) => s.once('close', r))));
}
