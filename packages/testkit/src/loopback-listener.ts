// What LoopbackServer and FaultProxy share: a net.Server on a loopback address that can stop and listen
// again on the same port (the device being power-cycled), counting what it accepts and what is open.
// Internal: not exported from the package.

import net from 'node:net';

export abstract class LoopbackListener<T> {
  readonly host: '127.0.0.1' | '::1';
  /** What each accepted socket became (see `onConnection`), while that socket is open. */
  protected readonly connections = new Set<T>();
  readonly #owner: string;
  #port: number;
  #server: net.Server | undefined;
  #accepts = 0;
  #maxOpen = 0;
  #closed = false;

  /** `owner` names the class in errors. */
  protected constructor(owner: string, host: '127.0.0.1' | '::1', port: number) {
    this.#owner = owner;
    this.host = host;
    this.#port = port;
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
    return this.connections.size;
  }

  /** The most connections that were open at the same time. */
  get maxOpen(): number {
    return this.#maxOpen;
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (this.#closed) throw new Error(`${this.#owner}: restart after close`);
    if (this.#server === undefined) await this.listen();
  }

  /** Takes over an accepted socket (its id is 1, 2, … in accept order); the result is tracked until it closes. */
  protected abstract onConnection(socket: net.Socket, id: number): T;

  protected get serverListening(): boolean {
    return this.#server?.listening ?? false;
  }

  /** Listens on the port (0 the first time: ephemeral; afterwards the same one) and learns it. */
  protected listen(): Promise<void> {
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
  protected unlisten(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    return server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  }

  /** From now on `restart` throws. */
  protected markClosed(): void {
    this.#closed = true;
  }

  #accept(socket: net.Socket): void {
    this.#accepts++;
    const connection = this.onConnection(socket, this.#accepts);
    this.connections.add(connection);
    this.#maxOpen = Math.max(this.#maxOpen, this.connections.size);
    socket.once('close', () => this.connections.delete(connection));
  }
}

/** Resolves once every socket in `sockets` has emitted 'close'. */
export function socketsClosed(sockets: readonly net.Socket[]): Promise<unknown> {
  return Promise.all(sockets.filter((s) => !s.closed).map((s) => new Promise((r) => s.once('close', r))));
}
