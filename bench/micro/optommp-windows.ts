// Pipelined module reads at several windows against one simulated device in a child process, with the
// CPU time of both processes per read (the steadier figure on a busy machine; pinned, the two share one
// CPU, so the rate converges to 1 / (client CPU + device CPU) per read on an idle machine).
//
//   taskset -c 1 node --import tsx bench/micro/optommp-windows.ts [raw|client|both] [1,16] [count] [reps]
//   PROF=/tmp/client.cpuprofile …   a CPU profile of the client's last measured run (steady state)
//
// The raw side is the bench's baseline: requests freed by one receive callback leave in one write.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import inspector from 'node:inspector';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { OptoMmpClient } from '@labwire/optommp';
import { encodeReadBlockRequest, epicAnalogReadAddress, offsetOf } from '@labwire/optommp/codec';

const MODULE_BYTES = 63 * 0x40 + 0x14;
const REQUEST = Buffer.from(
  encodeReadBlockRequest({ tl: 1, offset: offsetOf(epicAnalogReadAddress(2, 0)), dataLength: MODULE_BYTES }),
);
const REQUESTS = Buffer.concat(Array.from({ length: 32 }, () => REQUEST));
const [side = 'both', windowsText = '1,16', countText = '10000', repsText = '5'] = process.argv.slice(2);
const windows = windowsText.split(',').map(Number);
const count = Number(countText);
const reps = Number(repsText);
const PROF = process.env.PROF;

async function clientReads(port: number, window: number): Promise<number> {
  const client = new OptoMmpClient({
    host: '127.0.0.1',
    port,
    timeoutMs: 5_000,
    maxBlockBytes: 4096,
    window,
  });
  await client.connect();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await client.readAnalogModule(2);
    }
  };
  const w0 = performance.now();
  const u0 = process.cpuUsage();
  for (let i = 0; i < 50; i++) await client.readAnalogModule(2);
  const u1 = process.cpuUsage(u0);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const u2 = process.cpuUsage(u0);
  if (process.env.PHASES)
    console.log(
      'warm-up',
      (t0 - w0).toFixed(0),
      'ms',
      ((u1.user + u1.system) / 1000).toFixed(0),
      'ms CPU; run',
      (seconds * 1000).toFixed(0),
      'ms',
      ((u2.user + u2.system - u1.user - u1.system) / 1000).toFixed(0),
      'ms CPU',
    );
  const t = client.transport as { pipeline?: { stats: { sent: number; writes: number } } };
  if (process.env.STATS && t.pipeline) console.log('pipeline', t.pipeline.stats);
  await client.close();
  return count / seconds;
}

/**
 * The same reads with `readBlocksInto`: two callers, each asking for a window's worth of modules into its
 * own memory at a time (one promise per window), so the link never idles between batches.
 */
async function batchReads(port: number, window: number): Promise<number> {
  const client = new OptoMmpClient({
    host: '127.0.0.1',
    port,
    timeoutMs: 5_000,
    maxBlockBytes: 4096,
    window,
  });
  await client.connect();
  const address = epicAnalogReadAddress(2, 0);
  // BATCH=n: n modules per call (default a window), with enough callers for two windows' worth.
  const per = Number(process.env.BATCH ?? window);
  const batchOf = () => {
    const into = new Uint8Array(per * MODULE_BYTES);
    return Array.from({ length: per }, (_, i) => ({
      address,
      length: MODULE_BYTES,
      into,
      at: i * MODULE_BYTES,
    }));
  };
  let next = 0;
  const worker = async () => {
    const blocks = batchOf();
    while (next < count) {
      const n = Math.min(per, count - next);
      next += n;
      await client.readBlocksInto(n === per ? blocks : blocks.slice(0, n));
    }
  };
  await client.readBlocksInto(batchOf());
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.max(2, Math.ceil((2 * window) / per)) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const t = client.transport as { pipeline?: { stats: { sent: number; writes: number } } };
  if (process.env.STATS && t.pipeline) console.log('pipeline', t.pipeline.stats);
  await client.close();
  return count / seconds;
}

async function rawReads(port: number, window: number): Promise<number> {
  const replyBytes = 16 + MODULE_BYTES;
  let sent = 0;
  let received = 0;
  let bytes = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const socket: net.Socket = net.connect({
    port,
    host: '127.0.0.1',
    noDelay: true,
    onread: {
      buffer: Buffer.alloc(64 * 1024),
      callback: (n: number) => {
        bytes += n;
        let more = 0;
        while (bytes >= replyBytes) {
          bytes -= replyBytes;
          received++;
          if (sent + more < count) more++;
        }
        if (more > 0) socket.write(REQUESTS.subarray(0, 16 * more));
        sent += more;
        if (received >= count) done();
        return true;
      },
    },
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  const t0 = performance.now();
  sent = Math.min(window, count);
  socket.write(REQUESTS.subarray(0, 16 * sent));
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  return count / seconds;
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    ...process.execArgv.filter((a) => a.startsWith('--conditions')),
    path.resolve(import.meta.dirname, '../cases/optommp.ts'),
    '--optommp-fleet-child',
    '1',
  ],
  { cwd: path.resolve(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'inherit'] },
);
const lines = readline.createInterface({ input: child.stdout! });
const port = (JSON.parse(await new Promise<string>((r) => lines.once('line', r))) as { ports: number[] })
  .ports[0]!;
/** The device process's CPU so far, µs (/proc counts 100 ticks per second). */
const deviceCpu = () => {
  const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const session = new inspector.Session();
session.connect();
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))),
  );

const rows = new Map<string, { rate: number[]; mine: number[]; device: number[] }>();
for (let r = 0; r <= reps; r++) {
  for (const w of windows) {
    for (const s of side === 'both'
      ? ['raw', 'client']
      : side === 'all'
        ? ['raw', 'client', 'batch']
        : [side]) {
      const profile = PROF !== undefined && r === reps && s === (process.env.PROF_SIDE ?? 'client');
      if (profile) {
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 50 });
        await post('Profiler.start');
      }
      const d0 = deviceCpu();
      const c0 = process.cpuUsage();
      const rate =
        s === 'raw'
          ? await rawReads(port, w)
          : s === 'batch'
            ? await batchReads(port, w)
            : await clientReads(port, w);
      const c = process.cpuUsage(c0);
      const d = deviceCpu() - d0;
      if (profile) {
        const { profile: p } = (await post('Profiler.stop')) as { profile: unknown };
        fs.writeFileSync(PROF!, JSON.stringify(p));
      }
      if (r === 0) continue; // warm-up
      const row = rows.get(`${s} w${w}`) ?? { rate: [], mine: [], device: [] };
      row.rate.push(rate);
      row.mine.push((c.user + c.system) / count);
      row.device.push(d / count);
      rows.set(`${s} w${w}`, row);
    }
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
for (const [name, row] of rows) {
  const total = row.mine.map((m, i) => m + row.device[i]!);
  console.log(
    `${name.padEnd(10)} ${median(row.rate).toFixed(0).padStart(7)} reads/s   CPU per read: this process ${median(row.mine).toFixed(1)} µs, device ${median(row.device).toFixed(1)} µs, both ${median(total).toFixed(1)} µs`,
  );
}
child.stdin!.end();
