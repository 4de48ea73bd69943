// The gateway's configuration file: an OptoMMP fleet file (the one `mmp scan` reads: devices, point groups,
// periods, deadbands; checked by @labwire/optommp's schema) plus what Sparkplug needs:
//
//   sparkplug:                     # all optional
//     groupId: Lab
//     edgeNodeId: gateway-{shard}  # {shard} becomes the shard number (--shard i/n)
//     broker: mqtt://127.0.0.1:1883   # or a list (failover); none: the embedded broker
//     ...
//   defaults: { timeoutMs: 500 }   # fleet-file defaults
//   devices:
//     - name: press-1              # the Sparkplug device id unless deviceId says otherwise
//       host: 10.0.0.5
//       deviceId: press-1
//       shard: 2                   # pin the device to a shard (default: by a hash of its id)
//       groups:
//         - name: fast
//           periodMs: 100
//           deadband: 0.01
//           points:
//             - { kind: analog-module, module: 2, channels: 24 }
//             - { kind: digital, module: 0, channel: 3, name: Heater, writable: true }
//
// Everything is checked with valibot, like the fleet file: every mistake is reported with the path of the
// field (`devices[1].groups[0].points[2].writable: uptime is read-only`), and the program exits with 2.

import {
  checkFleetConfig,
  FleetFileError,
  fleetFileIssues,
  loadFleetFile,
  parseFleetFile,
  type ScanDeviceConfig,
  type ScanPoint,
  watchPointName,
} from '@labwire/optommp';
import { BDSEQ_METRIC, REBIRTH_METRIC } from '@labwire/sparkplug';
import { DataType } from '@labwire/sparkplug/codec';
import * as v from 'valibot';
import { type ConfigIssue, GatewayConfigError } from './errors';

export { type ConfigIssue, GatewayConfigError };

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';

/** The `sparkplug` section, as written (CLI options override it). */
export interface SparkplugSettings {
  groupId?: string | undefined;
  /** May hold `{shard}`. */
  edgeNodeId?: string | undefined;
  broker?: string[] | undefined;
  clientId?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  protocolVersion?: 4 | 5 | undefined;
  keepaliveSeconds?: number | undefined;
  primaryHostId?: string | undefined;
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } | undefined;
  storeAndForward?: false | { maxMetrics?: number; overflow?: OverflowPolicy } | undefined;
}

/** One published metric: a scanned point. */
export interface GatewayMetric {
  name: string;
  datatype: DataType;
  point: ScanPoint;
  /** DCMD may write it. */
  writable: boolean;
}

export interface GatewayGroup {
  name: string;
  /** `on-change` (default: report by exception, Sparkplug's recommendation) or `every-scan`. */
  report: 'on-change' | 'every-scan';
  deadband: number;
  /** In the order of the group's points (the order of the scanner's values). */
  metrics: GatewayMetric[];
}

export interface GatewayDevice {
  /** Position in the file's device list. */
  index: number;
  /** The Sparkplug device id. */
  deviceId: string;
  /** A shard the file pins the device to (1-based). */
  shard: number | undefined;
  /** What the scanner reads (every group reports every scan; the gateway does report by exception). */
  scan: ScanDeviceConfig;
  groups: GatewayGroup[];
}

export interface GatewayConfig {
  sparkplug: SparkplugSettings;
  devices: GatewayDevice[];
}

// --- schema ----------------------------------------------------------------------------------------------

const SPARKPLUG_ID = /^[^+/#]+$/;
const sparkplugId = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(200),
  v.regex(SPARKPLUG_ID, "a Sparkplug id must not contain '+', '/' or '#'"),
);
const edgeNodeIdTemplate = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(200),
  v.check(
    (s) => SPARKPLUG_ID.test(s.replaceAll('{shard}', '1')),
    "a Sparkplug id must not contain '+', '/' or '#'",
  ),
);
export const BROKER_URL = /^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+(:\d{1,5})?(\/\S*)?$/i;
const brokerUrl = v.pipe(
  v.string(),
  v.regex(BROKER_URL, 'expected a broker URL such as mqtt://host:1883 (mqtt, mqtts, ws, wss)'),
);
const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const nonEmpty = v.pipe(v.string(), v.minLength(1));

