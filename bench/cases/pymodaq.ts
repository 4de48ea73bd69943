// @labwire/pymodaq benchmarks (issues 6 and 18):
// - a 2048×2048 float64 image (32 MiB) in a DataToExport from a detector client to the server, against
//   plain `net` doing the same exchange in the same topology: the accepting side sends the same
//   `Send Data 2D` request, the connecting side answers with the same reply bytes written the same way
//   (small parts joined, the array in 1 MiB slices), the accepting side receives them into a reused
//   buffer through `onread`, as the server's sessions read their accepted sockets (framing's
//   adoptOnread; before issue 16's fourth pass both sides read 'data' events). Each sample is a stream of images
//   for at least a second in a fresh child process per side (bench/child/pymodaq-image.ts), after the
//   same warm-up, with the same malloc policy (target >= 0.70). The server's user hands each image back
//   (`server.release`) once it checked it, so the server too receives into reused memory;
// - the peak RSS growth of that transfer, in a fresh process, relative to the payload (target <= 3);
// - sequential `move_abs` round trips server → actuator client → server, against raw round trips with the
//   same message sizes (target >= 0.75; PyMoDAQ's own server manages about 10 messages per second), in
//   gen B (the roles' own cost), C4 and D (a DataActuator position encoded and decoded four times per
//   round trip).
//
// This file doubles as the child process of the RSS case: `node … bench/cases/pymodaq.ts --rss-child`.

import { PymodaqActuator, PymodaqServer } from '@labwire/pymodaq';
import { rawExchange } from '../baselines';
import type { ImageStreamResult } from '../child/pymodaq-image';
import { type BenchCase, rssSampler, runChild, type Sample } from '../harness';
import { bridgeCases, moveSizes } from '../pymodaq-bridge';
import { IMAGE_BYTES, image, libraryLink, PROTOCOL, SEMI_SPACE_MIB } from '../pymodaq-image';

const MOVES = 10_000;
/** Untimed moves on each new link first, so the timed ones measure the steady state. */
const WARMUP_MOVES = 1000;

/**
 * glibc's malloc policy of both image children: keep freed heap memory instead of trimming it. The
 * accepted socket of either side allocates a 64 KiB Buffer per read (512 per image), which V8 frees in
 * bulk at its collections; with glibc's default dynamic thresholds, whether the heap top then goes back
 * to the kernel (and is faulted in again, ~130 ms of CPU per 32 MiB here) changes from process to
 * process and over a process's life (350–6,500 faults per image on either side in the same minute),
 * which decided single pairs more than anything else. With both sides warmed the same way (see the
 * child) the fixed policy helps plain `net` more than the library, so it is the stronger baseline; the
 * `-default-malloc` row shows the default, bench/README.md the figures.
 */
