// A simulated motorised stage: it moves at a finite speed, can be stopped half way, and reports where it
// is at any moment. Used by the `pymodaq client actuator` command, the demo and the tests.

import { AbortedError } from '@labwire/framing';
import type { ActuatorHandlers } from '../actuator';

interface Motion {
  from: number;
  to: number;
  startedAt: number;
  durationMs: number;
  timer: ReturnType<typeof setTimeout>;
  finish: (position: number) => void;
}

export class SimulatedStage {
  readonly units: string;
  readonly speed: number;
  readonly home: number;
  readonly min: number;
  readonly max: number;
  #rest: number;
  #motion: Motion | undefined;

  constructor(
    options: {
      /** Speed in units per second. Default 10. */
      speed?: number;
      /** Starting position. Default 0. */
      position?: number;
      /** Where `move_home` goes. Default 0. */
      home?: number;
      /** Travel limits; targets are clamped to them. Default ±1e6. */
      min?: number;
      max?: number;
      /** The unit reported to the server (`Infos` `units` child, DataActuator units). Default `mm`. */
      units?: string;
    } = {},
  ) {
    this.speed = options.speed ?? 10;
    if (!(this.speed > 0)) throw new RangeError(`speed must be > 0, got ${this.speed}`);
    this.units = options.units ?? 'mm';
    this.home = options.home ?? 0;
    this.min = options.min ?? -1e6;
    this.max = options.max ?? 1e6;
    this.#rest = options.position ?? 0;
  }

  /** Where the stage is now (between start and target while moving). */
  get position(): number {
    const m = this.#motion;
    if (m === undefined) return this.#rest;
    const t = Math.min(1, (performance.now() - m.startedAt) / m.durationMs);
    return m.from + (m.to - m.from) * t;
  }

  get moving(): boolean {
    return this.#motion !== undefined;
  }

  /**
   * Moves to `target` (clamped to the travel limits) and resolves with the position reached. A move in
   * progress is stopped where it is first. Aborting stops the stage and rejects with AbortedError.
   */
  moveAbs(target: number, options: { signal?: AbortSignal | undefined } = {}): Promise<number> {
    if (!Number.isFinite(target))
      return Promise.reject(new RangeError(`target must be finite, got ${target}`));
    if (options.signal?.aborted) return Promise.reject(new AbortedError('moveAbs', options.signal.reason));
    this.stop();
    const to = Math.min(this.max, Math.max(this.min, target));
    const from = this.#rest;
    const durationMs = (Math.abs(to - from) / this.speed) * 1000;
    return new Promise<number>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = () => {
        // Rejected first, so the stop below cannot resolve this move.
        reject(new AbortedError('moveAbs', signal?.reason));
        this.stop();
      };
      const finish = (position: number) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(position);
      };
      const timer = setTimeout(() => this.#arrive(), durationMs);
      this.#motion = {
        from,
        to,
        startedAt: performance.now(),
        durationMs: Math.max(durationMs, 1e-9),
        timer,
        finish,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  moveRel(offset: number, options: { signal?: AbortSignal | undefined } = {}): Promise<number> {
    return this.moveAbs(this.position + offset, options);
  }

  moveHome(options: { signal?: AbortSignal | undefined } = {}): Promise<number> {
    return this.moveAbs(this.home, options);
  }

  /** Stops at the current position; a pending move resolves with where it stopped. */
  stop(): void {
    const m = this.#motion;
    if (m === undefined) return;
    const here = this.position;
    clearTimeout(m.timer);
    this.#motion = undefined;
    this.#rest = here;
    m.finish(here);
  }

  /** The handlers a PymodaqActuator needs to drive this stage. */
  handlers(): ActuatorHandlers {
    return {
      moveAbs: (target, { signal }) => this.moveAbs(target, { signal }),
      moveRel: (offset, { signal }) => this.moveRel(offset, { signal }),
      moveHome: ({ signal }) => this.moveHome({ signal }),
      getActuatorValue: () => this.position,
      stopMotion: () => this.stop(),
    };
  }

  #arrive(): void {
    const m = this.#motion;
    if (m === undefined) return;
    this.#motion = undefined;
    this.#rest = m.to;
    m.finish(m.to);
  }
}
