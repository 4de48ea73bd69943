// Child process of `pymodaq.image-32MiB`: one side (`case` or `baseline`) streams 2048×2048 float64
// images (32 MiB each) from the connecting side to the accepting side over loopback and prints one JSON
// line: MiB/s over the timed stream, with its wall and CPU seconds, collections and page faults.
//
//   node --import tsx --expose-gc --max-semi-space-size=16 bench/child/pymodaq-image.ts case|baseline \
//     [--frames] [--min-time=S] [--count=N]
//
// Both sides run the same schedule: a warm-up stream on the established link (WARM_SECONDS, and until
// V8's new space has grown to its full size), a full collection, then a timed stream of back-to-back
// images until MIN_SECONDS of transfer time and MIN_FRAMES images. One image takes ~30–50 ms here, and
// V8 runs about one full collection per image on either side (the accepted socket allocates a 64 KiB
// Buffer per read, external memory that V8 counts), so a single image measures mostly where a
// collection fell; a second of images carries its share.
// `--frames` prints each timed image's milliseconds, collections and page faults to stderr; `--count=N`
// times exactly N images (e.g. two counts under `perf stat`: the difference is the cost of N images).

import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { MiB } from '../baselines';
import { baselineLink, IMAGE_BYTES, image, libraryLink, SEMI_SPACE_MIB } from '../pymodaq-image';

export interface ImageStreamResult {
  side: 'case' | 'baseline';
  /** MiB/s over the timed stream (wall clock). */
  mibs: number;
  frames: number;
  /** Wall seconds of the timed stream. */
  seconds: number;
  /** CPU seconds (user + system) of the process during the timed stream. */
  cpu: number;
  /**
   * Collections during the timed stream (perf_hooks 'gc' entries): young-generation scavenges, full
   * mark-compacts, incremental marking steps, and the main thread's total pause in ms.
   */
  gc: { scavenges: number; majors: number; incremental: number; ms: number };
  /** Minor page faults during the timed stream (first touches of memory). */
  faults: number;
  /**
   * The warm-up: images, seconds, and the new space's semi-space size in MiB it reached, after the full
   * collection before timing, and at the end of the timed stream.
   */
  warm: { frames: number; seconds: number; newSpaceMiB: number; afterGcMiB: number; endMiB: number };
  /** Per-image milliseconds: min, median, max. */
  frameMs: { min: number; median: number; max: number };
}

/** Warm-up stream on the established link before the timed one (code optimised, memory faulted in). */
const WARM_SECONDS = 0.5;
const WARM_FRAMES = 4;
/**
 * ... and until V8's new space has grown to its full size, as it has in a process that has streamed for
 * a while (at most WARM_MAX_SECONDS). The size decides how V8 meets the socket Buffers' memory: while
 * the new space is small it mostly scavenges; at full size it runs about one full mark-compact per image.
 * A plain `net` process gets there after ~130 images (~6 s), the library's after ~25; timing a young
 * plain process against a warmed library one compared two collector regimes, not two receive paths.
 * The children run with `--max-semi-space-size` at Node 20's default so the full size is known.
 */
const WARM_MAX_SECONDS = 15;

/** The new space's current semi-space size in MiB. */
function newSpaceMiB(): number {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return space ? space.space_size / MiB : 0;
}
/** The timed stream: at least this long and this many images. */
const MIN_SECONDS = 1;
const MIN_FRAMES = 16;
const MAX_FRAMES = 400;

/** Short names of perf_hooks GC kinds for `--frames`. */
const GC_KIND: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

const gcEntries: { start: number; ms: number; kind: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcEntries.push({
      start: e.startTime,
      ms: e.duration,
      kind: (e as unknown as { detail: { kind: number } }).detail.kind,
    });
  }
}).observe({ entryTypes: ['gc'] });

async function stream(side: 'case' | 'baseline', minSeconds: number, verbose: boolean, count?: number) {
  const data = image();
  const link = side === 'case' ? await libraryLink(data) : await baselineLink(data);
  try {
    const warmStart = performance.now();
    let warmFrames = 0;
    for (; warmFrames < 10_000; warmFrames++) {
      const warmed = performance.now() - warmStart;
      if (warmFrames >= WARM_FRAMES && warmed >= WARM_SECONDS * 1000 && newSpaceMiB() >= SEMI_SPACE_MIB)
        break;
      if (warmed >= WARM_MAX_SECONDS * 1000) break;
      await link.transfer();
    }
    const warm = {
      frames: warmFrames,
      seconds: (performance.now() - warmStart) / 1000,
      newSpaceMiB: newSpaceMiB(),
    };
    (globalThis as { gc?: () => void }).gc?.();
    const afterGc = newSpaceMiB();
    const frameMs: number[] = [];
    const cpu0 = process.cpuUsage();
    const faults0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    for (let i = 0; i < (count ?? MAX_FRAMES); i++) {
      if (count === undefined && i >= MIN_FRAMES && performance.now() - t0 >= minSeconds * 1000) break;
      const f0 = performance.now();
      const fFaults = verbose ? process.resourceUsage().minorPageFault : 0;
      await link.transfer();
      const f1 = performance.now();
      frameMs.push(f1 - f0);
      if (verbose) {
        const inFrame = gcEntries.filter((g) => g.start >= f0 && g.start < f1);
        const faults = process.resourceUsage().minorPageFault - fFaults;
        console.error(
          `${side} #${i}: ${(f1 - f0).toFixed(1)} ms, faults ${faults}, gc ${inFrame
            .map((g) => `${GC_KIND[g.kind] ?? g.kind}:${g.ms.toFixed(1)}`)
            .join(' ')}`,
        );
      }
    }
    const t1 = performance.now();
    const used = process.cpuUsage(cpu0);
    const faults = process.resourceUsage().minorPageFault - faults0;
    // The observer's entries arrive a turn or two late.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const inStream = gcEntries.filter((g) => g.start >= t0 && g.start < t1);
    const sorted = [...frameMs].sort((a, b) => a - b);
    const seconds = (t1 - t0) / 1000;
    const result: ImageStreamResult = {
      side,
      mibs: (frameMs.length * IMAGE_BYTES) / MiB / seconds,
      frames: frameMs.length,
      seconds,
      cpu: (used.user + used.system) / 1e6,
      gc: {
        scavenges: inStream.filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_MINOR).length,
        majors: inStream.filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length,
        incremental: inStream.filter((g) => g.kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL).length,
        ms: inStream.reduce((n, g) => n + g.ms, 0),
      },
      faults,
      warm: { ...warm, afterGcMiB: afterGc, endMiB: newSpaceMiB() },
      frameMs: { min: sorted[0]!, median: sorted[sorted.length >> 1]!, max: sorted[sorted.length - 1]! },
    };
    return result;
  } finally {
    await link.close();
  }
}

const side = process.argv[2];
if (side !== 'case' && side !== 'baseline') {
  console.error('usage: bench/child/pymodaq-image.ts case|baseline [--frames] [--min-time=S] [--count=N]');
  process.exit(2);
}
const option = (name: string) => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : Number(arg.slice(name.length + 3));
};
const result = await stream(
  side,
  option('min-time') ?? MIN_SECONDS,
  process.argv.includes('--frames'),
  option('count'),
);
console.log(JSON.stringify(result));