const STEADY_MALLOC = { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=268435456' };

/**
 * One side of the image case in a child process of its own (bench/child/pymodaq-image.ts): a warm-up
 * stream (until V8's new space has its full size, as in a process that has streamed for a while), then
 * a timed stream of back-to-back images for at least a second (and 16 images), MiB/s over
 * it with the child's own wall and CPU seconds. Fresh processes for both sides alike: in one process the
 * side that runs second pays for the collections the other side's retained memory causes (alternating
 * in one process made plain `net` look 1.3-1.4x slower than the library).
 */
async function imageInChild(side: 'case' | 'baseline', env?: NodeJS.ProcessEnv): Promise<Sample> {
  const r = await runChild<ImageStreamResult>('bench/child/pymodaq-image.ts', [side], 120_000, {
    ...(env ? { env } : {}),
    // Node 20's default, stated so the child knows when its new space has grown to full size.
    execArgv: [`--max-semi-space-size=${SEMI_SPACE_MIB}`],
  });
  return { value: r.mibs, seconds: r.seconds, cpu: r.cpu };
}

async function moveRoundTrips(protocol: string): Promise<number> {
  const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
  const { port } = await server.listen();
  let position = 0;
  const actuator = new PymodaqActuator({
    protocol,
    port,
    units: 'mm',
    reconnect: false,
    handlers: {
      moveAbs: (target) => {
        position = target;
        return target;
      },
      getActuatorValue: () => position,
    },
  });
  try {
    await actuator.connect();
    await server.waitForClient('ACTUATOR');
    for (let i = 0; i < WARMUP_MOVES; i++) await server.moveAbs(-i);
    const t0 = performance.now();
    for (let i = 0; i < MOVES; i++) {
      const reached = await server.moveAbs(i);
      if (reached.value !== i) throw new Error(`move ${i} reported ${reached.value}`);
    }
    return MOVES / ((performance.now() - t0) / 1000);
  } finally {
    await actuator.close();
    await server.close();
  }
}

/**
 * Child process: the peak RSS growth while one 32 MiB image of a stream arrives and the server prepares
 * its receive buffer for the next one (the sender's image and the first frame exist before the
 * measurement; the first frame also warms the code paths).
 */
async function rssChild(firstFrame: boolean): Promise<void> {
  const link = await libraryLink(image());
  if (!firstFrame) {
    await link.transfer();
    await link.transfer();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  (globalThis as { gc?: () => void }).gc?.();
  const sampler = rssSampler(1);
  await link.transfer();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const growth = sampler.stop();
  await link.close();
  console.log(JSON.stringify({ payload: IMAGE_BYTES, growth, growthRatio: growth / IMAGE_BYTES }));
}

/**
 * Sequential moves in one generation against raw round trips with the same message sizes. In PyMoDAQ the
 * server asks and the actuator client answers; in the raw exchange the client asks. Either way each round
 * trip has one read on a connecting socket and one on an accepted socket, both through `onread` into a
 * reused landing buffer (the server's sessions adopt it for their accepted sockets, framing's
 * adoptOnread; the raw server does the same).
 */
function moveCase(protocol: 'B' | 'C4' | 'D', note: string): BenchCase {
  const sizes = moveSizes(protocol);
  return {
    name: protocol === 'B' ? 'pymodaq.move-abs' : `pymodaq.move-abs-${protocol}`,
    metric: `sequential move_abs -> move_done, ${MOVES} round trips (gen ${protocol}: ${note})`,
    unit: 'round trips/s',
    target: 0.75,
    compare: 'ratio>=',
    baselineName: `raw net round trips, ${sizes.request} B out / ${sizes.reply} B back`,
    baseline: () =>
      rawExchange({ request: sizes.request, replyBytes: sizes.reply, count: MOVES, serverReceive: 'onread' }),
    run: () => moveRoundTrips(protocol),
  };
}

export const cases: BenchCase[] = [
  {
    name: 'pymodaq.image-32MiB',
    metric: `2048x2048 <f8 DataToExport, detector -> server, a stream of images for >= 1 s per sample (gen ${PROTOCOL})`,
    unit: 'MiB/s',
    target: 0.7,
    compare: 'ratio>=',
    baselineName:
      "raw net, same request and reply bytes and writes, received by the accepting side (onread, as the server's sessions) into a reused buffer; each sample a fresh process per side, same warm-up and malloc policy",
    baseline: () => imageInChild('baseline', STEADY_MALLOC),
    run: () => imageInChild('case', STEADY_MALLOC),
    minRuns: 7,
  },
  {
    name: 'pymodaq.image-32MiB-default-malloc',
    metric: "the same stream with glibc's default malloc thresholds (heap trimmed and faulted in again)",
    unit: 'MiB/s',
    target: 0.7,
    compare: 'ratio>=',
    informational: true,
    baselineName: 'raw net as above, default malloc',
    baseline: () => imageInChild('baseline'),
    run: () => imageInChild('case'),
  },
  {
    name: 'pymodaq.image-32MiB-rss',
    metric:
      'peak RSS growth / payload: the first image on a fresh link (fresh process; sender image pre-allocated)',
    unit: 'x',
    target: 3,
    compare: 'value<=',
    baselineName: '-',
    run: async () =>
      (await runChild<{ growthRatio: number }>('bench/cases/pymodaq.ts', ['--rss-child', '--first-frame']))
        .growthRatio,
    runs: 3,
    noWarmup: true,
  },
  {
    name: 'pymodaq.image-32MiB-rss-stream',
    metric: 'peak RSS growth / payload: one image of a running stream + next buffer prepared (fresh process)',
    unit: 'x',
    target: 3,
    compare: 'value<=',
    informational: true,
    baselineName: '-',
    run: async () =>
      (await runChild<{ growthRatio: number }>('bench/cases/pymodaq.ts', ['--rss-child'])).growthRatio,
    runs: 3,
    noWarmup: true,
  },
  // Gen B positions are 19-byte scalars: this measures the roles and the server themselves.
  moveCase('B', '19-byte scalar positions'),
  // C4 and D positions are DataActuators (163 and 265 bytes), encoded and decoded four times per round trip.
  moveCase('C4', 'DataActuator positions'),
  moveCase('D', 'DataActuator frames'),
  // Issue 16: the generation bridge (bench/pymodaq-bridge.ts).
  ...bridgeCases,
];

if (process.argv.includes('--rss-child')) await rssChild(process.argv.includes('--first-frame'));
