// @labwire/bus benchmarks (issue 4): sequential `wrnrdUntil('*IDN?\n', '\n')` round trips against the tcpbus
// instrument simulator, against a raw-socket line ping-pong with the same query on the same simulator,
// measured in the same run (target >= 0.80); and, for context, the bus against TcpInterface alone.

import net from 'node:net';
import { TcpBus } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import { TcpInterface } from '@labwire/tcp';
import type { BenchCase } from '../harness';

const ROUND_TRIPS = 10_000;
const QUERY = '*IDN?\n';

/** Raw net: write the query, wait for the LF of the reply, repeat. Round trips per second. */
async function rawLinePingPong(count: number): Promise<number> {
  const sim = await InstrumentSim.start();
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: sim.port, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const query = Buffer.from(QUERY, 'latin1');
  const seconds = await new Promise<number>((resolve) => {
    let done = 0;
    let pending = '';
    const t0 = performance.now();
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let at = pending.indexOf('\n');
      while (at >= 0) {
        pending = pending.slice(at + 1);
        if (++done === count) {
          resolve((performance.now() - t0) / 1000);
          return;
        }
        socket.write(query);
        at = pending.indexOf('\n');
      }
    });
    socket.write(query);
  });
  socket.destroy();
  await sim.close();
  return count / seconds;
}

/** The bus: one configured link, `wrnrdUntil` in a loop. Round trips per second. */
async function busWrnrdUntil(count: number): Promise<number> {
  const sim = await InstrumentSim.start();
  const bus = new TcpBus({ defaultTimeoutMs: 5_000 });
  bus.init(1, sim.confString());
  await bus.config(1);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await bus.wrnrdUntil(1, '*IDN?\\n', '\\n');
  const seconds = (performance.now() - t0) / 1000;
  await bus.close();
  await sim.close();
  return count / seconds;
}

/** The layer underneath: TcpInterface.request + ByteReader.readUntil, the same exchange without the bus. */
async function tcpRequestUntil(count: number): Promise<number> {
  const sim = await InstrumentSim.start();
  const tcp = new TcpInterface('127.0.0.1', sim.port, { timeoutMs: 5_000 });
  await tcp.connect();
  const query = new TextEncoder().encode(QUERY);
  const eot = [new Uint8Array([0x0a])];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await tcp.request(query, (reader, o) => reader.readUntil(eot, o));
  const seconds = (performance.now() - t0) / 1000;
  await tcp.close();
  await sim.close();
  return count / seconds;
}

export const cases: BenchCase[] = [
  {
    name: 'bus.wrnrdUntil-idn',
    metric: 'round trips',
    unit: 'rt/s',
    target: 0.8,
    compare: 'ratio>=',
    baselineName: 'raw net line ping-pong, same query, same simulator',
    baseline: () => rawLinePingPong(ROUND_TRIPS),
    run: () => busWrnrdUntil(ROUND_TRIPS),
    runs: 7,
  },
  {
    // What the bus itself costs (registry lookup, escapes, eot list, text mode, error mapping): the same
    // exchange straight on TcpInterface is the baseline. For context; the target above is the contract.
    name: 'bus.overhead-vs-tcp',
    metric: 'round trips',
    unit: 'rt/s',
    target: 0.95,
    compare: 'ratio>=',
    baselineName: 'TcpInterface.request + readUntil, same query, same simulator',
    baseline: () => tcpRequestUntil(ROUND_TRIPS),
    run: () => busWrnrdUntil(ROUND_TRIPS),
    runs: 5,
    informational: true,
  },
];
