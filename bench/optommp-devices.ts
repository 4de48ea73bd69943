// Simulated OptoMMP devices in a process of their own (as real devices are other machines), shared by
// the optommp bench cases and bench/micro/optommp-windows.ts:
//
//   node --import tsx bench/optommp-devices.ts --optommp-devices <count>
//
// starts `count` simulated groov EPIC devices (one 64-channel analog input module in slot 2 each, blocks up
// to 4 KiB), prints their ports as one JSON line and runs until its stdin closes.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SimulatedFleet } from '@labwire/optommp/simulator';

const CHILD_FLAG = '--optommp-devices';
const RACK = { modules: [{ slot: 2, kind: 'analog-input' as const, channels: 64 }] };

/** A device process: its ports, its pid, and `stop()` (closes its stdin, kills it if it does not exit). */
export interface Devices {
  readonly ports: readonly number[];
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `count` simulated devices in a child process. `detached` (for a process shared by several bench
 * cases): the child never keeps this process alive, and is killed when this process exits.
 */
export async function startDevices(count: number, { detached = false } = {}): Promise<Devices> {
  const root = path.resolve(import.meta.dirname, '..');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ...process.execArgv.filter((a) => a.startsWith('--conditions')),
      import.meta.filename,
      CHILD_FLAG,
      String(count),
    ],
    { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => child.kill('SIGKILL');
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      child.stdin!.end();
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
      process.off('exit', kill);
    })();
    return stopping;
  };
  if (detached) {
    // Its stdin closes when this process ends (the child then closes its devices and exits); the kill is
    // for an exit that leaves no time for that.
    process.once('exit', kill);
  }
  try {
    const lines = readline.createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the device process did not start within 60 s')),
        60_000,
      );
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      child.once('exit', (code) => reject(new Error(`the device process exited with ${code}`)));
    });
    lines.close();
    if (detached) {
      child.unref();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
    }
    const { ports } = JSON.parse(first) as { ports: number[] };
    return { ports, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `fn` against `count` simulated devices in a child process; the child ends when `fn` has. */
export async function withDevices<T>(
  count: number,
  fn: (ports: readonly number[], childPid: number) => Promise<T>,
): Promise<T> {
  const devices = await startDevices(count);
  try {
    return await fn(devices.ports, devices.pid);
  } finally {
    await devices.stop();
  }
}

/** USER_HZ: /proc counts CPU time in these ticks (100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU time of a process so far (user + system), µs, from /proc (0 where there is none). */
export function processCpuUs(pid: number): number {
  return statCpuUs(`/proc/${pid}/stat`);
}

/** CPU time of one thread of a process so far (its main thread: `tid` = `pid`), µs. */
export function threadCpuUs(pid: number, tid: number): number {
  return statCpuUs(`/proc/${pid}/task/${tid}/stat`);
}

/**
 * CPU time of a process so far, µs, to the nanosecond: the sum over its threads of the time on a CPU the
 * scheduler counts (/proc/<pid>/task/<tid>/schedstat), where /proc/<pid>/stat counts 10 ms ticks. Threads
 * that have ended are not counted (a Node process keeps its threads). Falls back to `processCpuUs`.
 */
export function processCpuFineUs(pid: number): number {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended meanwhile.
      }
    }
    return ns / 1000;
  } catch {
    return processCpuUs(pid);
  }
}

function statCpuUs(file: string): number {
  try {
    const fields = fs.readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

async function main(count: number): Promise<void> {
  const fleet = await SimulatedFleet.start({ count, rack: RACK, maxBlockBytes: 4096 });
  process.stdout.write(`${JSON.stringify({ ports: fleet.ports })}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await fleet.close();
}

const childAt = process.argv.indexOf(CHILD_FLAG);
if (childAt >= 0) await main(Number(process.argv[childAt + 1] ?? 1));
