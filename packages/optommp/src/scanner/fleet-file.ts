// The fleet file: which devices a Scanner reads, and which point groups at which period. JSON or YAML,
// checked with a schema (valibot) so that every mistake is reported with the path of the field, e.g.
// `devices[2].groups[0].periodMs: expected a number >= 1, got 0`.

import fs from 'node:fs/promises';
import { LabwireError } from '@labwire/framing';
import * as v from 'valibot';
import YAML from 'yaml';
import { EPIC_CHANNELS, SCRATCH_PAD_ELEMENTS } from '../codec/addresses';
import { MAX_WINDOW } from '../pipeline';
import type { WatchPoint } from '../watch';

/** One point of a scan group: the points `watch` knows. */
export type ScanPoint = WatchPoint;

/** A point as a fleet file may write it: a single point, or every channel of a module. */
export type FleetFilePoint =
  | ScanPoint
  | { name?: string; kind: 'analog-module' | 'digital-module'; module: number; channels?: number };

export interface ScanGroupConfig {
  /** Unique per device. */
  name: string;
  /** Scan period, ms: scan k is due at start + k · periodMs (no drift). */
  periodMs: number;
  points: ScanPoint[];
  /**
   * `'every-scan'` (default): every scan reports every value. `'on-change'`: a value is reported when it
   * differs from the last one reported by more than `deadband` (numbers) or at all (booleans); a scan
   * with no such value reports nothing.
   */
  report?: 'every-scan' | 'on-change';
  /** Absolute deadband of `'on-change'`, in the value's units. Default 0 (any change). */
  deadband?: number;
}

export interface ScanDeviceConfig {
  /** Unique in the fleet: how values, health and statistics name the device. */
  name: string;
  host: string;
  /** Default 2001. */
  port?: number;
  /** Requests in flight at once on the device's connection (see OptoMmpClientOptions.window). Default 1. */
  window?: number;
  /** The device's block limit: coalesced reads stay within it. Default 1 024. */
  maxBlockBytes?: number;
  /** Deadline of one scan, ms. Default 1 000. */
  timeoutMs?: number;
  /** TCP connect deadline, ms. Default 2 000. */
  connectTimeoutMs?: number;
  /** source_ID of the requests. Default 0. */
  sourceId?: number;
  groups: ScanGroupConfig[];
}

export interface FleetConfig {
  devices: ScanDeviceConfig[];
}

/** The file did not parse, or a field is wrong. `issues` name each bad field by its path. */
export class FleetFileError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.FleetFileError');
  readonly issues: readonly { path: string; message: string }[];

  constructor(
    issues: { path: string; message: string }[],
    source?: string,
    options: { cause?: unknown } = {},
  ) {
    const shown = issues.slice(0, 5).map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
    const more = issues.length > 5 ? `; and ${issues.length - 5} more` : '';
    super(
      'FleetFileInvalid',
      `fleet file${source === undefined ? '' : ` ${source}`} is invalid: ${shown.join('; ')}${more}`,
      options,
    );
    this.issues = issues;
  }
}

// --- the schema ----------------------------------------------------------------------------------------

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const address = v.union([
  int(0, 0xffff_ffff),
  v.pipe(
    v.string(),
    v.regex(/^(0x)?[0-9a-f]{1,8}$/i, 'expected a 32-bit address in hex, e.g. F0D82000'),
    v.transform((s) => Number.parseInt(s.replace(/^0x/i, ''), 16)),
  ),
]);
const pointName = v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200)));
const channelPoint = <K extends string>(kind: K) =>
  v.strictObject({
    kind: v.literal(kind),
    module: int(0, 63),
    channel: int(0, EPIC_CHANNELS - 1),
    name: pointName,
  });
const pointSchema = v.variant('kind', [
  channelPoint('analog'),
  channelPoint('digital'),
  v.strictObject({
    kind: v.picklist(['int32', 'float32']),
    index: int(0, SCRATCH_PAD_ELEMENTS - 1),
    name: pointName,
  }),
  v.strictObject({ kind: v.literal('uptime'), name: pointName }),
  v.strictObject({ kind: v.picklist(['u32', 'i32', 'f32']), address, name: pointName }),
  v.strictObject({
    kind: v.picklist(['analog-module', 'digital-module']),
    module: int(0, 63),
    channels: v.optional(int(1, EPIC_CHANNELS)),
    name: pointName,
  }),
]);
const groupSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1)),
  periodMs: v.pipe(v.number(), v.finite(), v.minValue(1), v.maxValue(86_400_000)),
  report: v.optional(v.picklist(['every-scan', 'on-change'])),
  deadband: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
  points: v.pipe(v.array(pointSchema), v.minLength(1, 'a group needs at least one point')),
});
const settings = {
  port: v.optional(int(1, 65_535)),
  window: v.optional(int(1, MAX_WINDOW)),
  maxBlockBytes: v.optional(int(4, 65_535)),
  timeoutMs: v.optional(v.pipe(v.number(), v.finite(), v.minValue(1))),
  connectTimeoutMs: v.optional(v.pipe(v.number(), v.finite(), v.minValue(1))),
  sourceId: v.optional(int(0, 0xffff)),
};
const deviceSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  host: v.pipe(v.string(), v.minLength(1)),
  ...settings,
  groups: v.pipe(v.array(groupSchema), v.minLength(1, 'a device needs at least one group')),
});
const fleetSchema = v.strictObject({
  /** Settings every device takes unless it says otherwise. */
  defaults: v.optional(v.strictObject(settings)),
  devices: v.pipe(v.array(deviceSchema), v.minLength(1, 'a fleet needs at least one device')),
});

