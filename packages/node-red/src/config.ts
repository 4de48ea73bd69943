// Reading node settings. The editor stores what the user typed (numbers may arrive as strings, fields may
// be blank); every field is checked here again, at deploy time, because flows are also imported as JSON,
// written by hand or produced by tools, and never see the editor's checks.

/** A setting that does not hold: `field` names it as the editor labels it. */
export class SettingError extends RangeError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SettingError';
    this.field = field;
  }
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Whether a setting was left blank (unset, empty text, only spaces). */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A number from a setting or a message property; blank gives `fallback` (or an error when there is none). */
export function numberSetting(
  field: string,
  value: unknown,
  fallback: number | undefined,
  rule: NumberRule = {},
): number {
  if (isBlank(value)) {
    if (fallback === undefined) throw new SettingError(field, 'required');
    return fallback;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(n)) throw new SettingError(field, `expected a number, got ${describe(value)}`);
  if (rule.integer === true && !Number.isInteger(n))
    throw new SettingError(field, `expected a whole number, got ${describe(value)}`);
  if (rule.min !== undefined && n < rule.min)
    throw new SettingError(field, `must be at least ${rule.min}, got ${n}`);
  if (rule.max !== undefined && n > rule.max)
    throw new SettingError(field, `must be at most ${rule.max}, got ${n}`);
  return n;
}

/** One of `choices`; blank gives `fallback`. */
export function choiceSetting<T extends string>(
  field: string,
  value: unknown,
  choices: readonly T[],
  fallback: T | undefined,
): T {
  if (isBlank(value)) {
    if (fallback === undefined) throw new SettingError(field, 'required');
    return fallback;
  }
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new SettingError(field, `expected one of ${choices.join(', ')}, got ${describe(value)}`);
}

/** A boolean setting (checkboxes store booleans; imported flows may hold "true"/"false"). */
export function booleanSetting(value: unknown, fallback = false): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fallback;
}

/** A text setting, trimmed; blank gives `fallback`. */
export function textSetting(value: unknown, fallback = ''): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

/** A 32-bit memory-map address as a number, or hex text (`F0D82000`, `0xF0D82000`). */
export function addressSetting(field: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return value;
    throw new SettingError(field, `expected a 32-bit address, got ${value}`);
  }
  if (typeof value === 'string' && /^\s*(0x)?[0-9a-f]{1,8}\s*$/i.test(value)) {
    return Number.parseInt(value.trim().replace(/^0x/i, ''), 16);
  }
  if (isBlank(value)) throw new SettingError(field, 'required');
  throw new SettingError(field, `expected a 32-bit address in hex (e.g. F0D82000), got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
