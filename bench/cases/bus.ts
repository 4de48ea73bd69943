// @labwire/bus benchmarks (issue 4): sequential `wrnrdUntil('*IDN?\n', '\n')` round trips against the tcpbus
// instrument simulator, against a plain `net` client doing the same exchange with the same simulator
// (`onread`, a byte scan for the LF, the next query written from the receive callback), measured in the
// same run (target >= 0.80); and, for context, the bus against TcpInterface alone.

import type net from 'node:net';
import { TcpBus } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import { TcpInterface } from '@labwire/tcp';
import { connect, deadline } from '../baselines';
import type { BenchCase } from '../harness';

const ROUND_TRIPS = 10_000;
const QUERY = '*IDN?\n';

/**
 * Raw net, as fast as a plain client does it: `onread` into one reused buffer, a byte scan for the LF,
 * the next query written from the receive callback. Round trips per second.
 */
async function rawLinePingPong(count: number): Promise<number> {
  const sim = await InstrumentSim.start();
  const query = Buffer.from(QUERY, 'latin1');
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const socket: net.Socket = await connect(sim.port, (bytes, n) => {
    for (let i = 0; i < n; i++) {
      if (bytes[i] !== 0x0a) continue;
      if (++done === count) return finish();
      socket.write(query);
    }
  });
  const t0 = performance.now();
  socket.write(query);
  await deadline(finished, 'rawLinePingPong');
  const seconds = (performance.now() - t0) / 1000;
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
    baselineName: 'raw net, onread client scanning for LF, same query, same simulator',
    baseline: () => rawLinePingPong(ROUND_TRIPS),
    run: () => busWrnrdUntil(ROUND_TRIPS),
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
    informational: true,
  },
];