/**
 * The issues of a failed valibot check, each named by the path of its field below `prefix` and said the
 * fleet file's way (`devices[2].groups[0].periodMs: expected a number >= 1, got 0`). For a program whose
 * configuration is a fleet file plus sections of its own (the Sparkplug gateway's): its own fields then
 * read like the fleet file's.
 */
export function fleetFileIssues(
  issues: readonly v.BaseIssue<unknown>[],
  prefix = '',
): { path: string; message: string }[] {
  return issues.map((issue) => {
    let path = prefix;
    for (const item of issue.path ?? []) {
      const key = item.key as string | number;
      path += typeof key === 'number' ? `[${key}]` : path === '' ? String(key) : `.${String(key)}`;
    }
    const got = issue.received === undefined ? '' : `, got ${issue.received}`;
    const message = issue.message.startsWith('Invalid')
      ? `expected ${issue.expected ?? 'something else'}${got}`
      : issue.message;
    return { path, message };
  });
}

/** Expands module shorthands into one point per channel. */
function expand(point: FleetFilePoint): ScanPoint[] {
  if (point.kind !== 'analog-module' && point.kind !== 'digital-module') return [point as ScanPoint];
  const kind = point.kind === 'analog-module' ? 'analog' : 'digital';
  const prefix = point.name ?? `${kind} ${point.module}`;
  return Array.from(
    { length: point.channels ?? EPIC_CHANNELS },
    (_, channel): ScanPoint => ({ kind, module: point.module, channel, name: `${prefix}/${channel}` }),
  );
}

/** Checks a parsed fleet description (the JSON or YAML value) and returns it typed, defaults applied. */
export function checkFleetConfig(input: unknown, source?: string): FleetConfig {
  const result = v.safeParse(fleetSchema, input);
  if (!result.success) {
    throw new FleetFileError(fleetFileIssues(result.issues), source);
  }
  const { defaults = {}, devices } = result.output;
  // Names must be unique: devices in the fleet, groups in a device.
  const issues: { path: string; message: string }[] = [];
  const names = new Set<string>();
  devices.forEach((d, i) => {
    if (names.has(d.name))
      issues.push({ path: `devices[${i}].name`, message: `device name "${d.name}" is used twice` });
    names.add(d.name);
    const groups = new Set<string>();
    d.groups.forEach((g, j) => {
      if (groups.has(g.name)) {
        issues.push({
          path: `devices[${i}].groups[${j}].name`,
          message: `group name "${g.name}" is used twice`,
        });
      }
      groups.add(g.name);
    });
  });
  if (issues.length > 0) throw new FleetFileError(issues, source);
  return {
    devices: devices.map((d) => {
      const device: ScanDeviceConfig = {
        ...defaults,
        ...Object.fromEntries(Object.entries(d).filter(([, value]) => value !== undefined)),
        name: d.name,
        host: d.host,
        groups: d.groups.map((g) => ({
          name: g.name,
          periodMs: g.periodMs,
          report: g.report,
          deadband: g.deadband,
          points: (g.points as FleetFilePoint[]).flatMap(expand),
        })),
      };
      return device;
    }),
  };
}

/**
 * Parses a fleet file's text: YAML (a superset of JSON, so JSON works too) unless `format` says `'json'`.
 * Throws FleetFileError with the line of a syntax error, or the path of every bad field. `check` replaces
 * checkFleetConfig for a program whose configuration is a fleet file with sections of its own: it gets the
 * parsed value and the source, and returns (or throws) what that program wants.
 */
export function parseFleetFile<T = FleetConfig>(
  text: string,
  options: {
    format?: 'json' | 'yaml';
    source?: string;
    check?: (input: unknown, source: string | undefined) => T;
  } = {},
): T {
  let input: unknown;
  try {
    input = options.format === 'json' ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (error) {
    throw new FleetFileError(
      [{ path: '', message: (error as Error).message.split('\n')[0]! }],
      options.source,
      { cause: error },
    );
  }
  const check = options.check ?? (checkFleetConfig as (input: unknown, source: string | undefined) => T);
  return check(input, options.source);
}

/**
 * Reads and parses a fleet file (`.json` as JSON, anything else as YAML). A file that cannot be read is a
 * FleetFileError too (`cannot read it: no such file`), with the system's error as its cause.
 */
export async function loadFleetFile<T = FleetConfig>(
  path: string,
  options: { check?: (input: unknown, source: string | undefined) => T } = {},
): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.message;
    throw new FleetFileError([{ path: '', message: `cannot read it: ${why}` }], path, { cause: error });
  }
  return parseFleetFile(text, {
    format: /\.json$/i.test(path) ? 'json' : 'yaml',
    source: path,
    ...(options.check === undefined ? {} : { check: options.check }),
  });
}
