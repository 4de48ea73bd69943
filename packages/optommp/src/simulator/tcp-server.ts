// The simulator's TCP server: OptoMMP packets back to back on each connection, answered in order.

import net from 'node:net';
import { type Logger, silentLogger } from '@labwire/framing';
import { PacketDecoder } from '../codec/packet-decoder';
import type { EpicDevice } from './device';
import type { FaultHook } from './faults';

/** Per-connection response buffer: a whole module (4 KiB) and its header fit. */
const SCRATCH_BYTES = 8192;

export interface SimulatorServerOptions {
  /** Interface to bind. Default 127.0.0.1 (loopback only unless told otherwise). */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Connections served at once; more are refused (closed at once). Default 64. */
  maxConnections?: number;
  /** Test hook that can replace, drop or cut replies. */
  faults?: FaultHook;
  logger?: Logger;
}

export interface BoundAddress {
  host: string;
  port: number;
}

export class OptoMmpTcpServer implements AsyncDisposable {
  readonly device: EpicDevice;
  readonly #options: SimulatorServerOptions;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #log: Logger;
  #address: BoundAddress | undefined;
  #closing: Promise<void> | undefined;

  constructor(device: EpicDevice, options: SimulatorServerOptions = {}) {
    this.device = device;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.maxConnections = options.maxConnections ?? 64;
  }

  /** The bound address once `listen()` resolved. */
  get address(): BoundAddress {
    if (this.#address === undefined) throw new Error('OptoMmpTcpServer: not listening');
    return this.#address;
  }

  /** Open connections. */
  get connections(): number {
    return this.#sockets.size;
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
        resolve(this.#address);
      });
    });
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    const decoder = new PacketDecoder({ undefinedTcodes: 'header' });
    const own = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
    let scratch: Buffer | undefined = own;
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.#log.debug('epic-sim: connection', { peer });
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', (error) => this.#log.debug('epic-sim: socket error', { peer, error: error.message }));
    socket.on('drain', () => {
      scratch = own;
      socket.resume();
    });
    socket.on('data', (chunk: Buffer) => {
      let packets: ReturnType<PacketDecoder['push']>;
      try {
        packets = decoder.push(chunk);
      } catch (error) {
        // Cannot happen with undefined tcodes read as headers and the u16 limit; drop the peer if it does.
        this.#log.warn('epic-sim: undecodable input, closing', { peer, error: (error as Error).message });
        socket.destroy();
        return;
      }
      const faults = this.#options.faults;
      // Nothing queued on the socket: whatever was built in the connection's buffer has left.
      if (scratch === undefined && socket.writableLength === 0) scratch = own;
      for (const request of packets) {
        if (faults === undefined) {
          // The response is built in the connection's buffer. A write the kernel took at once leaves
          // nothing queued (writableLength 0) and the buffer free for the next response; otherwise the
          // stream holds it until everything queued has left, and responses get fresh memory till then.
          const response = this.device.handle(request, scratch);
          if (!socket.write(response)) socket.pause();
          if (scratch !== undefined && socket.writableLength !== 0) scratch = undefined;
          continue;
        }
        const response = this.device.handle(request);
        const fault = faults(request, response);
        if (fault === undefined) {
          if (!socket.write(response)) socket.pause();
        } else if (fault.kind === 'replace') {
          if (!socket.write(fault.bytes)) socket.pause();
        } else if (fault.kind === 'truncate') {
          socket.end(response.subarray(0, fault.bytes));
          return;
        }
      }
    });
  }

  /** Stops listening and closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const s of this.#sockets) s.destroy();
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
