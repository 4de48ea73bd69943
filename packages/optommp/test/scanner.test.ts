// The Scanner's schedule, reports and health. The schedule and the report rules run on a fake clock
// against the device model behind an in-memory transport (deterministic: exact slots, exact lateness);
// health and recovery run against simulated devices over real loopback sockets.

import {
  type ExchangeOptions,
  type MmpTransport,
  OptoMmpClient,
  type ScanDeviceConfig,
  Scanner,
  type ScanReport,
} from '@labwire/optommp';
import { checkResponse, decodePacket, encodeRequest, type RequestInit } from '@labwire/optommp/codec';
import { EpicDevice, SimulatedFleet } from '@labwire/optommp/simulator';
import { waitFor } from '@labwire/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectationFor } from '../src/codec/validate';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A transport straight into a device model: labels, encodes and checks like a real one, no sockets. */
class DeviceTransport implements MmpTransport {
  readonly kind = 'tcp' as const;
  readonly endpoint = 'memory';
  #tl = 0;
  constructor(
    readonly device: EpicDevice,
    /** Each answer takes this long (fake clock). */
    readonly delayMs = 0,
  ) {}

  exchange<T>(request: RequestInit, _options: ExchangeOptions, decode: (data: Uint8Array) => T): Promise<T> {
    this.#tl = (this.#tl + 1) & 63;
    const packet = { ...request, tl: this.#tl };
    const response = this.device.handle(decodePacket(encodeRequest(packet)));
    const answer = () => decode(checkResponse(decodePacket(response), expectationFor(packet)));
    if (this.delayMs === 0) return Promise.resolve().then(answer);
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        try {
          resolve(answer());
        } catch (e) {
          reject(e);
        }
      }, this.delayMs),
    );
  }
  async connect(): Promise<void> {}
  onConnected(): void {}
  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {}
}

function memoryScanner(devices: ScanDeviceConfig[], device: EpicDevice, delayMs = 0) {
  return new Scanner(devices, {
    createClient: () =>
      new OptoMmpClient({ transport: new DeviceTransport(device, delayMs), timeoutMs: 1_000 }),
  });
}

const quietRack = {
  modules: [{ slot: 2, kind: 'analog-input' as const, channels: 8, drift: false }],
};

describe('schedule', () => {
  it('scans every period on the slot, without drift, even when each scan takes time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const device = new EpicDevice({ rack: quietRack });
    const scanner = memoryScanner(
      [
        {
          name: 'd',
          host: 'memory',
          groups: [{ name: 'g', periodMs: 10, points: [{ kind: 'analog', module: 2, channel: 0 }] }],
        },
      ],
      device,
      3, // each scan takes 3 ms of the 10 ms period
    );
    const reports: ScanReport[] = [];
    scanner.on('values', (r) => reports.push(r));
    scanner.start();
    await vi.advanceTimersByTimeAsync(1_000);
    await scanner.stop();
    // Slots 0 … 99 completed (slot 100 was due at 1 000 ms and still running): no slot lost, none doubled.
    expect(reports.map((r) => r.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const stats = scanner.stats();
    expect(stats).toMatchObject({ scans: 100, missed: 0, skipped: 0, failed: 0, requests: 100 });
    expect(stats.lateness.max).toBe(0);
    expect(stats.duration.p50).toBeGreaterThanOrEqual(3);
    // Reply times follow the slots: 3 ms after each 10 ms step.
    expect(reports[57]!.time - reports[0]!.time).toBe(570);
    expect(stats.devices.d!.groups).toEqual({ g: { scans: 100, failed: 0, missed: 0, skipped: 0 } });
    expect(scanner.completedRounds()).toBe(100);
  });

  it('a scan that overruns: the slot that came meanwhile starts when it ends, the ones after are missed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const device = new EpicDevice({ rack: quietRack });
    const scanner = memoryScanner(
      [{ name: 'd', host: 'memory', groups: [{ name: 'g', periodMs: 10, points: [{ kind: 'uptime' }] }] }],
      device,
      15, // longer than the period
    );
    const reports: ScanReport[] = [];
    scanner.on('values', (r) => reports.push(r));
    scanner.start();
    await vi.advanceTimersByTimeAsync(300);
    await scanner.stop();
    const sequences = reports.map((r) => r.sequence);
    // Back to back, never two at once: one scan per 15 ms, serving the newest slot that has come.
    expect(sequences.slice(0, 4)).toEqual([0, 1, 2, 4]);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!);
    expect(reports.length).toBe(20); // one every 15 ms: 15, 30, …, 300
    const stats = scanner.stats();
    // Every slot is accounted for: scanned, missed, or the last ones still pending.
    expect(stats.scans + stats.missed).toBeGreaterThanOrEqual(sequences.at(-1)!);
    expect(stats.missed).toBeGreaterThanOrEqual(9);
    // Per group, each slot lands in exactly one count; the rounds are the slots whose scan has ended.
    const g = stats.devices.d!.groups.g!;
    expect(g).toMatchObject({ scans: 20, failed: 0, skipped: 0, missed: stats.missed });
    expect(scanner.completedRounds()).toBe(g.scans + g.missed);
    // A waiting slot starts at most a period and a scan late, never later: the lag does not grow.
    expect(stats.lateness.max).toBeLessThanOrEqual(15);
  });
});

