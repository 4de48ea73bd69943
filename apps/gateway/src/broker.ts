// The embedded MQTT broker (aedes), for a gateway started without --broker: the gateway, and anyone on
// this machine, connect to it on 127.0.0.1 (another address only with --allow-remote).
//
// Settings and why:
// - noDelay on every connection: Sparkplug DATA messages are small and latency-bound; with Nagle a
//   message to a subscriber can wait for the ACK of the previous one (the peer's delayed-ACK timer).
// - Client ids up to 128 characters: MQTT 3.1.1 only obliges brokers to take 23, and Sparkplug edge nodes
//   derive theirs from group and edge node ids, which are often longer.
// - A slow subscriber is bounded: aedes stops delivering to a connection whose socket does not drain and
//   drops it after `drainTimeoutMs`; a client that connects and never sends CONNECT is dropped after
//   `connectTimeoutMs`; `maxConnections` caps the sockets.

import net from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBrokerOptions {
  host?: string;
  /** 0 picks a free port. Default 1883. */
  port?: number;
  /** Default 1 000. */
  maxConnections?: number;
  /** A subscriber whose socket does not drain for this long is disconnected. Default 30 000. */
  drainTimeoutMs?: number;
  /** A connection that sends no CONNECT within this long is closed. Default 10 000. */
  connectTimeoutMs?: number;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** `mqtt://host:port` (IPv6 in brackets). */
  readonly url: string;
  readonly connections: number;
  /** Closes every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker({
    maxClientsIdLength: 128,
    drainTimeout: options.drainTimeoutMs ?? 30_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  server.maxConnections = options.maxConnections ?? 1_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 1883, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `mqtt://${hostPort(host, port)}`,
    get connections() {
      return sockets.size;
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
      })();
      return closing;
    },
  };
}
