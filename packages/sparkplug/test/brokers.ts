// Brokers for the session tests: aedes in this process, and a real Mosquitto child process on an
// ephemeral loopback port with a generated config (listener 127.0.0.1 only, anonymous allowed,
// no persistence), stopped by its PID (@labwire/testkit's startMosquitto).

import net from 'node:net';
import { mosquittoAvailable, startMosquitto as startMosquittoBroker } from '@labwire/testkit';
import { Aedes } from 'aedes';

export interface TestBroker {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Stops the broker abruptly (aedes: destroy every connection and stop listening; mosquitto: SIGKILL). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** What aedes saw a client do, in order (the wire view the observer cannot have). */
export interface BrokerEvent {
  clientId: string;
  kind: 'connect' | 'subscribe' | 'publish';
  connect?: {
    clean: boolean;
    protocolVersion: number;
    will?: { topic: string; payload: Buffer; qos: number; retain: boolean };
  };
  subscriptions?: Array<{ topic: string; qos: number }>;
  publish?: { topic: string; qos: number; retain: boolean; payload: Buffer };
}

export interface AedesBroker extends TestBroker {
  readonly broker: Aedes;
  /** Every CONNECT, SUBSCRIBE and PUBLISH aedes received from clients, in order. */
  readonly events: BrokerEvent[];
  /** Drops one client's TCP connection (the broker then sends its will). */
  dropClient(clientId: string): void;
  /** Stops (or resumes) reading one client's socket: the kernel buffers fill and the client sees backpressure. */
  pauseClient(clientId: string, paused: boolean): void;
}

export async function startAedes(): Promise<AedesBroker> {
  const events: BrokerEvent[] = [];
  const instrument = (b: Aedes) => {
    b.preConnect = (_client, packet, callback) => {
      const p = packet as unknown as {
        clean: boolean;
        protocolVersion: number;
        clientId: string;
        will?: { topic: string; payload: Buffer; qos: number; retain: boolean };
      };
      events.push({
        clientId: p.clientId,
        kind: 'connect',
        connect: { clean: p.clean, protocolVersion: p.protocolVersion, ...(p.will ? { will: p.will } : {}) },
      });
      callback(null, true);
    };
    b.on('subscribe', (subscriptions, client) => {
      events.push({
        clientId: client.id,
        kind: 'subscribe',
        subscriptions: subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })),
      });
    });
    b.on('publish', (packet, client) => {
      if (!client) return;
      events.push({
        clientId: client.id,
        kind: 'publish',
        publish: {
          topic: packet.topic,
          qos: packet.qos,
          retain: packet.retain,
          payload: Buffer.from(packet.payload as Buffer),
        },
      });
    });
    return b;
  };
  let broker = instrument(await Aedes.createBroker());
  let server = net.createServer(broker.handle);
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  server.on('connection', track);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  };
  const self: AedesBroker = {
    name: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get broker() {
      return broker;
    },
    events,
    pauseClient(clientId, paused) {
      const client = (broker as unknown as { clients: Record<string, { conn: net.Socket }> }).clients[
        clientId
      ];
      if (paused) client?.conn.pause();
      else client?.conn.resume();
    },
    dropClient(clientId) {
      const client = (broker as unknown as { clients: Record<string, { conn: net.Socket }> }).clients[
        clientId
      ];
      client?.conn.destroy();
    },
    kill: stop,
    async restart() {
      broker = instrument(await Aedes.createBroker());
      server = net.createServer(broker.handle);
      server.on('connection', track);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
    },
    close: async () => {
      if (server.listening) await stop();
    },
  };
  return self;
}

export { mosquittoAvailable };

/** Mosquitto from @labwire/testkit, as a TestBroker. */
export async function startMosquitto(): Promise<TestBroker> {
  return startMosquittoBroker();
}
