// Loopback devices for the bus tests, on @labwire/testkit's LoopbackServer (127.0.0.1, port 0): each
// connection's received bytes are recorded so a test can check what reached the device.

import type net from 'node:net';
import { LoopbackServer, type ServerConnection } from '@labwire/testkit';

export interface DeviceConnection {
  readonly connection: ServerConnection;
  readonly socket: net.Socket;
  /** Everything received on this connection so far. */
  received(): Buffer;
  /** Resolves once the client closed its side (or the socket closed). */
  readonly ended: Promise<void>;
}

export interface Device {
  readonly server: LoopbackServer;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepts: number;
  /** The i-th accepted connection (0-based), once it exists. */
  connection(i: number): Promise<DeviceConnection>;
  close(): Promise<void>;
}

/**
 * Starts a device. `script` runs for every connection (default: silent); it may use the socket directly.
 * Received bytes are recorded from the socket's `data` events.
 */
export async function startDevice(
  script: (conn: DeviceConnection) => void = () => {},
  host: '127.0.0.1' | '::1' = '127.0.0.1',
): Promise<Device> {
  const connections: DeviceConnection[] = [];
  let waiters: (() => void)[] = [];
  const server = await LoopbackServer.start(
    (connection) => {
      const chunks: Buffer[] = [];
      const socket = connection.socket;
      socket.on('data', (d: Buffer) => chunks.push(d));
      const ended = new Promise<void>((resolve) => {
        socket.once('end', () => resolve());
        socket.once('close', () => resolve());
      });
      const conn: DeviceConnection = { connection, socket, received: () => Buffer.concat(chunks), ended };
      connections.push(conn);
      script(conn);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    { host },
  );
  return {
    server,
    get port() {
      return server.port;
    },
    get accepts() {
      return server.accepts;
    },
    connection(i) {
      return new Promise((resolve) => {
        const check = () => {
          const c = connections[i];
          if (c) resolve(c);
          else waiters.push(check);
        };
        check();
      });
    },
    close: () => server.close(),
  };
}

/** A device that answers every `\n`-terminated line with `<tag>:<line>\n`. */
export function lineEcho(tag = 'R'): (conn: DeviceConnection) => void {
  return ({ socket }) => {
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let at = buf.indexOf('\n');
      while (at >= 0) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 1);
        if (!socket.destroyed) socket.write(`${tag}:${line}\n`);
        at = buf.indexOf('\n');
      }
    });
  };
}

/** Resolves once `check` is true, polling on timers; rejects after `timeoutMs` (a test never hangs). */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets bytes cross the loopback (never used to assert on speed). */
export function pause(ms = 20): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/** The error a function throws (fails the test when it returns). */
export function thrown(run: () => unknown): Error & Record<string, unknown> {
  try {
    run();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected an exception, the call returned');
}