describe('reports', () => {
  it('every-scan reports all values; on-change only those that moved beyond the deadband', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const device = new EpicDevice({ rack: quietRack });
    const points = [
      { kind: 'analog' as const, module: 2, channel: 0, name: 'a0' },
      { kind: 'analog' as const, module: 2, channel: 1, name: 'a1' },
    ];
    const scanner = memoryScanner(
      [
        {
          name: 'd',
          host: 'memory',
          groups: [
            { name: 'all', periodMs: 100, points },
            { name: 'rbe', periodMs: 100, points, report: 'on-change', deadband: 0.5 },
          ],
        },
      ],
      device,
    );
    const got: Record<string, ScanReport[]> = { all: [], rbe: [] };
    scanner.on('values', (r) => got[r.group]!.push(r));
    const values = (r: ScanReport) => Object.fromEntries(r.values.map((v) => [v.point, v.value]));
    device.setAnalog(2, 0, 1);
    device.setAnalog(2, 1, 10);
    scanner.start();
    await vi.advanceTimersByTimeAsync(50); // scan 0: the first values are always reported
    device.setAnalog(2, 0, 1.25); // within the deadband
    await vi.advanceTimersByTimeAsync(100); // scan 1
    device.setAnalog(2, 0, 1.75); // 0.75 from the last value reported
    await vi.advanceTimersByTimeAsync(100); // scan 2
    device.setAnalog(2, 1, 9); // a1 moves by 1
    await vi.advanceTimersByTimeAsync(100); // scan 3
    await scanner.stop();
    expect(got.all!.map(values)).toEqual([
      { a0: 1, a1: 10 },
      { a0: 1.25, a1: 10 },
      { a0: 1.75, a1: 10 },
      { a0: 1.75, a1: 9 },
    ]);
    expect(got.rbe!.map((r) => [r.sequence, values(r)])).toEqual([
      [0, { a0: 1, a1: 10 }],
      [2, { a0: 1.75 }],
      [3, { a1: 9 }],
    ]);
    // The latest scan, whatever the report mode, keeps every value.
    expect(values(scanner.latest('d', 'rbe')!)).toEqual({ a0: 1.75, a1: 9 });
  });
});

describe('health over real sockets', () => {
  it('a device that goes away is reconnecting (typed cause), backs off, and is ok again when it returns', async () => {
    const fleet = await SimulatedFleet.start({ count: 2 });
    cleanup.push(() => fleet.close());
    const devices: ScanDeviceConfig[] = fleet.ports.map((port, i) => ({
      name: `d${i}`,
      host: '127.0.0.1',
      port,
      timeoutMs: 2_000,
      groups: [{ name: 'g', periodMs: 20, points: [{ kind: 'uptime' }] }],
    }));
    const scanner = new Scanner(devices, { backoff: { initialDelayMs: 100, maxDelayMs: 400 } });
    cleanup.push(() => scanner.stop());
    const events: { device: string; state: string; cause?: string }[] = [];
    scanner.on('health', (e) =>
      events.push({ device: e.device, state: e.health.state, cause: e.health.cause?.name }),
    );
    scanner.start();
    await waitFor(() => scanner.health().d0?.state === 'ok' && scanner.health().d1?.state === 'ok', {
      timeoutMs: 5_000,
    });
    await fleet.stop(0);
    await waitFor(() => scanner.health().d0?.state === 'reconnecting', { timeoutMs: 5_000 });
    const cause = scanner.health().d0!.cause!;
    expect(cause.name).toMatch(/ConnectRefused|ConnectionLost|ConnectionReset/);
    const failedAtStop = scanner.stats().devices.d0!.failed;
    await new Promise((r) => setTimeout(r, 1_000));
    const down = scanner.stats().devices.d0!;
    // Fifty slots passed; the backoff (≤ 400 ms) allowed only a handful of attempts.
    expect(down.failed - failedAtStop).toBeLessThanOrEqual(12);
    expect(down.skipped).toBeGreaterThan(0);
    // The group's slots: every failed scan and every skipped slot (a connect failure at start is the
    // device's, not a slot's, and none happened here).
    expect(down.groups.g).toMatchObject({ failed: down.failed, skipped: down.skipped });
    await fleet.start(0);
    await waitFor(() => scanner.health().d0?.state === 'ok', { timeoutMs: 5_000 });
    // The other device never left ok.
    expect(events.filter((e) => e.device === 'd1')).toEqual([
      { device: 'd1', state: 'ok', cause: undefined },
    ]);
    expect(scanner.stats().devices.d1!.failed).toBe(0);
  });

  it('a device that never answers is heard of: one health event with the cause of its first failure', async () => {
    const fleet = await SimulatedFleet.start({ count: 1 });
    const port = fleet.ports[0]!;
    await fleet.close(); // nothing listens there any more
    const scanner = new Scanner(
      [
        {
          name: 'gone',
          host: '127.0.0.1',
          port,
          groups: [{ name: 'g', periodMs: 20, points: [{ kind: 'uptime' }] }],
        },
      ],
      { backoff: { initialDelayMs: 20, maxDelayMs: 40 } },
    );
    cleanup.push(() => scanner.stop());
    const events: { previous: string; state: string; cause?: string }[] = [];
    scanner.on('health', (e) =>
      events.push({ previous: e.previous, state: e.health.state, cause: e.health.cause?.name }),
    );
    scanner.start();
    await waitFor(() => scanner.stats().devices.gone!.failed >= 3, { timeoutMs: 5_000 });
    // It starts out reconnecting (not connected yet); the first failure says why, the later ones do not repeat it.
    expect(events).toEqual([
      { previous: 'reconnecting', state: 'reconnecting', cause: 'ConnectRefusedError' },
    ]);
  });
});
