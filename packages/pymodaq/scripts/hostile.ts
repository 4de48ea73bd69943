// The attacks of issue 12 against a PymodaqServer in a child process: peak server RSS and what the
// victim sees, for this package's sources and (with --before <src/index.ts>) an older copy.
//   node --conditions=@labwire/source --import tsx scripts/hostile.ts [--before /path/to/src/index.ts]
// The hostile suite (test/hostile.test.ts) asserts the bounds; this script measures the figures.

import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { resolveProfile } from '../src/codec/index';
import { GaussianDetector, PymodaqDetector } from '../src/index';

const here = import.meta.dirname;
const beforeAt = process.argv.indexOf('--before');
const sources: [string, string][] = [['after', path.join(here, '../src/index.ts')]];
if (beforeAt > 0) sources.unshift(['before', process.argv[beforeAt + 1]!]);

interface Child {
  port: number;
  /** Date.now() of each client identification the server reported. */
  identified: number[];
  ask(line: string): Promise<Record<string, number>>;
  stop(): void;
}

async function startChild(source: string, options: object): Promise<Child> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--conditions=@labwire/source',
      '--import',
      'tsx',
      path.join(here, 'hostile-server.ts'),
      source,
      JSON.stringify(options),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const queue: ((v: Record<string, number>) => void)[] = [];
  const identified: number[] = [];
  lines.on('line', (l) => {
    const msg = JSON.parse(l) as Record<string, number>;
    if ('event' in msg) identified.push(msg.at!);
    else queue.shift()?.(msg);
  });
  const next = () => new Promise<Record<string, number>>((r) => queue.push(r));
  const { port } = await next();
  return {
    port: port!,
    identified,
    ask(line) {
      const answer = next();
      child.stdin!.write(`${line}\n`);
      return answer;
    },
    stop: () => child.kill(),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.on('error', reject);
  });
}

/** How long until the server reports a newcomer (a real detector) identified, or that it never did. */
async function newcomer(child: Child, protocol: string, timeoutMs = 15_000): Promise<string> {
  const camera = new GaussianDetector({ width: 8, height: 4 });
  const detector = new PymodaqDetector({
    protocol,
    port: child.port,
    reconnect: false,
    handlers: camera.handlers(),
  });
  const seen = child.identified.length;
  const t0 = Date.now();
  try {
    await detector.connect({ timeoutMs });
    for (let waited = 0; child.identified.length <= seen && waited < timeoutMs; waited += 5)
      await new Promise((r) => setTimeout(r, 5));
    const at = child.identified[seen];
    return at === undefined ? 'not identified' : `identified after ${at - t0} ms`;
  } catch (e) {
    return `not served (${(e as Error).message.slice(0, 60)})`;
  } finally {
    await detector.close();
  }
}

function settings(bytes: number): string {
  const parts = ['<settings title="Settings" type="group">'];
  let size = 60;
  for (let i = 0; size < bytes - 120; i++) {
    const e = `<p${i} title="Parameter ${i}" type="float" visible="1" removable="0" readonly="0">${i}.5</p${i}>`;
    parts.push(e);
    size += e.length;
  }
  parts.push('</settings>');
  return parts.join('');
}

const results: Record<string, Record<string, string>> = {};
const note = (attack: string, which: string, text: string) => {
  results[attack] ??= {};
  results[attack][which] = text;
  process.stdout.write(`${attack} [${which}]: ${text}\n`);
};

