// Which side of pymodaq.image-32MiB costs what: a stream of 32 MiB gen D images with the library or plain
// `net` on either end. `lib-lib` is the case's link and `raw-raw` its baseline's (bench/pymodaq-image.ts);
// `raw-lib` is a plain sender (the detector's handshake bytes replayed, then the same reply bytes) into a
// PymodaqServer, `lib-raw` a PymodaqDetector answering a plain receiver. Prints MiB/s, CPU MiB/s,
// collections and page faults.
//   node --import tsx --expose-gc bench/diag/image-bisect.ts lib-lib|raw-lib|lib-raw|raw-raw [frames]
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { connect, listen, MiB, writeSliced } from '../baselines';
import {
  baselineLink,
  image,
  imageDetector,
  imageExchange,
  imageServer,
  libraryLink,
} from '../pymodaq-image';

const MODES = ['lib-lib', 'raw-lib', 'lib-raw', 'raw-raw'];
const mode = process.argv[2] ?? 'lib-lib';
if (!MODES.includes(mode)) {
  console.error(`usage: bench/diag/image-bisect.ts ${MODES.join('|')} [frames]`);
  process.exit(2);
}
const frames = Number(process.argv[3] ?? 24);
const [sender, receiver] = mode.split('-') as ['lib' | 'raw', 'lib' | 'raw'];
const data = image();
const { request, reply } = imageExchange(data);
const total = reply.reduce((n, x) => n + x.length, 0);
const gcs = { scavenge: 0, major: 0, ms: 0 };
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    const kind = (e as unknown as { detail: { kind: number } }).detail.kind;
    if (kind === 1) gcs.scavenge++;
    if (kind === 4) gcs.major++;
    gcs.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const settle = () => new Promise((r) => setTimeout(r, 300));

/** The bytes a PymodaqDetector sends on connecting (its handshake), captured from a plain listener. */
async function handshakeBytes(): Promise<Buffer> {
  const server = net.createServer();
  const port = await listen(server);
  const got: Buffer[] = [];
  server.once('connection', (s) => s.on('data', (c: Buffer) => got.push(c)));
  const d = imageDetector(port, data);
  await d.connect();
  await settle();
  await d.close();
  server.close();
  return Buffer.concat(got);
}

/** Sets up the link of `mode`; returns one transfer: the request's write to the reply's last byte. */
async function link(): Promise<() => Promise<void>> {
  if (sender === receiver) {
    const both = sender === 'lib' ? await libraryLink(data) : await baselineLink(data);
    return () => both.transfer();
  }
  if (receiver === 'lib') {
    const server = imageServer();
    const { port } = await server.listen();
    const hello = await handshakeBytes();
    // A plain detector: the handshake, then the reply to every request, written as the baseline writes it.
    let pending = 0;
    const s: net.Socket = await connect(port, (_b, n) => {
      pending += n;
      while (pending >= request.length) {
        pending -= request.length;
        void (async () => {
          for (const part of reply) await writeSliced(s, part);
        })();
      }
    });
    s.write(hello);
    await server.waitForClient('GRABBER');
    return async () => {
      server.release(await server.grab('2D'));
    };
  }
  // A plain receiver in the server's place, as the baseline receives: 'data' events into one buffer.
  const server = net.createServer({ noDelay: true });
  const port = await listen(server);
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  await imageDetector(port, data).connect();
  const asker = await accepted;
  const dest = new Uint8Array(total);
  let got = -1;
  let done: (() => void) | undefined;
  asker.on('data', (chunk: Buffer) => {
    if (got < 0) return; // the detector's handshake
    const take = Math.min(chunk.length, total - got);
    dest.set(take === chunk.length ? chunk : chunk.subarray(0, take), got);
    got += take;
    if (got === total) done?.();
  });
  await settle();
  return () => {
    got = 0;
    const arrived = new Promise<void>((r) => {
      done = r;
    });
    asker.write(request);
    return arrived;
  };
}

const transfer = await link();
for (let i = 0; i < 6; i++) await transfer();
(globalThis as { gc?: () => void }).gc?.();
const g0 = { ...gcs };
const f0 = process.resourceUsage().minorPageFault;
const c0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < frames; i++) await transfer();
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
const cpu = (c.user + c.system) / 1e6;
const mib = (frames * total) / MiB;
console.log(
  `${mode}: ${(mib / seconds).toFixed(0)} MiB/s, cpu ${(mib / cpu).toFixed(0)} MiB/cpu-s, faults/frame ${((process.resourceUsage().minorPageFault - f0) / frames).toFixed(0)}, scavenges ${gcs.scavenge - g0.scavenge}, majors ${gcs.major - g0.major}, gc ms ${(gcs.ms - g0.ms).toFixed(0)}`,
);
process.exit(0);
