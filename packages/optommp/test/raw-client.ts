// A minimal raw OptoMMP peer for simulator tests: write packets, read whole packets back.

import dgram from 'node:dgram';
import net from 'node:net';
import { ByteReader } from '@labwire/framing';
import { readPacket } from '@labwire/optommp/codec';
import type { DecodedPacket } from '../src/codec/decode';

export class RawTcpPeer implements AsyncDisposable {
  readonly socket: net.Socket;
  readonly reader: ByteReader;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.reader = new ByteReader(socket, { timeoutMs: 2000 });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawTcpPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timed out'));
      }, 2000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawTcpPeer(socket));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Sends one packet and reads one packet back. */
  async exchange(bytes: Uint8Array): Promise<Uint8Array> {
    this.write(bytes);
    return this.readRaw();
  }

  readPacket(): Promise<DecodedPacket> {
    return readPacket(this.reader, { timeoutMs: 2000 });
  }

  /** Reads one packet and returns its bytes. */
  async readRaw(): Promise<Uint8Array> {
    const head = await this.reader.readExactly(12);
    const tcode = head[3]! >> 4;
    if (tcode === 2) return head;
    const rest = await this.reader.readExactly(4);
    if (tcode !== 7) return Uint8Array.from([...head, ...rest]);
    const n = (rest[0]! << 8) | rest[1]!;
    const data = await this.reader.readExactly(n);
    return Uint8Array.from([...head, ...rest, ...data]);
  }

  async close(): Promise<void> {
    this.reader.close();
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else {
        this.socket.once('close', () => resolve());
        this.socket.destroy();
      }
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Sends one datagram and waits (bounded) for one back. */
export async function udpExchange(port: number, bytes: Uint8Array, timeoutMs = 2000): Promise<Uint8Array> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram')), timeoutMs);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(new Uint8Array(msg));
      });
      socket.send(bytes, port, '127.0.0.1');
    });
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