for (const [which, source] of sources) {
  // 1. Eight maximal Infos on one connection (each version's own limit: 4 MiB of XML before, 1 MiB now).
  {
    const s = await startChild(source, { protocol: 'D', role: 'detector', timeoutMs: 60_000 });
    const p = resolveProfile('D');
    const size = which === 'before' ? 4 * 1024 * 1024 : 1024 * 1024;
    const xml = new TextEncoder().encode(settings(size - 64));
    const flood = await connect(s.port);
    flood.on('error', () => {});
    const one = Buffer.concat([p.encodeCommand('Infos'), p.encodeString(xml)]);
    await s.ask('peak');
    flood.write(Buffer.concat([p.encodeCommand('GRABBER'), one, one, one, one, one, one, one, one]));
    // The flood's first message is in: the server is busy with it when the newcomer arrives.
    while (s.identified.length === 0) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    const waited = await newcomer(s, 'D', 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    note(
      `8 maximal Infos (${size / 1048576} MiB), another client`,
      which,
      `${waited}, peak RSS ${(await s.ask('peak')).peakMiB} MiB`,
    );
    flood.destroy();
    s.stop();
  }
  // 2. 64 idle identified connections held, then 64 that never identify.
  for (const identify of [true, false]) {
    const s = await startChild(source, { protocol: 'C4', role: 'detector', handshakeTimeoutMs: 60_000 });
    const p = resolveProfile('C4');
    const held: net.Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const c = await connect(s.port).catch(() => undefined);
      if (c === undefined) continue;
      c.on('error', () => {});
      if (identify) c.write(p.encodeCommand('GRABBER'));
      held.push(c);
    }
    await new Promise((r) => setTimeout(r, 300));
    const waited = await newcomer(s, 'C4', 5000);
    note(
      `64 ${identify ? 'idle identified' : 'unidentified'} connections held, a newcomer`,
      which,
      `${waited}, peak RSS ${(await s.ask('peak')).peakMiB} MiB`,
    );
    for (const c of held) c.destroy();
    s.stop();
  }
  // 3. A message dripped over 5 s with readTimeoutMs 2000 (C4 and D).
  for (const gen of ['C4', 'D']) {
    const s = await startChild(source, { protocol: gen, readTimeoutMs: 2000 });
    const p = resolveProfile(gen);
    const c = await connect(s.port);
    c.on('error', () => {});
    c.write(p.encodeCommand('GRABBER'));
    await new Promise((r) => setTimeout(r, 200));
    const message = Buffer.concat([p.encodeCommand('Info'), p.encodeInfo('temperature', '21.5')]);
    const every = 5000 / message.length;
    const t0 = performance.now();
    const closedAt = new Promise<number>((r) => c.once('close', () => r(performance.now() - t0)));
    for (let i = 0; i < message.length && !c.destroyed; i++) {
      c.write(message.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, every));
    }
    const verdict = await Promise.race([
      closedAt.then((ms) => `refused after ${Math.round(ms)} ms`),
      new Promise<string>((r) =>
        setTimeout(() => r('accepted (still connected after the whole message)'), 500),
      ),
    ]);
    note(`${gen} message dripped over 5 s, readTimeoutMs 2000`, which, verdict);
    c.destroy();
    s.stop();
  }
  // 4. A gen C message of 256 MiB in 32 MiB blocks (each within the 64 MiB block limit).
  {
    const s = await startChild(source, { protocol: 'C4', role: 'detector', readTimeoutMs: 60_000 });
    const p = resolveProfile('C4');
    const c = await connect(s.port);
    c.on('error', () => {});
    c.write(p.encodeCommand('GRABBER'));
    await new Promise((r) => setTimeout(r, 200));
    await s.ask('peak');
    // Done, then a DataToExport claiming 8 DataWithAxes of one 32 MiB array each.
    const block = new Uint8Array(32 * 1024 * 1024);
    const { dataFromPlugins } = await import('../src/codec/index');
    const { NdArray } = await import('../src/codec/index');
    const dwa = p.encodeTagged(
      dataFromPlugins({ name: 'x', data: [new NdArray('|u1', [block.length], block)] }),
    );
    const head = Buffer.concat([
      c === undefined ? Buffer.alloc(0) : p.encodeCommand('Done'),
      p.encodeString('DataToExport'),
      p.encodeValue(1.5),
      p.encodeString('dte'),
      Buffer.from([0, 0, 0, 8]),
    ]);
    let refused = false;
    c.once('close', () => {
      refused = true;
    });
    c.write(head);
    let sent = 0;
    for (let i = 0; i < 8 && !refused; i++) {
      if (!c.write(dwa)) await new Promise((r) => c.once('drain', r).once('close', r));
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1000));
    note(
      'gen C message of 8 x 32 MiB blocks',
      which,
      `${refused ? `refused after ${sent} block(s)` : 'accepted whole'}, peak RSS ${(await s.ask('peak')).peakMiB} MiB`,
    );
    c.destroy();
    s.stop();
  }
  // 5. 200 x 1 MiB set_info to a client that never reads.
  {
    const s = await startChild(source, { protocol: 'D', timeoutMs: 120_000 });
    const p = resolveProfile('D');
    const c = await connect(s.port);
    c.on('error', () => {});
    c.pause();
    c.write(p.encodeCommand('GRABBER'));
    await new Promise((r) => setTimeout(r, 200));
    await s.ask('peak');
    const r = await s.ask('setinfo 200');
    note(
      '200 x 1 MiB set_info to a client that never reads',
      which,
      `${r.refused} refused at once, peak RSS ${r.peakMiB} MiB`,
    );
    c.destroy();
    s.stop();
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
