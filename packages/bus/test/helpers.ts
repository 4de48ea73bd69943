// A loopback "device" for the bus tests: a plain net server on 127.0.0.1, port 0, that records what each
// connection sends and lets a test script what it answers.

import net from 'node:net';

export interface DeviceConnection {
  readonly socket: net.Socket;
  /** Everything received on this connection so far. */
  received(): Buffer;
  /** Resolves once the peer has closed its side. */
  readonly ended: Promise<void>;
}

export class Device {
  readonly server: net.Server;
  readonly connections: DeviceConnection[] = [];
  #waiters: ((c: DeviceConnection) => void)[] = [];

  private constructor(
    server: net.Server,
    readonly port: number,
  ) {
    this.server = server;
  }

  /** Starts a device; `onConnection` scripts its behaviour (default: silent). */
  static async start(
    onConnection: (socket: net.Socket, conn: DeviceConnection) => void = () => {},
    host = '127.0.0.1',
  ): Promise<Device> {
    let device: Device | undefined;
    const pending: net.Socket[] = [];
    const server = net.createServer((socket) => {
      if (device) device.#accept(socket, onConnection);
      else pending.push(socket);
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    device = new Device(server, port);
    for (const s of pending) device.#accept(s, onConnection);
    return device;
  }

  /** Connections accepted so far. */
  get accepts(): number {
    return this.connections.length;
  }

  /** The next accepted connection (or the i-th, when it already exists). */
  connection(i: number): Promise<DeviceConnection> {
    const c = this.connections[i];
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => {
      const check = () => {
        const got = this.connections[i];
        if (got) resolve(got);
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  #accept(socket: net.Socket, onConnection: (socket: net.Socket, conn: DeviceConnection) => void): void {
    const chunks: Buffer[] = [];
    socket.on('error', () => {});
    const ended = new Promise<void>((resolve) => {
      socket.on('end', () => {
        resolve();
        socket.end();
      });
      socket.on('close', () => resolve());
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    const conn: DeviceConnection = { socket, received: () => Buffer.concat(chunks), ended };
    this.connections.push(conn);
    onConnection(socket, conn);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(conn);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A line-echo device that answers every `\n`-terminated line with `<tag>:<line>\n`. */
export function lineEcho(tag = 'R'): (socket: net.Socket) => void {
  return (socket) => {
    let buf = '';
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let at = buf.indexOf('\n');
      while (at >= 0) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 1);
        socket.write(`${tag}:${line}\n`);
        at = buf.indexOf('\n');
      }
    });
  };
}

/** Resolves after `ms` of real time (for letting bytes cross the loopback, never for assertions on speed). */
export function settle(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
