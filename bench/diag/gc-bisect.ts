// Which side of the 30 Hz stream of 1 MiB frames makes V8 run full collections? Counts the collections by
// kind while a gen D detector (`lib`) or plain `net` writing the same bytes (`raw`) streams to a
// PymodaqServer (`lib`) or a plain `net` sink (`raw`). RELEASE=1: the server's user hands frames back.
//   node --import tsx bench/diag/gc-bisect.ts lib-lib|raw-lib|lib-raw|raw-raw [seconds]
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';
import { dataFromPlugins, dataToExport, NdArray, resolveProfile } from '@labwire/pymodaq/codec';

const mode = process.argv[2] ?? 'lib-lib';
const seconds = Number(process.argv[3] ?? 6);
const gcs: Record<string, number> = {};
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) {
    const k = String((e as unknown as { detail: { kind: number } }).detail.kind);
    gcs[k] = (gcs[k] ?? 0) + 1;
  }
}).observe({ entryTypes: ['gc'] });
const [clientKind, serverKind] = mode.split('-');
let port: number;
let server: PymodaqServer | undefined;
if (serverKind === 'lib') {
  server = new PymodaqServer({ protocol: 'D', role: 'detector', port: 0, maxMessageBytes: 64 << 20 });
  port = (await server.listen()).port;
  server.on('data', (e) => {
    if (process.env.RELEASE) server!.release(e.data);
  });
} else {
  const s = net.createServer((sock) => {
    sock.on('data', () => {});
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  port = (s.address() as net.AddressInfo).port;
}
const pixels = new Float64Array(512 * 256);
const frame = (i: number) =>
  dataToExport({
    name: 'camera',
    timestamp: i,
    data: [dataFromPlugins({ name: 'camera', timestamp: i, data: [NdArray.fromTyped(pixels, [512, 256])] })],
  });
let send: (i: number) => void;
if (clientKind === 'lib') {
  const d = new PymodaqDetector({
    protocol: 'D',
    port,
    reconnect: false,
    handlers: {
      grab: () => {
        throw new Error('x');
      },
    },
  });
  await d.connect();
  send = (i) => void d.push(frame(i)).catch(() => {});
} else {
  const p = resolveProfile('D');
  const c = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((r) => c.once('connect', r));
  c.write(p.encodeCommand('GRABBER'));
  const parts = [p.encodeCommand('Done'), ...p.encodeDetectorDataParts(frame(0))];
  send = () => {
    c.cork();
    for (const x of parts) c.write(x);
    c.uncork();
  };
}
if (server) await server.waitForClient('GRABBER');
const period = 1000 / 30;
const t0 = performance.now();
for (const k of Object.keys(gcs)) delete gcs[k];
for (let i = 0; i < seconds * 30; i++) {
  const wait = t0 + i * period - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  send(i);
}
console.log(
  mode,
  process.env.RELEASE ? 'release' : '',
  JSON.stringify(gcs),
  '(1 scavenge, 4 mark-compact, 8 incremental)',
);
process.exit(0);
