// Micro benchmark of the one-request-at-a-time OptoMMP path: CPU microseconds per round trip (this
// process: client, simulator or raw server, and the kernel's loopback work on their behalf), for the
// client's uptime read and 64-channel module read against the EPIC simulator, and for raw `net` round
// trips of the same sizes (bench/baselines.ts: rawExchange). Sides alternate, `rounds` times each; the
// median per side is printed with its range. CPU time, not wall time, so that a shared machine disturbs
// the figures less; run it pinned (`taskset -c 1`) as `pnpm bench --pin` does.
//
//   taskset -c 1 node --import tsx --conditions=@labwire/source bench/micro/sequential.ts [uptime|module|both|tcp|simulator|client-vs-simulator] [count] [rounds]

import { OptoMmpClient } from '@labwire/optommp';
import { Address, encodeReadBlockRequest, epicAnalogReadAddress, offsetOf } from '@labwire/optommp/codec';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { TcpInterface } from '@labwire/tcp';
import { listen, rawExchange, rawReplyServer } from '../baselines';

const [which = 'both', countText = '20000', roundsText = '7'] = process.argv.slice(2);
const count = Number(countText);
const rounds = Number(roundsText);
const MODULE_BYTES = 63 * 0x40 + 0x14;

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function timed(fn: () => Promise<void>, n: number): Promise<{ cpu: number; wall: number }> {
  const c0 = cpuUs();
  const t0 = performance.now();
  await fn();
  return { cpu: (cpuUs() - c0) / n, wall: ((performance.now() - t0) * 1000) / n };
}

const sim = await EpicSimulator.start({ maxBlockBytes: 4096 });
const client = new OptoMmpClient({
  host: '127.0.0.1',
  port: sim.port,
  timeoutMs: 5_000,
  maxBlockBytes: 4096,
});
await client.connect();

const sides: Record<string, () => Promise<{ cpu: number; wall: number }>> = {
  'client uptime': () =>
    timed(async () => {
      for (let i = 0; i < count; i++) await client.uptime();
    }, count),
  'raw 16/20': () =>
    timed(async () => {
      await rawExchange({ request: 16, replyBytes: 20, count });
    }, count),
  'client module': () =>
    timed(async () => {
      for (let i = 0; i < count; i++) await client.readAnalogModule(2);
    }, count),
  'raw 16/4068': () =>
    timed(async () => {
      await rawExchange({ request: 16, replyBytes: 16 + MODULE_BYTES, count });
    }, count),
};
// A raw client on the simulator itself: what the device model costs against a raw server.
const rawOnSimulator = (address: number, length: number) => () =>
  timed(async () => {
    const request = encodeReadBlockRequest({ offset: offsetOf(address), dataLength: length });
    await rawExchange({ request, replyBytes: 16 + length, count }, { port: sim.port });
  }, count);
sides['raw on simulator, uptime'] = rawOnSimulator(Address.Uptime, 4);
sides['raw on simulator, module'] = rawOnSimulator(epicAnalogReadAddress(2, 0), MODULE_BYTES);
// tcp's own request path (no at-hand taker), as bench/cases/tcp.ts measures it: 16 B out, 24 B back.
sides['tcp request'] = async () => {
  const server = rawReplyServer(16, 24);
  const port = await listen(server);
  const tcp = new TcpInterface('127.0.0.1', port, { timeoutMs: 5_000 });
  await tcp.connect();
  const request = new Uint8Array(16).fill(0x51);
  const result = await timed(async () => {
    for (let i = 0; i < count; i++) await tcp.request(request, (r, o) => r.readExactly(24, o));
  }, count);
  await tcp.close();
  server.close();
  return result;
};
sides['raw 16/24'] = () =>
  timed(async () => {
    await rawExchange({ request: 16, replyBytes: 24, count });
  }, count);
const pairs: [string, string][] = [];
if (which === 'tcp') pairs.push(['tcp request', 'raw 16/24']);
if (which === 'uptime' || which === 'both') pairs.push(['client uptime', 'raw 16/20']);
if (which === 'module' || which === 'both') pairs.push(['client module', 'raw 16/4068']);
if (which === 'client-vs-simulator') {
  pairs.push(['client uptime', 'raw on simulator, uptime']);
  pairs.push(['client module', 'raw on simulator, module']);
}
if (which === 'simulator') {
  pairs.push(['raw on simulator, uptime', 'raw 16/20']);
  pairs.push(['raw on simulator, module', 'raw 16/4068']);
}

if (which.startsWith('only:')) {
  // One side alone, `rounds` times (for perf / --cpu-prof): `only:client uptime`.
  const side = sides[which.slice(5)];
  if (side === undefined)
    throw new Error(`no side ${which.slice(5)}; sides: ${Object.keys(sides).join(', ')}`);
  for (let r = 0; r < rounds; r++)
    console.log(`${which.slice(5)}: ${(await side()).cpu.toFixed(2)} µs CPU/op`);
  pairs.length = 0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [caseName, baseName] of pairs) {
  // Warm-up: both sides reach the optimising compiler.
  await sides[caseName]!();
  await sides[baseName]!();
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const caseCpu: number[] = [];
  const baseCpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = first ? await sides[caseName]!() : undefined;
    const b = await sides[baseName]!();
    const c = a ?? (await sides[caseName]!());
    ratios.push(b.wall / c.wall);
    cpuRatios.push(b.cpu / c.cpu);
    caseCpu.push(c.cpu);
    baseCpu.push(b.cpu);
  }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;
  console.log(
    `${caseName}: ${median(caseCpu).toFixed(2)} µs CPU/op, ${baseName}: ${median(baseCpu).toFixed(2)} µs; ` +
      `cpu ratio ${median(cpuRatios).toFixed(3)} (${range(cpuRatios)}), wall ratio ${median(ratios).toFixed(3)} (${range(ratios)})`,
  );
}
await client.close();
await sim.close();
