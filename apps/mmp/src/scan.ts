// `mmp scan <fleet file>`: reads a fleet of devices with the Scanner of @labwire/optommp until Ctrl-C,
// --duration or --count, then prints the statistics. Loaded on first use.

import fs from 'node:fs/promises';
import { LiveBlock, terminalWidth, UsageError } from '@labwire/cli-kit';
import { type FleetConfig, parseFleetFile, Scanner, watchPointName } from '@labwire/optommp';
import type { MmpIo } from './io';
import {
  type DeviceRow,
  float32Names,
  formatStats,
  healthLine,
  renderTable,
  type ScanSummary,
  statsLine,
  valuesLine,
  valueTexts,
} from './scan-view';

export interface ScanContext {
  io: MmpIo;
  json: boolean;
}

export interface ScanOptions {
  /** Stop after this long, ms. */
  duration?: number | undefined;
  /** Stop once every group has had this many scans (failed, missed and skipped slots count). */
  count?: number | undefined;
  /** Time between two redraws of the table, ms. */
  refreshMs?: number;
}

/** Output lines are dropped (and counted) while stdout holds more than this, unread. */
const MAX_UNREAD_OUTPUT = 8 * 1024 * 1024;

/** Some devices never delivered a good scan: the run's exit status is 1. */
export class ScanIncompleteError extends Error {
  readonly code = 'ScanIncomplete';
  override readonly name = 'ScanIncompleteError';
}

/** Reads and checks the fleet file: a file that cannot be read, or is invalid, is a usage error (2). */
export async function readFleet(file: string): Promise<FleetConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read fleet file ${file}: ${(error as Error).message}`);
  }
  // FleetFileError (code FleetFileInvalid, each bad field with its path) is a usage error in cli.ts.
  return parseFleetFile(text, { format: /\.json$/i.test(file) ? 'json' : 'yaml', source: file });
}

export async function scan(c: ScanContext, file: string, opts: ScanOptions): Promise<void> {
  const fleet = await readFleet(file);
  const scanner = new Scanner(fleet);
  const floats = float32Names(fleet, watchPointName);
  const tty = c.io.stdout.isTTY === true && !c.json;
  const out = c.io.stdout as MmpIo['stdout'] & {
    writableLength?: number;
    rows?: number;
    on?: (event: 'error', listener: (error: NodeJS.ErrnoException) => void) => unknown;
  };
  let linesDropped = 0;
  // The reader of stdout went away (`mmp scan fleet.yaml | head`): stop scanning, quietly, like a tool
  // ended by SIGPIPE, instead of an unhandled EPIPE with a stack trace.
  let outputGone = false;
  let outputError: NodeJS.ErrnoException | undefined;
  let stop: (() => void) | undefined;
  const onOutputError = (error: NodeJS.ErrnoException) => {
    outputGone = true;
    if (error.code !== 'EPIPE') outputError ??= error;
    stop?.();
  };
  // Stays attached: the last lines may still be in flight when scan() returns (and the process ends).
  out.on?.('error', onOutputError);
  const writeLine = (line: string) => {
    if (outputError !== undefined) {
      throw Object.assign(new Error(`cannot write to stdout: ${outputError.message}`), {
        code: outputError.code,
      });
    }
    if (outputGone) return;
    // A reader that does not keep up (a slow pipe) must not make this process grow without bound.
    if ((out.writableLength ?? 0) > MAX_UNREAD_OUTPUT) linesDropped++;
    else out.write(`${line}\n`);
  };

  const t0 = performance.now();
  const live = tty ? new LiveBlock(out) : undefined;
  const draw = () => {
    if (live === undefined) return;
    const now = performance.timeOrigin + performance.now();
    const stats = scanner.stats();
    const health = scanner.health();
    const rows: DeviceRow[] = fleet.devices.map((d) => {
      const s = stats.devices[d.name]!;
      const values: string[] = [];
      let newest: number | undefined;
      for (const g of d.groups) {
        const latest = scanner.latest(d.name, g.name);
        if (latest === undefined) continue;
        newest = Math.max(newest ?? 0, latest.time);
        values.push(...valueTexts(latest.values, floats.get(`${d.name}\u0000${g.name}`)));
      }
      return {
        name: d.name,
        health: health[d.name]!,
        scans: s.scans,
        failed: s.failed,
        missed: s.missed,
        lateP99: s.lateness.count === 0 ? undefined : s.lateness.p99,
        ageMs: newest === undefined ? undefined : Math.max(0, now - newest),
        values,
      };
    });
    const ok = rows.filter((r) => r.health.state === 'ok').length;
    const seconds = (performance.now() - t0) / 1000;
    const title =
      `${ok}/${fleet.devices.length} ok · ${seconds.toFixed(1)} s · ${stats.scans} scans · ` +
      `${stats.failed} failed · ${stats.missed} missed · late p99 ${stats.lateness.p99.toFixed(2)} ms`;
    const width = terminalWidth(out, c.io.env);
    live.draw(renderTable({ title, rows, width, height: out.rows ?? 24 }), width);
  };

  if (!tty) {
    const count = opts.count;
    scanner.on('values', (r) => {
      // With --count, slots beyond the n-th of a group (a faster group) are not reported.
      if (count === undefined || r.sequence < count) writeLine(valuesLine(r, floats));
    });
    scanner.on('health', (e) => writeLine(healthLine(e)));
  }

  // Runs until Ctrl-C (the io signal), --duration or --count, whichever comes first.
  const timers: ReturnType<typeof setTimeout>[] = [];
  let onAbort: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => {
    onAbort = resolve;
    stop = resolve;
    if (c.io.signal?.aborted) return resolve();
    c.io.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.duration !== undefined) timers.push(setTimeout(resolve, opts.duration));
    if (opts.count !== undefined) {
      const count = opts.count;
      timers.push(
        setInterval(() => {
          if (scanner.completedRounds() >= count) resolve();
        }, 10),
      );
    }
    if (tty) timers.push(setInterval(draw, opts.refreshMs ?? 250));
  });
  scanner.start();
  draw();
  try {
    await finished;
  } finally {
    for (const t of timers) clearTimeout(t);
    if (onAbort !== undefined) c.io.signal?.removeEventListener('abort', onAbort);
    await scanner.stop();
  }
  if (outputError !== undefined) {
    throw Object.assign(new Error(`cannot write to stdout: ${outputError.message}`), {
      code: outputError.code,
    });
  }
  if (outputGone) return;
  const summary: ScanSummary = {
    seconds: (performance.now() - t0) / 1000,
    stats: scanner.stats(),
    health: scanner.health(),
    linesDropped,
  };
  if (tty) {
    draw();
    out.write(`\n${formatStats(summary, terminalWidth(out, c.io.env))}\n`);
  } else {
    // The statistics are written even to a reader that fell behind: they are what the run was for.
    out.write(`${statsLine(summary)}\n`);
  }
  // Devices that failed and never delivered a scan (one still connecting when the run ended is not one).
  const silent = Object.entries(summary.health).filter(
    ([, h]) => h.lastGoodAt === undefined && h.cause !== undefined,
  );
  if (silent.length > 0) {
    const named = silent
      .slice(0, 3)
      .map(([name, h]) => `${name} (${h.cause?.message ?? h.state})`)
      .join(', ');
    throw new ScanIncompleteError(
      `${silent.length} of ${fleet.devices.length} device(s) never delivered a scan: ${named}${silent.length > 3 ? ', …' : ''}`,
    );
  }
}
