import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import { NdArray, PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';

const SIDE = 2048;
const pixels = new Float64Array(SIDE * SIDE);
const data = {
  name: 'camera',
  timestamp: 1,
  channels: [
    {
      name: 'camera',
      dim: 'Data2D' as const,
      arrays: [NdArray.fromTyped(pixels, [SIDE, SIDE])],
      labels: ['CH00'],
    },
  ],
};
const server = new PymodaqServer({ protocol: 'D', port: 0, role: 'detector', timeoutMs: 60_000 });
const { port } = await server.listen();
const detector = new PymodaqDetector({
  protocol: 'D',
  port,
  reconnect: false,
  timeoutMs: 60_000,
  handlers: { grab: () => data },
});
await detector.connect();
await server.waitForClient('GRABBER');
const session = new inspector.Session();
session.connect();
await session.post('Profiler.enable');
const out: string[] = [];
for (let i = 0; i < 10; i++) {
  if (i >= 2) await new Promise((r) => setTimeout(r, 300));
  if (i === 4) await session.post('Profiler.start');
  const t0 = performance.now();
  await server.grab('2D');
  out.push((performance.now() - t0).toFixed(0));
}
const { profile } = await session.post('Profiler.stop');
fs.writeFileSync('/tmp/wtb/img2.cpuprofile', JSON.stringify(profile));
console.log(out.join(' '));
await detector.close();
await server.close();
