// Brokers for the session tests: aedes in this process, and a real Mosquitto child process on an
// ephemeral loopback port with a generated config (listener 127.0.0.1 only, anonymous allowed,
// no persistence), stopped by its PID.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitListening(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export function mosquittoAvailable(): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/local/sbin'])) {
    if (dir && fs.existsSync(path.join(dir, 'mosquitto'))) return true;
  }
  return false;
}

function mosquittoBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/local/sbin'])) {
    const p = path.join(dir, 'mosquitto');
    if (dir && fs.existsSync(p)) return p;
  }
  throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto; .ci/run installs it)');
}

export async function startMosquitto(): Promise<TestBroker> {
  const bin = mosquittoBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-mosquitto-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest none', ''].join(
      '\n',
    ),
  );
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    child.on('error', () => {});
    await waitListening(port, child);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      process.kill(c.pid!, 'SIGKILL');
    });
  };
  await launch();
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    kill,
    restart: launch,
    async close() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
