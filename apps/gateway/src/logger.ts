// The program's log on stderr: `labwire-gateway: warn: sparkplug: connection lost (url=…, error=…)`, or
// with --json one object per line: {"level":"warn","message":…,"time":…,…fields}. Libraries log through
// it (the Scanner, the EdgeNode); field values from the network are escaped.

import { type CliOutput, escapeControl, toJson } from '@labwire/cli-kit';
import type { Logger } from '@labwire/framing';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function showField(value: unknown): string {
  if (value instanceof Error) return escapeControl(value.message);
  if (typeof value === 'string') return escapeControl(value);
  try {
    return escapeControl(toJson(value));
  } catch {
    return escapeControl(String(value));
  }
}

export function createLogger(
  out: CliOutput,
  options: { level: LogLevel; json: boolean; name: string },
): Logger {
  const min = RANK[options.level];
  const line =
    (level: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
      if (RANK[level] < min) return;
      const defined = Object.entries(fields ?? {}).filter(([, v]) => v !== undefined);
      if (options.json) {
        const body = Object.fromEntries(defined.map(([k, v]) => [k, v instanceof Error ? v.message : v]));
        out.write(`${toJson({ level, time: new Date().toISOString(), message, ...body })}\n`);
        return;
      }
      const extra =
        defined.length === 0 ? '' : ` (${defined.map(([k, v]) => `${k}=${showField(v)}`).join(', ')})`;
      out.write(`${options.name}: ${level}: ${escapeControl(message)}${extra}\n`);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