const sparkplugSchema = v.strictObject({
  groupId: v.optional(sparkplugId),
  edgeNodeId: v.optional(edgeNodeIdTemplate),
  broker: v.optional(v.union([brokerUrl, v.pipe(v.array(brokerUrl), v.minLength(1))])),
  clientId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(65_535))),
  username: v.optional(v.string()),
  password: v.optional(v.string()),
  protocolVersion: v.optional(v.picklist([4, 5])),
  keepaliveSeconds: v.optional(int(0, 65_535)),
  primaryHostId: v.optional(sparkplugId),
  tls: v.optional(
    v.strictObject({
      ca: v.optional(nonEmpty),
      cert: v.optional(nonEmpty),
      key: v.optional(nonEmpty),
      rejectUnauthorized: v.optional(v.boolean()),
    }),
  ),
  storeAndForward: v.optional(
    v.union([
      v.literal(false),
      v.strictObject({
        maxMetrics: v.optional(int(1, 100_000_000)),
        overflow: v.optional(v.picklist(['drop-oldest', 'drop-newest', 'reject'])),
      }),
    ]),
  ),
});

// The devices (and their defaults) are the fleet file's: checked by @labwire/optommp's schema below.
const fileSchema = v.strictObject({
  sparkplug: v.optional(sparkplugSchema),
  defaults: v.optional(v.unknown()),
  devices: v.optional(v.unknown()),
});

const deviceExtras = {
  deviceId: v.optional(sparkplugId),
  shard: v.optional(int(1, 1024)),
};

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** The Sparkplug datatype a scanned point is published as. */
export function datatypeOf(point: ScanPoint): DataType {
  switch (point.kind) {
    case 'digital':
      return DataType.Boolean;
    case 'analog':
    case 'float32':
    case 'f32':
      return DataType.Float;
    case 'int32':
    case 'i32':
      return DataType.Int32;
    case 'uptime':
    case 'u32':
      return DataType.UInt32;
  }
}

/** One point as the fleet schema expands it (module shorthands become one point per channel). */
function expandPoint(point: unknown): ScanPoint[] {
  const fleet = checkFleetConfig({
    devices: [{ name: 'x', host: 'x', groups: [{ name: 'x', periodMs: 1, points: [point] }] }],
  });
  return fleet.devices[0]!.groups[0]!.points;
}

/**
 * Checks a parsed configuration (the JSON or YAML value) and returns it resolved: fleet defaults applied,
 * module shorthands expanded, metric names and datatypes assigned. Throws GatewayConfigError with every
 * problem found.
 */
