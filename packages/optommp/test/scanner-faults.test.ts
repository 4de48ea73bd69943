// A fleet with one device of each fault (issue 14): one killed and restarted, one answering ten times
// slower, one dropping pipelined requests, one answering with wrong labels, and two healthy ones. Every
// device's analog channels hold constants of its own, so a value delivered to the wrong device or the wrong
// point would show. Over real loopback sockets; assertions are about events and counts (timing figures
// belong to the benchmarks).

import { type DeviceHealth, PipelineDesyncError, type ScanDeviceConfig, Scanner } from '@labwire/optommp';
import { ResponseMismatchError } from '@labwire/optommp/codec';
import { type EpicSimulator, SimulatedFleet } from '@labwire/optommp/simulator';
import { ConnectionError } from '@labwire/tcp';
import { waitFor } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const CHANNELS = 64;
const expected = (device: number, channel: number) => device * 1000 + channel;
const rack = { modules: [{ slot: 2, kind: 'analog-input' as const, channels: CHANNELS, drift: false }] };

function fill(sim: EpicSimulator, device: number): void {
  for (let c = 0; c < CHANNELS; c++) sim.device.setAnalog(2, c, expected(device, c));
}

describe('a fleet with faulty devices', () => {
  it('isolates each fault, shows it in health and statistics, and never misdelivers a value', async () => {
    const names = ['killed', 'slow', 'drops-pipelined', 'wrong-labels', 'healthy-a', 'healthy-b'];
    const fleet = await SimulatedFleet.start({
      count: names.length,
      rack,
      maxBlockBytes: 4096,
      latencyMs: 2,
      perDevice: (i) =>
        i === 1
          ? { latencyMs: 20 }
          : i === 2
            ? { pipelining: 'first-only' }
            : i === 3
              ? {
                  faults: (_req, res) => {
                    const bad = Uint8Array.from(res);
                    bad[2] = (((bad[2]! >> 2) + 1) & 63) << 2;
                    return { kind: 'replace', bytes: bad };
                  },
                }
              : {},
    });
    cleanup.push(() => fleet.close());
    for (let i = 0; i < names.length; i++) fill(fleet.device(i)!, i);

    // One group per device: a whole 64-channel module in 1 KiB blocks (four requests per scan), four in flight.
    const devices: ScanDeviceConfig[] = fleet.ports.map((port, i) => ({
      name: names[i]!,
      host: '127.0.0.1',
      port,
      window: 4,
      maxBlockBytes: 1024,
      timeoutMs: 500,
      groups: [
        {
          name: 'module',
          periodMs: 50,
          points: Array.from({ length: CHANNELS }, (_, c) => ({
            kind: 'analog' as const,
            module: 2,
            channel: c,
          })),
        },
      ],
    }));
    const scanner = new Scanner(devices, { backoff: { initialDelayMs: 50, maxDelayMs: 200 } });
    cleanup.push(() => scanner.stop());
    const states = new Map<string, { state: string; cause: Error | undefined }[]>();
    scanner.on('health', (e) => {
      const list = states.get(e.device) ?? [];
      list.push({ state: e.health.state, cause: e.health.cause });
      states.set(e.device, list);
    });
    let misdelivered = 0;
    let delivered = 0;
    scanner.on('values', (r) => {
      const device = names.indexOf(r.device);
      r.values.forEach((v, c) => {
        delivered++;
        if (v.value !== expected(device, c) || v.point !== `analog 2/${c}`) misdelivered++;
      });
    });
    scanner.start();
    const health = (name: string): DeviceHealth => scanner.health()[name]!;
    await waitFor(() => ['killed', 'slow', 'healthy-a', 'healthy-b'].every((n) => health(n).state === 'ok'), {
      timeoutMs: 10_000,
    });

    // The killed device goes away and comes back.
    await fleet.stop(0);
    await waitFor(() => health('killed').state === 'reconnecting', { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    fill(await fleet.start(0), 0);
    await waitFor(() => health('killed').state === 'ok', { timeoutMs: 10_000 });
    // The device that drops pipelined requests is switched to one request at a time and then scans.
    await waitFor(() => scanner.stats().devices['drops-pipelined']!.scans > 3, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    await scanner.stop();

    const stats = scanner.stats().devices;
    // Nothing went to the wrong place, and plenty went to the right one.
    expect(misdelivered).toBe(0);
    expect(delivered).toBeGreaterThan(CHANNELS * 10);

    // Killed and restarted: reconnecting with a connection error, then ok again.
    const killed = states.get('killed')!.map((s) => s.state);
    expect(killed).toEqual(expect.arrayContaining(['ok', 'reconnecting']));
    expect(killed.at(-1)).toBe('ok');
    expect(
      ConnectionError.isInstance(states.get('killed')!.find((s) => s.state === 'reconnecting')!.cause),
    ).toBe(true);
    expect(stats.killed!.failed).toBeGreaterThan(0);

    // Ten times slower: still ok, its scans simply take longer (the answers' latency is a floor).
    expect(health('slow').state).toBe('ok');
    expect(stats.slow!.failed).toBe(0);
    expect(stats.slow!.duration.p50).toBeGreaterThanOrEqual(20);
    expect(stats.slow!.duration.p50).toBeGreaterThan(stats['healthy-a']!.duration.p50);

    // Drops pipelined requests: faults in its statistics, a fallback to window 1, and values after it.
    const drops = stats['drops-pipelined']!;
    expect(drops.windowFallbacks).toBe(1);
    expect(drops.failed).toBeGreaterThan(0);
    expect(health('drops-pipelined')).toMatchObject({ window: 1, state: 'ok' });
    const dropCauses = states.get('drops-pipelined')!.flatMap((s) => (s.cause ? [s.cause] : []));
    expect(dropCauses.some((c) => PipelineDesyncError.isInstance(c) || c.name === 'TimeoutError')).toBe(true);

    // Wrong labels: never a value, and the cause says why.
    const wrong = stats['wrong-labels']!;
    expect(wrong.scans).toBe(0);
    expect(wrong.failed).toBeGreaterThan(0);
    expect(health('wrong-labels').state).not.toBe('ok');
    const cause = health('wrong-labels').cause;
    expect(PipelineDesyncError.isInstance(cause) || ResponseMismatchError.isInstance(cause)).toBe(true);

    // The healthy devices never noticed: no failure, no skipped scan, never out of ok.
    for (const name of ['healthy-a', 'healthy-b']) {
      expect(stats[name]).toMatchObject({ failed: 0, skipped: 0, desyncs: 0, windowFallbacks: 0 });
      expect(states.get(name)!.map((s) => s.state)).toEqual(['ok']);
    }
  });
});
