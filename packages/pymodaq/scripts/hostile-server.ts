// Child process of hostile.ts: one PymodaqServer from the sources at argv[2] (this package's src, or a
// copy of an older one), with the options in argv[3]. Prints `{"port":…}`, then answers stdin lines:
// `peak` (peak RSS since the last `peak`, MiB), `setinfo N` (N × 1 MiB set_info to the latest client,
// prints how many were refused at once), `clients`.

import { pathToFileURL } from 'node:url';

const [source, json] = process.argv.slice(2);
const mod = (await import(pathToFileURL(source!).href)) as typeof import('../src/index');
const server = new mod.PymodaqServer({ port: 0, ...(JSON.parse(json!) as { protocol: string }) });
server.on('clientError', () => {});
server.on('client', (c) =>
  process.stdout.write(`${JSON.stringify({ event: 'client', id: c.id, at: Date.now() })}\n`),
);
const { port } = await server.listen();
let peak = process.memoryUsage().rss;
setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5).unref();
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
say({ port });
let buffered = '';
process.stdin.on('data', (chunk: Buffer) => {
  buffered += chunk.toString();
  for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
    const line = buffered.slice(0, at).trim();
    buffered = buffered.slice(at + 1);
    void handle(line);
  }
});

async function handle(line: string): Promise<void> {
  if (line === 'peak') {
    peak = Math.max(peak, process.memoryUsage().rss);
    say({ peakMiB: Math.round(peak / 1048576) });
    peak = process.memoryUsage().rss;
  } else if (line === 'clients') {
    say({ clients: server.clients.length });
  } else if (line.startsWith('setinfo')) {
    const n = Number(line.split(' ')[1]);
    const node = mod.parameter('notes', { type: 'text', value: 'x'.repeat(1024 * 1024) });
    let refused = 0;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const sent = server.setInfo(['notes'], node, { timeoutMs: 120_000 }).catch(() => {
        refused++;
      });
      sends.push(sent);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    peak = Math.max(peak, process.memoryUsage().rss);
    say({ refused, peakMiB: Math.round(peak / 1048576) });
  }
}
