// What this machine gives a 30 Hz stream of 1 MiB frames through a relay, in plain Node `net` (issue 16a):
// detector -> relay -> viewer, the bridge stream's topology with no library at all. Each frame is a 16-byte
// header (u32 BE payload length, u32 BE index, f64 BE send time in ms of the monotonic clock, which
// process.hrtime reads the same in every process of the machine) and 1 MiB of payload. The relay and the
// viewer accept their peer (as a bridge and a PyMoDAQ viewer do), so they read through 'data' events (an
// accepted socket cannot take `onread`), copy each frame into one of two reused buffers, and the relay
// forwards a frame as soon as it is complete. Latency: send time to the viewer's last byte.
//
//   node --import tsx bench/diag/plain-relay.ts in-process|processes [seconds] [--pin]
//     processes: each role in a process of its own; --pin puts detector+viewer on CPU 0 and the relay
//     on CPU 1 (the placement of the bridge bench under `pnpm bench --pin`).
//   node --import tsx bench/diag/plain-relay.ts --role viewer|relay|detector [port] [seconds]

import { spawn } from 'node:child_process';
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';

const FRAME = 1024 * 1024;
const HEADER = 16;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Reassembles frames from an accepted socket's 'data' chunks into two reused buffers. */
function frames(socket: net.Socket, onFrame: (frame: Uint8Array, index: number, sentMs: number) => void) {
  const bufs = [new Uint8Array(HEADER + FRAME), new Uint8Array(HEADER + FRAME)];
  let which = 0;
  let have = 0;
  let need = HEADER;
  socket.on('data', (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) {
      const buf = bufs[which]!;
      const n = Math.min(need - have, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), have);
      have += n;
      off += n;
      if (have === HEADER && need === HEADER) {
        need = HEADER + new DataView(buf.buffer).getUint32(0);
        if (need > buf.length) throw new Error('frame too large');
      }
      if (have === need && need > HEADER) {
        const view = new DataView(buf.buffer);
        onFrame(buf.subarray(0, need), view.getUint32(4), view.getFloat64(8));
        which ^= 1;
        have = 0;
        need = HEADER;
      }
    }
  });
}

function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer({ noDelay: true }, onSocket);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

// BALLAST=MB keeps that much in the old generation, as any real program has (tsx, a CLI, a viewer): above
// 8 MB V8 may start incremental marking, and then every external byte allocated since the last full
// collection (each 'data' chunk's memory) counts against the old generation's limit.
const ballast = Array.from({ length: Number(process.env.BALLAST ?? 0) * 16 }, () =>
  new Array<number>(8192).fill(0.5),
);
const gcs = { n: 0, mc: 0, ms: 0, cpuMs: 0, ballast: ballast.length };
const cpu0 = process.cpuUsage();
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    gcs.n++;
    gcs.ms += e.duration;
    if ((e as unknown as { detail: { kind: number } }).detail.kind === 4) gcs.mc++;
  }
}).observe({ entryTypes: ['gc'] });

async function viewer(onReady: (port: number) => void): Promise<number[]> {
  const latencies: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const port = await listen((s) => {
    frames(s, (_f, index, sentMs) => {
      if (index !== 0xffffffff) latencies[index] = nowMs() - sentMs;
    });
    s.on('end', () => {
      s.end();
      done();
    });
  });
  onReady(port);
  await finished;
  return latencies;
}

async function relay(viewerPort: number, onReady: (port: number) => void): Promise<void> {
  const out = await connect(viewerPort);
  let closed!: () => void;
  const finished = new Promise<void>((r) => {
    closed = r;
  });
  const port = await listen((s) => {
    frames(s, (f) => out.write(f));
    s.on('end', () => {
      out.end();
      s.end();
      closed();
    });
  });
  onReady(port);
  await finished;
}

