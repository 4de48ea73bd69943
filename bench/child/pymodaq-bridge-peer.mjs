// The bridge or the viewer of the bridge benchmarks (bench/pymodaq-bridge.ts) as a process of its own, in
// plain JavaScript on the built packages: a process like the one `pymodaq bridge` or a viewer runs in a
// lab, without the TypeScript loader, which alone adds about 3 MB to the old generation (4.8 MB -> 7.9 MB
// for a listening bridge). That matters here: V8 starts incremental marking only above 8 MB of old
// generation, and above it every byte an accepted socket receives counts towards the next full collection.
// Used when the bench runs on the built packages; `bench:src` runs the same roles from the TypeScript file.
//
//   node bench/child/pymodaq-bridge-peer.mjs --bridge-child <serverPort> | --viewer-child
//
// It speaks JSON lines on stdout: the bridge `{port}`; the viewer `{port}`, `{ready}`, `{warm}` and, once
// its stdin closes, `{arrivals}` (monotonic ms by frame index). Both print a summary of their collections
// and CPU time on stderr when their stdin closes. Constants must match bench/pymodaq-bridge.ts.

import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { PymodaqBridge, PymodaqServer } from '@labwire/pymodaq';

const CLIENTS = 'C4';
const SERVER = 'D';
const MAX_MESSAGE = 64 * 1024 * 1024;

const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

function gcCounter() {
  const kinds = { 1: 'scavenge', 2: 'minor-mc', 4: 'mark-compact', 8: 'incremental' };
  const seen = new Map();
  const cpu0 = process.cpuUsage();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[e.detail?.kind ?? 0] ?? 'other';
      const k = seen.get(kind) ?? { n: 0, ms: 0, max: 0 };
      k.n++;
      k.ms += e.duration;
      k.max = Math.max(k.max, e.duration);
      seen.set(kind, k);
    }
  }).observe({ entryTypes: ['gc'] });
  return () => {
    const cpu = process.cpuUsage(cpu0);
    const old = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'old_space');
    const gcText = [...seen].map(
      ([k, v]) => `${k} ${v.n}x ${v.ms.toFixed(0)} ms (longest ${v.max.toFixed(1)})`,
    );
    return `CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms; GC ${gcText.join(', ') || 'none'}; old space ${((old?.space_used_size ?? 0) / 2 ** 20).toFixed(1)} MiB`;
  };
}

const stdinEnded = () => {
  process.stdin.resume();
  return new Promise((resolve) => process.stdin.once('end', resolve));
};

async function bridgeChild(serverPort) {
  const summary = gcCounter();
  const bridge = new PymodaqBridge({
    clientProtocol: CLIENTS,
    serverProtocol: SERVER,
    port: 0,
    serverPort,
    maxMessageBytes: MAX_MESSAGE,
    timeoutMs: 60_000,
  });
  const { port } = await bridge.listen();
  say({ port });
  await stdinEnded();
  await bridge.close();
  process.stderr.write(`    bridge process (plain JS): ${summary()}\n`);
}

async function viewerChild() {
  const summary = gcCounter();
  const server = new PymodaqServer({
    protocol: SERVER,
    role: 'detector',
    port: 0,
    maxMessageBytes: MAX_MESSAGE,
    timeoutMs: 60_000,
    readTimeoutMs: 60_000,
  });
  const { port } = await server.listen();
  const arrivals = [];
  let warm = false;
  server.on('data', (e) => {
    const now = monotonicMs();
    const index = e.data.timestamp;
    if (index >= 0) arrivals[index] = now;
    if (!warm && index >= -1) {
      warm = true;
      say({ warm: true });
    }
    // Done with the frame, as a viewer is once it drew it: its memory takes the next one.
    server.release(e.data);
  });
  say({ port });
  const ended = stdinEnded();
  await Promise.race([
    server.waitForClient('GRABBER', { timeoutMs: 30_000 }).then(() => say({ ready: true })),
    ended,
  ]);
  await ended;
  await server.close();
  process.stderr.write(`    viewer process (plain JS): ${summary()}\n`);
  say({ arrivals });
}

const at = process.argv.indexOf('--bridge-child');
if (at >= 0) await bridgeChild(Number(process.argv[at + 1]));
else if (process.argv.includes('--viewer-child')) await viewerChild();
else {
  process.stderr.write('usage: pymodaq-bridge-peer.mjs --bridge-child <serverPort> | --viewer-child\n');
  process.exit(2);
}
