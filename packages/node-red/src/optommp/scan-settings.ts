// A scan node's settings as a Scanner point group, checked with the optommp fleet schema (the same rules as
// a fleet file: every bad field is reported with its path, module shorthands expand to one point per
// channel).

import { checkFleetConfig, FleetFileError, type ScanGroupConfig } from '@labwire/optommp';
import { choiceSetting, numberSetting, SettingError } from '../config';

/** The EPIC channel stride: one channel's block is 64 bytes, its value the first 4. */
const CHANNEL_STRIDE = 0x40;

export interface ScanSettings {
  group: Omit<ScanGroupConfig, 'name'>;
  output: 'scan' | 'point';
  /** Modules whose channels do not fit one block read with the device's block limit. */
  splitModules: { module: number; kind: string; bytes: number }[];
}

const NUMERIC_FIELDS = ['module', 'channel', 'channels', 'index'] as const;

/** Points as the editor stores them (numbers may be text, names may be blank) to the schema's shape. */
function normalisePoint(point: unknown): unknown {
  if (typeof point !== 'object' || point === null || Array.isArray(point)) return point;
  const out: Record<string, unknown> = { ...(point as Record<string, unknown>) };
  for (const key of NUMERIC_FIELDS) {
    const v = out[key];
    if (typeof v === 'string') out[key] = v.trim() === '' ? undefined : Number(v);
    if (out[key] === undefined) delete out[key];
  }
  if (typeof out.name === 'string' && out.name.trim() === '') delete out.name;
  if (typeof out.address === 'string') out.address = out.address.trim();
  return out;
}

export function scanSettings(config: Record<string, unknown>, maxBlockBytes: number): ScanSettings {
  const periodMs = numberSetting('period', config.period, undefined, { min: 1, max: 86_400_000 });
  const report = choiceSetting('report', config.report, ['every-scan', 'on-change'], 'every-scan');
  const deadband =
    report === 'on-change' ? numberSetting('deadband', config.deadband, 0, { min: 0 }) : undefined;
  const output = choiceSetting('output', config.output, ['scan', 'point'], 'scan');
  let points: unknown = config.points;
  if (typeof points === 'string') {
    try {
      points = JSON.parse(points);
    } catch {
      throw new SettingError('points', 'not valid JSON');
    }
  }
  if (!Array.isArray(points)) throw new SettingError('points', 'expected a list of points');
  let group: ScanGroupConfig;
  try {
    const fleet = checkFleetConfig({
      devices: [
        {
          name: 'device',
          host: 'device',
          groups: [{ name: 'scan', periodMs, report, deadband, points: points.map(normalisePoint) }],
        },
      ],
    });
    group = fleet.devices[0]!.groups[0]!;
  } catch (error) {
    if (FleetFileError.isInstance(error)) {
      const issue = error.issues[0];
      const path = (issue?.path ?? '').replace(/^devices\[0\]\.groups\[0\]\.?/, '');
      const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
      throw new SettingError(path === '' ? 'points' : path, `${issue?.message ?? error.message}${more}`);
    }
    throw error;
  }
  const splitModules: ScanSettings['splitModules'] = [];
  for (const p of points.map(normalisePoint) as { kind?: unknown; module?: number; channels?: number }[]) {
    if (p.kind !== 'analog-module' && p.kind !== 'digital-module') continue;
    const bytes = ((p.channels ?? 64) - 1) * CHANNEL_STRIDE + 4;
    if (bytes > maxBlockBytes) {
      splitModules.push({ module: p.module ?? 0, kind: p.kind, bytes });
    }
  }
  return {
    group: { periodMs: group.periodMs, points: group.points, report: group.report, deadband: group.deadband },
    output,
    splitModules,
  };
}
