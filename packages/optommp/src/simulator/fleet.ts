// Many simulated groov EPIC units in one process: N devices on consecutive (or ephemeral) ports, the same
// rack or one per device, each with inputs of its own (its own noise seed and signal phase). Devices can
// be stopped and started again, as a unit that loses power and boots.

import { EpicSimulator, type EpicSimulatorOptions } from './epic-simulator';

export interface SimulatedFleetOptions extends EpicSimulatorOptions {
  /** How many devices (1…4 096). */
  count: number;
  /**
   * First TCP port: device i listens on `basePort + i` (and UDP on the same number when `udp`). Default 0:
   * each device on a free port of its own.
   */
  basePort?: number;
  /** Options of device i, over the shared ones: a rack of its own, faults, latency, … */
  perDevice?: (index: number) => EpicSimulatorOptions;
}

/** Keeps devices from moving in lockstep: device i's inputs run this much later, ms. */
const PHASE_STEP_MS = 7_919;

export class SimulatedFleet implements AsyncDisposable {
  readonly #options: SimulatedFleetOptions;
  readonly #devices: (EpicSimulator | undefined)[];
  readonly #ports: number[];
  #closed = false;

  private constructor(options: SimulatedFleetOptions, devices: EpicSimulator[]) {
    this.#options = options;
    this.#devices = devices;
    this.#ports = devices.map((d) => d.port);
  }

  /** Starts every device; resolves once all listen. If one cannot start, the others are closed again. */
  static async start(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
    const count = options.count;
    if (!Number.isInteger(count) || count < 1 || count > 4096) {
      throw new RangeError(`count must be 1..4096, got ${count}`);
    }
    const base = options.basePort ?? 0;
    if (!Number.isInteger(base) || base < 0 || (base > 0 && base + count - 1 > 65_535)) {
      throw new RangeError(`basePort ${base} + ${count} devices leaves the port range`);
    }
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        EpicSimulator.start(deviceOptions(options, i, base === 0 ? 0 : base + i)),
      ),
    );
    const devices = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(devices.map((d) => d.close()));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new SimulatedFleet(options, devices);
  }

  /** How many devices the fleet has (running or stopped). */
  get size(): number {
    return this.#devices.length;
  }

  /** Each device's TCP port (it keeps it across stop and start). */
  get ports(): readonly number[] {
    return this.#ports;
  }

  /** The host every device listens on. */
  get host(): string {
    return this.#options.host ?? '127.0.0.1';
  }

  /** Device i while it runs, undefined while it is stopped. */
  device(index: number): EpicSimulator | undefined {
    this.#check(index);
    return this.#devices[index];
  }

  /** Whether device i is running. */
  running(index: number): boolean {
    return this.device(index) !== undefined;
  }

  /** Stops device i: its servers close and its connections drop, as when the unit loses power. */
  async stop(index: number): Promise<void> {
    this.#check(index);
    const d = this.#devices[index];
    this.#devices[index] = undefined;
    await d?.close();
  }

  /** Starts device i again on its port, freshly booted (uptime from 0, initial values). */
  async start(index: number): Promise<EpicSimulator> {
    this.#check(index);
    if (this.#closed) throw new Error('SimulatedFleet: closed');
    const running = this.#devices[index];
    if (running !== undefined) return running;
    const d = await EpicSimulator.start(deviceOptions(this.#options, index, this.#ports[index]!));
    this.#devices[index] = d;
    return d;
  }

  /** Stops every device. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = this.#devices.splice(0).filter((d): d is EpicSimulator => d !== undefined);
    this.#devices.length = this.#ports.length;
    await Promise.all(all.map((d) => d.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.#ports.length) {
      throw new RangeError(`device index must be 0..${this.#ports.length - 1}, got ${index}`);
    }
  }
}

function deviceOptions(options: SimulatedFleetOptions, index: number, port: number): EpicSimulatorOptions {
  const { count: _, basePort: __, perDevice, ...shared } = options;
  return {
    ...shared,
    seed: (options.seed ?? 1) + index,
    inputOffsetMs: (options.inputOffsetMs ?? 0) + index * PHASE_STEP_MS,
    ...perDevice?.(index),
    port,
  };
}
