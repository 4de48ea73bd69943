// The simulator's UDP server: one request per datagram, one response datagram back to the sender
// (docs/protocols/optommp.md §1: the SDK's OpenEnet2(…, SIOMM_UDP), OmmpNET).

import dgram from 'node:dgram';
import net from 'node:net';
import { type Logger, silentLogger } from '@labwire/framing';
import { PacketDecoder } from '../codec/packet-decoder';
import type { EpicDevice } from './device';
import type { FaultHook } from './faults';
import type { AnswerBehaviour, BoundAddress } from './tcp-server';

export interface UdpServerOptions extends Omit<AnswerBehaviour, 'pipelining'> {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  faults?: FaultHook;
  logger?: Logger;
}

export class OptoMmpUdpServer implements AsyncDisposable {
  readonly device: EpicDevice;
  readonly #options: UdpServerOptions;
  readonly #socket: dgram.Socket;
  readonly #log: Logger;
  #address: BoundAddress | undefined;
  #closing: Promise<void> | undefined;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(device: EpicDevice, options: UdpServerOptions = {}) {
    this.device = device;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    const host = options.host ?? '127.0.0.1';
    this.#socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    this.#socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
  }

  get address(): BoundAddress {
    if (this.#address === undefined) throw new Error('OptoMmpUdpServer: not bound');
    return this.#address;
  }

  listen(): Promise<BoundAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#socket.once('error', onError);
      this.#socket.bind(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => {
        this.#socket.off('error', onError);
        this.#socket.on('error', (error) => this.#log.error('epic-sim: udp error', { error: error.message }));
        const a = this.#socket.address();
        this.#address = { host: a.address, port: a.port };
        resolve(this.#address);
      });
    });
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const decoder = new PacketDecoder({ undefinedTcodes: 'header' });
    let packets: ReturnType<PacketDecoder['push']>;
    try {
      packets = decoder.push(msg);
    } catch (error) {
      this.#log.debug('epic-sim: undecodable datagram ignored', { error: (error as Error).message });
      return;
    }
    for (const request of packets) {
      const response = this.device.handle(request);
      const fault = this.#options.faults?.(request, response);
      const bytes =
        fault === undefined
          ? response
          : fault.kind === 'replace'
            ? fault.bytes
            : fault.kind === 'truncate'
              ? response.subarray(0, fault.bytes)
              : undefined;
      if (bytes === undefined) continue;
      const delay =
        (this.#options.latencyMs ?? 0) +
        (this.#options.random ?? Math.random)() * (this.#options.jitterMs ?? 0);
      if (delay <= 0) {
        this.#socket.send(bytes, rinfo.port, rinfo.address);
        continue;
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#socket.send(bytes, rinfo.port, rinfo.address);
      }, delay);
      this.#timers.add(timer);
    }
  }

  /** Closes the socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      if (this.#address === undefined) {
        try {
          this.#socket.close(() => resolve());
        } catch {
          resolve();
        }
        return;
      }
      this.#socket.close(() => resolve());
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
