// Micro benchmark of the receive path alone, without sockets: the chunks an `onread` socket would hand
// over (64 KiB landing buffer, refilled from a stream of u32-BE frames, one chunk per macrotask so that
// microtasks run between chunks as they do after every socket read) go either to a plain state machine
// copying payloads into a reused destination (the baselines' receiver) or to OnreadSource + ByteReader
// readFrame({ into }). Kernel work is left out, so what remains is what the library adds per chunk and
// per frame. `tsx bench/micro/receive-path.ts [raw|lab|both] [frameBytes] [frames] [rounds]`; under
// callgrind, compare the instruction counts of `raw` and `lab`.

import { ByteReader, OnreadSource } from '@labwire/framing';
import { LANDING_BYTES, RawFrameReceiver, reusedDestination } from '../baselines';

const [mode = 'both', sizeText = String(1 << 20), framesText = '128', roundsText = '5'] =
  process.argv.slice(2);
const size = Number(sizeText);
const frames = Number(framesText);
const rounds = Number(roundsText);

const stream = (() => {
  const out = new Uint8Array((4 + size) * frames);
  const view = new DataView(out.buffer);
  for (let i = 0; i < frames; i++) {
    view.setUint32(i * (4 + size), size);
    out.fill(i & 0xff, i * (4 + size) + 4, (i + 1) * (4 + size));
  }
  return out;
})();
const landing = new Uint8Array(LANDING_BYTES);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Hands `stream` to `callback` in landing-buffer chunks, one per macrotask. */
async function deliver(callback: (n: number, buf: Uint8Array) => unknown): Promise<void> {
  for (let at = 0; at < stream.length; at += LANDING_BYTES) {
    const n = Math.min(LANDING_BYTES, stream.length - at);
    landing.set(stream.subarray(at, at + n));
    callback(n, landing);
    await tick();
  }
}

async function raw(): Promise<number> {
  const dest = reusedDestination(size);
  const receiver = new RawFrameReceiver(
    () => dest,
    () => {},
  );
  const t0 = performance.now();
  await deliver((n, buf) => receiver.push(buf, n));
  const ms = performance.now() - t0;
  if (receiver.frames !== frames) throw new Error(`raw: ${receiver.frames} frames`);
  return ms;
}

async function lab(): Promise<number> {
  const dest = reusedDestination(size);
  const source = new OnreadSource();
  const reader = new ByteReader(source, { maxFrame: size, timeoutMs: 30_000 });
  const t0 = performance.now();
  let got = 0;
  const reading = (async () => {
    for (let i = 0; i < frames; i++) got += (await reader.readFrame({ into: dest })).length;
  })();
  await deliver(source.onread.callback);
  await reading;
  const ms = performance.now() - t0;
  reader.close();
  if (got !== frames * size) throw new Error(`lab: ${got} bytes`);
  return ms;
}

const sides = mode === 'both' ? [raw, lab] : mode === 'raw' ? [raw] : [lab];
const times = new Map<string, number[]>(sides.map((s) => [s.name, []]));
for (let r = 0; r < rounds; r++)
  for (const s of r % 2 ? [...sides].reverse() : sides) times.get(s.name)!.push(await s());
for (const [name, t] of times) {
  t.sort((a, b) => a - b);
  console.log(`${name}: median ${t[t.length >> 1]!.toFixed(1)} ms (${t.map((x) => x.toFixed(0)).join(' ')})`);
}
