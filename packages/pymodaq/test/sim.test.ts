// The simulated instruments: a stage that moves at a finite speed, a noisy gaussian camera.

import { AbortedError } from '@labwire/framing';
import { GaussianDetector, SimulatedStage } from '@labwire/pymodaq';
import { waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';

describe('SimulatedStage', () => {
  it('moves at a finite speed: between start and target while moving, at the target after', async () => {
    const stage = new SimulatedStage({ speed: 40, units: 'mm' });
    const move = stage.moveAbs(2);
    expect(stage.moving).toBe(true);
    await waitFor(() => stage.position > 0, { message: 'the stage to leave 0' });
    const mid = stage.position;
    expect(mid).toBeGreaterThan(0);
    expect(mid).toBeLessThanOrEqual(2);
    expect(await move).toBe(2);
    expect(stage.moving).toBe(false);
    expect(stage.position).toBe(2);
  });

  it('stops where it is; an abort rejects the move; a new move stops the old one', async () => {
    const stage = new SimulatedStage({ speed: 20 });
    const first = stage.moveAbs(100);
    await waitFor(() => stage.position > 0);
    stage.stop();
    const stoppedAt = await first;
    expect(stoppedAt).toBeGreaterThan(0);
    expect(stoppedAt).toBeLessThan(100);
    expect(stage.position).toBe(stoppedAt);

    const controller = new AbortController();
    const second = stage.moveAbs(-100, { signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toSatisfy((e) => AbortedError.isInstance(e));
    expect(stage.moving).toBe(false);

    const third = stage.moveAbs(50);
    const fourth = stage.moveAbs(stage.position);
    expect(await third).toBeLessThan(50);
    await fourth;
  });

  it('clamps to its travel, moves relative and home, refuses a non-finite target', async () => {
    const stage = new SimulatedStage({ speed: 1e6, min: -1, max: 1, home: 0.5 });
    expect(await stage.moveAbs(10)).toBe(1);
    expect(await stage.moveRel(-0.25)).toBe(0.75);
    expect(await stage.moveHome()).toBe(0.5);
    await expect(stage.moveAbs(Number.NaN)).rejects.toThrow(RangeError);
    expect(() => new SimulatedStage({ speed: 0 })).toThrow(RangeError);
  });
});

describe('GaussianDetector', () => {
  it('gives 0D, 1D, 2D and ND data of the configured size', () => {
    const camera = new GaussianDetector({ width: 16, height: 8 });
    const shapes = (['0D', '1D', '2D', 'ND'] as const).map((dim) => {
      const data = camera.grab(dim);
      const channel = data.data[0]!;
      return [channel.dim, [...channel.data[0]!.shape], channel.data[0]!.dtype];
    });
    expect(shapes).toEqual([
      ['Data0D', [1], '<f8'],
      ['Data1D', [16], '<f8'],
      ['Data2D', [8, 16], '<f8'],
      ['DataND', [2, 8, 16], '<f8'],
    ]);
  });

  it('draws a spot near the centre above the noise, reproducibly for a seed', () => {
    const a = new GaussianDetector({ width: 32, height: 32, seed: 3, noise: 1 }).image();
    const b = new GaussianDetector({ width: 32, height: 32, seed: 3, noise: 1 }).image();
    const c = new GaussianDetector({ width: 32, height: 32, seed: 4, noise: 1 }).image();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    let peak = 0;
    for (let i = 1; i < a.length; i++) if (a[i]! > a[peak]!) peak = i;
    const [y, x] = [Math.floor(peak / 32), peak % 32];
    expect(Math.abs(x - 15.5)).toBeLessThan(4);
    expect(Math.abs(y - 15.5)).toBeLessThan(4);
    expect(a[peak]!).toBeGreaterThan(80);
    expect(a[0]!).toBeLessThan(20);
  });

  it('refuses a nonsensical size', () => {
    expect(() => new GaussianDetector({ width: 0 })).toThrow(RangeError);
    expect(() => new GaussianDetector({ height: 1.5 })).toThrow(RangeError);
  });
});
