// The simulated I/O rack: which module sits in which slot, how many channels it has, and how its inputs
// behave. The same rack drives `epic-sim` without `--rack` and the simulator module's default.

import { EPIC_CHANNELS, EPIC_MODULES } from '../codec/addresses';

export type ModuleKind = 'digital-input' | 'digital-output' | 'analog-input' | 'analog-output';

/** How an analog input wanders: a slow sine per channel plus a little seeded noise. */
export interface AnalogSignal {
  /** Middle of the swing, engineering units. Default 5. */
  center?: number;
  /** Half the swing. Default 1. */
  amplitude?: number;
  /** Period of the swing in ms (channel c uses period · (1 + c/10)). Default 20 000. */
  periodMs?: number;
  /** Peak uniform noise added to each sample. Default 0.01. */
  noise?: number;
}

/** The starting values of one channel. */
export interface ChannelInit {
  channel: number;
  /** Digital state (0 or 1). */
  state?: 0 | 1;
  /** Analog value, engineering units. */
  value?: number;
  /** Analog minimum seen. */
  min?: number;
  /** Analog maximum seen. */
  max?: number;
}

export interface RackModule {
  /** 0–63. */
  slot: number;
  kind: ModuleKind;
  /** 1–64. */
  channels: number;
  /** For display, e.g. `GRV-ODCSRC-24`. */
  partNumber?: string;
  /** The u32 written at +0 of the module's point configuration (unknown for EPIC modules: default 0). */
  moduleType?: number;
  /** Analog inputs: drift like real signals (default true). */
  drift?: boolean;
  signal?: AnalogSignal;
  /** Digital inputs: channel c toggles every `toggleMs · (c + 1)` ms unless written. Off when absent. */
  toggleMs?: number;
  initial?: ChannelInit[];
}

export interface RackConfig {
  modules: RackModule[];
}

/**
 * A typical small groov EPIC rack: a 24-channel digital output (GRV-ODCSRC-24 class), a 24-channel digital
 * input, a 24-channel analog input whose values drift, and an 8-channel analog output.
 */
export const DEFAULT_RACK: RackConfig = {
  modules: [
    { slot: 0, kind: 'digital-output', channels: 24, partNumber: 'GRV-ODCSRC-24' },
    { slot: 1, kind: 'digital-input', channels: 24, partNumber: 'GRV-IDCSW-24', toggleMs: 1000 },
    {
      slot: 2,
      kind: 'analog-input',
      channels: 24,
      partNumber: 'GRV-IV-24',
      drift: true,
      signal: { center: 5, amplitude: 2, periodMs: 20_000, noise: 0.005 },
    },
    { slot: 3, kind: 'analog-output', channels: 8, partNumber: 'GRV-OVMALC-8' },
  ],
};

const KINDS: readonly ModuleKind[] = ['digital-input', 'digital-output', 'analog-input', 'analog-output'];

function fail(where: string, message: string): never {
  throw new TypeError(`rack ${where}: ${message}`);
}

function intIn(where: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `expected an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function numberOr(where: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(where, `expected a finite number, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Checks a rack description (the parsed `--rack` JSON) and returns it typed. Every problem is a TypeError
 * that names the module and field.
 */
export function parseRackConfig(input: unknown): RackConfig {
  if (
    typeof input !== 'object' ||
    input === null ||
    !Array.isArray((input as { modules?: unknown }).modules)
  ) {
    fail('', 'expected an object with a "modules" array');
  }
  const seen = new Set<number>();
  const modules = (input as { modules: unknown[] }).modules.map((raw, i): RackModule => {
    const where = `modules[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(where, 'expected an object');
    const m = raw as Record<string, unknown>;
    const slot = intIn(`${where}.slot`, m.slot, 0, EPIC_MODULES - 1);
    if (seen.has(slot)) fail(`${where}.slot`, `slot ${slot} is used twice`);
    seen.add(slot);
    if (!KINDS.includes(m.kind as ModuleKind)) fail(`${where}.kind`, `expected one of ${KINDS.join(', ')}`);
    const channels = intIn(`${where}.channels`, m.channels, 1, EPIC_CHANNELS);
    const out: RackModule = { slot, kind: m.kind as ModuleKind, channels };
    if (m.partNumber !== undefined) {
      if (typeof m.partNumber !== 'string') fail(`${where}.partNumber`, 'expected a string');
      out.partNumber = m.partNumber;
    }
    if (m.moduleType !== undefined)
      out.moduleType = intIn(`${where}.moduleType`, m.moduleType, 0, 0xffff_ffff);
    if (m.drift !== undefined) {
      if (typeof m.drift !== 'boolean') fail(`${where}.drift`, 'expected true or false');
      out.drift = m.drift;
    }
    if (m.toggleMs !== undefined) out.toggleMs = intIn(`${where}.toggleMs`, m.toggleMs, 1, 86_400_000);
    if (m.signal !== undefined) {
      const s = m.signal as Record<string, unknown>;
      out.signal = {
        center: numberOr(`${where}.signal.center`, s.center),
        amplitude: numberOr(`${where}.signal.amplitude`, s.amplitude),
        periodMs: numberOr(`${where}.signal.periodMs`, s.periodMs),
        noise: numberOr(`${where}.signal.noise`, s.noise),
      };
    }
    if (m.initial !== undefined) {
      if (!Array.isArray(m.initial)) fail(`${where}.initial`, 'expected an array');
      out.initial = m.initial.map((c: unknown, j: number): ChannelInit => {
        const cw = `${where}.initial[${j}]`;
        const r = c as Record<string, unknown>;
        const init: ChannelInit = { channel: intIn(`${cw}.channel`, r.channel, 0, channels - 1) };
        if (r.state !== undefined) init.state = intIn(`${cw}.state`, r.state, 0, 1) as 0 | 1;
        const value = numberOr(`${cw}.value`, r.value);
        if (value !== undefined) init.value = value;
        const min = numberOr(`${cw}.min`, r.min);
        if (min !== undefined) init.min = min;
        const max = numberOr(`${cw}.max`, r.max);
        if (max !== undefined) init.max = max;
        return init;
      });
    }
    return out;
  });
  return { modules };
}