async function detector(relayPort: number, seconds: number): Promise<void> {
  const s = await connect(relayPort);
  const ring = Array.from({ length: 8 }, () => new Uint8Array(FRAME));
  const head = new Uint8Array(HEADER);
  const view = new DataView(head.buffer);
  const period = 1000 / 30;
  const warmup = 60;
  const total = Math.round(seconds * 30);
  const t0 = performance.now() + 100;
  for (let i = -warmup; i < total; i++) {
    const wait = t0 + (i + warmup) * period - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // A fresh header per frame: write() keeps a reference until the bytes are in the kernel.
    const h = new Uint8Array(head.length);
    view.setUint32(0, FRAME + HEADER - HEADER);
    view.setUint32(4, i < 0 ? 0xffffffff : i);
    view.setFloat64(8, nowMs());
    h.set(head);
    s.cork();
    s.write(h);
    s.write(ring[(i + warmup) % ring.length]!);
    s.uncork();
  }
  await new Promise((r) => setTimeout(r, 500));
  await new Promise<void>((r) => s.end(r));
}

function report(label: string, latencies: number[], total: number) {
  const got = latencies.filter((x) => x !== undefined);
  const s = [...got].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);
  console.log(
    `${label}: ${got.length}/${total} frames; latency median ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms`,
  );
}

function child(role: string, args: string[], cpu?: string) {
  const argv = ['--import', 'tsx', import.meta.filename, '--role', role, ...args];
  const p = spawn(
    cpu === undefined ? process.execPath : 'taskset',
    cpu === undefined ? argv : ['-c', cpu, process.execPath, ...argv],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const firstLine = new Promise<string>((resolve) => {
    const check = () => {
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
      else setTimeout(check, 20);
    };
    check();
  });
  const exited = new Promise<string>((resolve) => p.on('exit', () => resolve(out)));
  return { firstLine, exited };
}

const roleAt = process.argv.indexOf('--role');
if (roleAt >= 0) {
  const role = process.argv[roleAt + 1];
  const port = Number(process.argv[roleAt + 2]);
  if (role === 'viewer') {
    const latencies = await viewer((p) => console.log(JSON.stringify({ port: p })));
    gcs.cpuMs = Math.round((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000);
    console.log(JSON.stringify({ latencies, gcs }));
  } else if (role === 'relay') {
    await relay(port, (p) => console.log(JSON.stringify({ port: p })));
    gcs.cpuMs = Math.round((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000);
    console.error(`  relay GCs: ${JSON.stringify(gcs)}`);
  } else {
    await detector(port, Number(process.argv[roleAt + 3]));
    console.log('{}');
  }
  process.exit(0);
} else {
  const mode = process.argv[2] === 'processes' ? 'processes' : 'in-process';
  const seconds = Number(process.argv[3] ?? 20);
  const pin = process.argv.includes('--pin');
  const total = Math.round(seconds * 30);
  if (mode === 'in-process') {
    let viewerPort!: number;
    const lat = viewer((p) => {
      viewerPort = p;
    });
    await new Promise((r) => setTimeout(r, 50));
    let relayPort!: number;
    void relay(viewerPort, (p) => {
      relayPort = p;
    });
    await new Promise((r) => setTimeout(r, 50));
    await detector(relayPort, seconds);
    report('plain net, in one process', await lat, total);
    console.log(`  GCs: ${JSON.stringify(gcs)}`);
  } else {
    const v = child('viewer', [], pin ? '0' : undefined);
    const viewerPort = (JSON.parse(await v.firstLine) as { port: number }).port;
    const r = child('relay', [String(viewerPort)], pin ? '1' : undefined);
    const relayPort = (JSON.parse(await r.firstLine) as { port: number }).port;
    const d = child('detector', [String(relayPort), String(seconds)], pin ? '0' : undefined);
    await d.exited;
    await r.exited;
    const lines = (await v.exited).trim().split('\n');
    const res = JSON.parse(lines.at(-1)!) as { latencies: number[]; gcs: unknown };
    report(
      `plain net, three processes${pin ? ' (detector+viewer CPU 0, relay CPU 1)' : ''}`,
      res.latencies,
      total,
    );
    console.log(`  viewer GCs: ${JSON.stringify(res.gcs)}`);
  }
}
