// Helpers for the role and server tests: real sockets on 127.0.0.1, ephemeral ports, bounded waits.

import type { EventEmitter } from 'node:events';
import net from 'node:net';
import { ByteReader, concatBytes } from '@labwire/framing';
import { PymodaqServer } from '@labwire/pymodaq';
import {
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  type Generation,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { afterEach } from 'vitest';
import type { PymodaqServerOptions } from '../src/server';

/**
 * Registers an afterEach that closes, newest first, everything passed to the returned `track` during the
 * test (servers, clients); `track` returns its argument.
 */
export function closeAfterEach(): <T extends { close(): unknown }>(x: T) => T {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  return (x) => {
    open.push(x);
    return x;
  };
}

/**
 * Runs `body` with a `track` of its own (for concurrent tests, which cannot share closeAfterEach's list):
 * everything tracked is closed, newest first, when the body ends either way.
 */
export async function withCleanup<T>(
  body: (track: <U extends { close(): unknown }>(x: U) => U) => Promise<T>,
): Promise<T> {
  const open: { close(): unknown }[] = [];
  try {
    return await body((x) => {
      open.push(x);
      return x;
    });
  } finally {
    for (const x of open.splice(0).reverse()) await x.close();
  }
}

/** Every generation, in spec order. */
export const ALL: readonly Generation[] = ['A', 'B', 'C1', 'C2', 'C3', 'C4', 'D'];

/** The payload (first argument) of the next `event` that satisfies `accept`; rejects after `timeoutMs`. */
export function nextEvent<E extends Record<keyof E, unknown[]>, K extends keyof E & string>(
  emitter: EventEmitter<E>,
  event: K,
  accept: (payload: E[K][0]) => boolean = () => true,
  timeoutMs = 3000,
): Promise<E[K][0]> {
  const target = emitter as unknown as EventEmitter;
  return new Promise((resolve, reject) => {
    const listener = (payload: E[K][0]) => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      target.off(event, listener);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      target.off(event, listener);
      reject(new Error(`no '${String(event)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    target.on(event, listener);
  });
}

/** A listening server on an ephemeral port. */
export async function startServer(
  protocol: Generation,
  options: Partial<PymodaqServerOptions> = {},
): Promise<{ server: PymodaqServer; port: number }> {
  const server = new PymodaqServer({ protocol, port: 0, ...options });
  const { port } = await server.listen();
  return { server, port };
}

/** A hand-driven client: a plain socket plus a ByteReader, talking bytes made by the codec. */
export class RawClient {
  readonly socket: net.Socket;
  readonly reader: ByteReader;
  readonly profile;

  private constructor(socket: net.Socket, protocol: Generation) {
    this.socket = socket;
    this.socket.on('error', () => {});
    this.reader = new ByteReader(socket, { timeoutMs: 3000, maxFrame: 64 * 1024 * 1024 });
    this.profile = resolveProfile(protocol);
  }

  static connect(port: number, protocol: Generation): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => resolve(new RawClient(socket, protocol)));
      socket.once('error', reject);
    });
  }

  write(...parts: Uint8Array[]): void {
    this.socket.write(concatBytes(parts));
  }

  command(command: string): Uint8Array {
    return this.profile.encodeCommand(command);
  }

  /** Identifies with `type`. */
  identify(type: string): void {
    this.write(this.command(type));
  }

  /** Resolves when the server has closed the connection (EOF or reset). */
  closed(timeoutMs = 3000): Promise<void> {
    if (this.socket.destroyed || this.socket.readableEnded) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not close the connection')), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.socket.once('close', done);
      this.socket.once('end', done);
      this.socket.resume();
    });
  }

  destroy(): void {
    this.reader.close();
    this.socket.destroy();
  }
}

/** A small 2-D image as a detector sends it: a DataToExport holding one DataFromPlugins. */
export function image(width = 4, height = 3, name = 'camera'): DataToExport {
  const pixels = Float64Array.from({ length: width * height }, (_, i) => i / 2);
  const timestamp = 1_700_000_000;
  return dataToExport({
    name,
    timestamp,
    data: [dataFromPlugins({ name, timestamp, data: [NdArray.fromTyped(pixels, [height, width])] })],
  });
}

/** The first array of the first DataWithAxes (a detector's only image in most tests). */
export function firstArray(data: DataToExport): NdArray {
  return data.data[0]!.data[0]!;
}
