// Argument parsers of the mmp commands: each throws commander's InvalidArgumentError with a clear message.

import type { WatchPoint } from '@labwire/optommp';
import { InvalidArgumentError } from 'commander';

export function integer(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const n = /^-?0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer ${min}..${max}, got ${JSON.stringify(text)}`,
      );
    }
    return n;
  };
}

/** A 32-bit memory-map address in hex (`F030010C` or `0xF030010C`). */
export function address(text: string): number {
  if (!/^(0x)?[0-9a-f]{1,8}$/i.test(text)) {
    throw new InvalidArgumentError(
      `an address is up to 8 hex digits (e.g. F030010C), got ${JSON.stringify(text)}`,
    );
  }
  return Number.parseInt(text.replace(/^0x/i, ''), 16);
}

export function number(name: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || (Number.isNaN(n) && text.toLowerCase() !== 'nan')) {
      throw new InvalidArgumentError(`${name} must be a number, got ${JSON.stringify(text)}`);
    }
    return n;
  };
}

export const moduleNumber = integer('module', 0, 63);

/** `1,2,4,8`: pipelining windows 1…32. */
export function windowList(text: string): number[] {
  const window = integer('a window', 1, 32);
  const parts = text.split(',').map((t) => t.trim());
  if (parts.length === 0 || parts.length > 16 || parts.some((t) => t === '')) {
    throw new InvalidArgumentError(
      `windows are 1 to 16 numbers 1..32 separated by commas, got ${JSON.stringify(text)}`,
    );
  }
  return parts.map(window);
}
export const channelNumber = integer('channel', 0, 63);

export function onOff(text: string): boolean {
  const t = text.toLowerCase();
  if (['1', 'on', 'true'].includes(t)) return true;
  if (['0', 'off', 'false'].includes(t)) return false;
  throw new InvalidArgumentError(`a state is 0 or 1 (on/off), got ${JSON.stringify(text)}`);
}

export type ScratchPadType = 'int' | 'float' | 'string' | 'int64';

export function scratchPadType(text: string): ScratchPadType {
  if (text === 'int' || text === 'float' || text === 'string' || text === 'int64') return text;
  throw new InvalidArgumentError(`the type is int, float, string or int64, got ${JSON.stringify(text)}`);
}

/**
 * Watch points: `uptime`, `digital:M/C` (or `d:`), `analog:M/C` (`a:`), `int:I` (`i:`), `float:I` (`f:`),
 * `u32:ADDR`, `i32:ADDR`, `f32:ADDR`, each optionally `=name`.
 */
export function watchPoint(text: string): WatchPoint {
  const [spec, name] = text.split('=', 2) as [string, string | undefined];
  const named = <T extends WatchPoint>(p: T): T => (name ? { ...p, name } : p);
  if (spec === 'uptime') return named({ kind: 'uptime' });
  const m = /^([a-z0-9]+):(.+)$/i.exec(spec);
  if (m) {
    const [, kind, arg] = m as unknown as [string, string, string];
    const mc = /^(\d+)\/(\d+)$/.exec(arg);
    switch (kind.toLowerCase()) {
      case 'd':
      case 'digital':
        if (mc)
          return named({ kind: 'digital', module: moduleNumber(mc[1]!), channel: channelNumber(mc[2]!) });
        break;
      case 'a':
      case 'analog':
        if (mc)
          return named({ kind: 'analog', module: moduleNumber(mc[1]!), channel: channelNumber(mc[2]!) });
        break;
      case 'i':
      case 'int':
        return named({ kind: 'int32', index: integer('index', 0, 10_239)(arg) });
      case 'f':
      case 'float':
        return named({ kind: 'float32', index: integer('index', 0, 10_239)(arg) });
      case 'u32':
      case 'i32':
      case 'f32':
        return named({ kind: kind.toLowerCase() as 'u32', address: address(arg) });
    }
  }
  throw new InvalidArgumentError(
    `a watch point is uptime, digital:M/C, analog:M/C, int:I, float:I, u32:ADDR, i32:ADDR or f32:ADDR; got ${JSON.stringify(text)}`,
  );
}