export function checkGatewayConfig(input: unknown, source?: string): GatewayConfig {
  const issues: ConfigIssue[] = [];
  // Every problem is reported at once: the top level's, the sparkplug section's and the devices'.
  const top = v.safeParse(fileSchema, input);
  if (!top.success) issues.push(...fleetFileIssues(top.issues));
  if (!isObject(input)) {
    if (issues.length === 0)
      issues.push({
        path: '',
        message: `expected an object with a devices list, got ${Array.isArray(input) ? 'a list' : typeof input}`,
      });
    throw new GatewayConfigError(issues, source);
  }
  const topIssues = issues.length;
  const { defaults, devices } = input;
  const sparkplug = (top.success ? top.output.sparkplug : undefined) ?? {};

  // The gateway's own keys (deviceId and shard on a device, writable on a point) are checked here and
  // taken out before the fleet schema, which knows nothing of them, sees the rest.
  const writableAt = new Map<string, boolean>(); // "i.j.k" → writable
  const fleetDevices = Array.isArray(devices)
    ? devices.map((d, i) => {
        if (!isObject(d)) return d;
        const { deviceId, shard, ...rest } = d;
        const extras = v.safeParse(v.object(deviceExtras), { deviceId, shard });
        if (!extras.success) issues.push(...fleetFileIssues(extras.issues, `devices[${i}]`));
        if (!Array.isArray(rest.groups)) return rest;
        return {
          ...rest,
          groups: rest.groups.map((g: unknown, j) => {
            if (!isObject(g) || !Array.isArray(g.points)) return g;
            return {
              ...g,
              points: g.points.map((p: unknown, k) => {
                if (!isObject(p) || !('writable' in p)) return p;
                const { writable, ...point } = p;
                const at = `devices[${i}].groups[${j}].points[${k}]`;
                if (typeof writable !== 'boolean')
                  issues.push({
                    path: `${at}.writable`,
                    message: `expected a boolean, got ${typeof writable}`,
                  });
                else if (writable && point.kind === 'uptime')
                  issues.push({ path: `${at}.writable`, message: 'uptime is read-only' });
                else writableAt.set(`${i}.${j}.${k}`, writable);
                return point;
              }),
            };
          }),
        };
      })
    : devices;

  let fleet: ReturnType<typeof checkFleetConfig> | undefined;
  try {
    fleet = checkFleetConfig({ ...(defaults === undefined ? {} : { defaults }), devices: fleetDevices });
  } catch (error) {
    if (!FleetFileError.isInstance(error)) throw error;
    issues.splice(topIssues, 0, ...error.issues);
  }
  if (issues.length > 0 || fleet === undefined) throw new GatewayConfigError(issues, source);

  const raw = devices as Record<string, unknown>[];
  const ids = new Map<string, number>();
  const resolved: GatewayDevice[] = fleet.devices.map((scan, i) => {
    const given = raw[i]!.deviceId as string | undefined;
    const deviceId = given ?? scan.name;
    if (given === undefined && !SPARKPLUG_ID.test(scan.name)) {
      issues.push({
        path: `devices[${i}].name`,
        message: `${JSON.stringify(scan.name)} is not a valid Sparkplug device id (no '+', '/' or '#'): give the device a deviceId`,
      });
    }
    const other = ids.get(deviceId);
    if (other !== undefined) {
      issues.push({
        path: `devices[${i}].${given === undefined ? 'name' : 'deviceId'}`,
        message: `device id ${JSON.stringify(deviceId)} is used twice (also devices[${other}])`,
      });
    } else ids.set(deviceId, i);

    const names = new Map<string, string>();
    const rawGroups = raw[i]!.groups as Record<string, unknown>[];
    const groups: GatewayGroup[] = scan.groups.map((g, j) => {
      const metrics: GatewayMetric[] = [];
      (rawGroups[j]!.points as unknown[]).forEach((p, k) => {
        const at = `devices[${i}].groups[${j}].points[${k}]`;
        const { writable: _, ...point } = p as Record<string, unknown>;
        for (const expanded of expandPoint(point)) {
          const name = watchPointName(expanded);
          const seen = names.get(name);
          if (seen !== undefined) {
            issues.push({
              path: at,
              message: `metric name ${JSON.stringify(name)} is used twice in device ${JSON.stringify(deviceId)} (also ${seen}); give one a name`,
            });
          } else if (name === BDSEQ_METRIC || name === REBIRTH_METRIC) {
            issues.push({
              path: at,
              message: `metric name ${JSON.stringify(name)} is reserved by Sparkplug`,
            });
          }
          names.set(name, at);
          metrics.push({
            name,
            datatype: datatypeOf(expanded),
            point: expanded,
            writable: writableAt.get(`${i}.${j}.${k}`) === true,
          });
        }
      });
      return {
        name: g.name,
        report: g.report ?? 'on-change',
        deadband: g.deadband ?? 0,
        metrics,
      };
    });
    return {
      index: i,
      deviceId,
      shard: raw[i]!.shard as number | undefined,
      // The scanner reports every scan; report by exception (with the write confirmations) is done here.
      scan: { ...scan, groups: scan.groups.map((g) => ({ ...g, report: 'every-scan', deadband: 0 })) },
      groups,
    };
  });
  if (issues.length > 0) throw new GatewayConfigError(issues, source);
  const broker = sparkplug.broker;
  return {
    sparkplug: {
      ...sparkplug,
      broker: broker === undefined ? undefined : typeof broker === 'string' ? [broker] : broker,
    },
    devices: resolved,
  };
}

/** Parses a configuration's text: YAML (JSON is YAML too) unless `format` says `json`. */
export function parseGatewayConfig(
  text: string,
  options: { format?: 'json' | 'yaml'; source?: string } = {},
): GatewayConfig {
  try {
    return parseFleetFile(text, { ...options, check: checkGatewayConfig });
  } catch (error) {
    throw asConfigError(error, options.source);
  }
}

/** Reads and checks a configuration file (`.json` as JSON, anything else as YAML). */
export async function loadGatewayConfig(file: string): Promise<GatewayConfig> {
  try {
    return await loadFleetFile(file, { check: checkGatewayConfig });
  } catch (error) {
    throw asConfigError(error, file);
  }
}

/**
 * A file that cannot be read or does not parse (optommp's FleetFileError, from reading it the fleet file's
 * way) as the gateway's error; checkGatewayConfig throws GatewayConfigError itself.
 */
function asConfigError(error: unknown, source: string | undefined): unknown {
  if (!FleetFileError.isInstance(error)) return error;
  return new GatewayConfigError([...error.issues], source, { cause: error.cause });
}
