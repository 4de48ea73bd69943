// What the read and write nodes do with a message: which memory area, which point, which value. A field
// left blank in the node is taken from the message (`msg.module`, `msg.channel`, `msg.index`, `msg.slot`,
// `msg.address`, `msg.count`, `msg.length`); a field set in the node wins over the message.

import type { OperationOptions } from '@labwire/framing';
import type { OptoMmpClient } from '@labwire/optommp';
import { addressSetting, choiceSetting, isBlank, numberSetting, SettingError } from '../config';
import type { NodeMessage } from '../red';

export const READ_AREAS = [
  'digital',
  'analog',
  'analog-module',
  'int32',
  'float32',
  'string',
  'raw',
] as const;
export type ReadArea = (typeof READ_AREAS)[number];
export const WRITE_AREAS = ['digital', 'analog', 'int32', 'float32', 'string', 'raw'] as const;
export type WriteArea = (typeof WRITE_AREAS)[number];
export const RAW_READ_TYPES = ['u32', 'i32', 'f32', 'bytes', 'hex', 'string'] as const;
export const RAW_WRITE_TYPES = ['u32', 'i32', 'f32', 'bytes'] as const;

/** A node's settings for one operation; blank fields come from the message. */
export interface OperationSettings {
  area: string;
  module?: unknown;
  channel?: unknown;
  channels?: unknown;
  index?: unknown;
  count?: unknown;
  slot?: unknown;
  address?: unknown;
  rawType?: unknown;
  length?: unknown;
}

function pick(settings: OperationSettings, msg: NodeMessage, key: keyof OperationSettings): unknown {
  const own = settings[key];
  return isBlank(own) ? msg[key] : own;
}

const int = (min: number, max: number) => ({ integer: true, min, max });

function moduleChannel(s: OperationSettings, msg: NodeMessage): [number, number] {
  return [
    numberSetting('module', pick(s, msg, 'module'), undefined, int(0, 63)),
    numberSetting('channel', pick(s, msg, 'channel'), undefined, int(0, 63)),
  ];
}

/** Reads what the settings (and the message) name; resolves with the value for `msg.payload`. */
export async function readPoint(
  client: OptoMmpClient,
  s: OperationSettings,
  msg: NodeMessage,
  options: OperationOptions,
): Promise<unknown> {
  const area = choiceSetting('area', s.area, READ_AREAS, undefined);
  switch (area) {
    case 'digital':
      return client.getDigitalPointState(...moduleChannel(s, msg), options);
    case 'analog':
      return client.getAnalogPointValue(...moduleChannel(s, msg), options);
    case 'analog-module': {
      const module = numberSetting('module', pick(s, msg, 'module'), undefined, int(0, 63));
      const channels = numberSetting('channels', pick(s, msg, 'channels'), 64, int(1, 64));
      const points = await client.readAnalogModule(module, channels, options);
      return points.map((p) => p.value);
    }
    case 'int32':
    case 'float32': {
      const index = numberSetting('index', pick(s, msg, 'index'), undefined, int(0, 10_239));
      const count = numberSetting('count', pick(s, msg, 'count'), 1, int(1, 10_240 - index));
      if (area === 'int32') {
        return count === 1
          ? client.getScratchPadIntegerArea(index, options)
          : client.readScratchPadIntegers(index, count, options);
      }
      return count === 1
        ? client.getScratchPadFloatArea(index, options)
        : client.readScratchPadFloats(index, count, options);
    }
    case 'string':
      return client.getScratchPadStringArea(
        numberSetting('slot', pick(s, msg, 'slot'), undefined, int(0, 63)),
        options,
      );
    case 'raw': {
      const address = addressSetting('address', pick(s, msg, 'address'));
      const type = choiceSetting('type', pick(s, msg, 'rawType'), RAW_READ_TYPES, 'u32');
      const fixed = type === 'u32' || type === 'i32' || type === 'f32';
      const length = fixed ? 4 : numberSetting('length', pick(s, msg, 'length'), undefined, int(1, 65_535));
      const value = await client.readRawOffset(address, length, type, options);
      // Node-RED shows, stores and sends Buffers: hand bytes over as one (a view, no copy).
      return value instanceof Uint8Array
        ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
        : value;
    }
  }
}

/** A boolean from a payload: booleans, 0/1, and the words true/false/on/off/1/0. */
export function booleanPayload(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === 'true' || word === 'on' || word === '1') return true;
    if (word === 'false' || word === 'off' || word === '0') return false;
  }
  throw new SettingError('payload', `expected true/false, on/off or 1/0, got ${shortJson(value)}`);
}

/** A finite number from a payload (numbers, or text that is one). */
export function numberPayload(value: unknown): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  if (Number.isFinite(n)) return n;
  throw new SettingError('payload', `expected a number, got ${shortJson(value)}`);
}

function numbersPayload(value: unknown): number[] {
  if (Array.isArray(value) || ArrayBuffer.isView(value))
    return Array.from(value as ArrayLike<unknown>, numberPayload);
  return [numberPayload(value)];
}

function bytesPayload(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Uint8Array.from(value as number[]);
  }
  throw new SettingError('payload', `expected a Buffer or an array of bytes 0–255, got ${shortJson(value)}`);
}

/** Writes `msg.payload` where the settings (and the message) say. */
export async function writePoint(
  client: OptoMmpClient,
  s: OperationSettings,
  msg: NodeMessage,
  options: OperationOptions,
): Promise<void> {
  const area = choiceSetting('area', s.area, WRITE_AREAS, undefined);
  const payload = msg.payload;
  switch (area) {
    case 'digital':
      return client.setDigitalPointState(...moduleChannel(s, msg), booleanPayload(payload), options);
    case 'analog':
      return client.setAnalogPointValue(...moduleChannel(s, msg), numberPayload(payload), options);
    case 'int32':
    case 'float32': {
      const index = numberSetting('index', pick(s, msg, 'index'), undefined, int(0, 10_239));
      const values = numbersPayload(payload);
      if (values.length === 0) throw new SettingError('payload', 'no value to write');
      if (area === 'int32') {
        for (const v of values) {
          if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0xffff_ffff)
            throw new SettingError('payload', `${v} is not a 32-bit integer`);
        }
        return values.length === 1
          ? client.setScratchPadIntegerArea(index, values[0]!, options)
          : client.writeScratchPadIntegers(index, values, options);
      }
      return values.length === 1
        ? client.setScratchPadFloatArea(index, values[0]!, options)
        : client.writeScratchPadFloats(index, values, options);
    }
    case 'string': {
      if (typeof payload !== 'string' && typeof payload !== 'number')
        throw new SettingError('payload', `expected text, got ${shortJson(payload)}`);
      const slot = numberSetting('slot', pick(s, msg, 'slot'), undefined, int(0, 63));
      return client.setScratchPadStringArea(slot, String(payload), options);
    }
    case 'raw': {
      const address = addressSetting('address', pick(s, msg, 'address'));
      const type = choiceSetting('type', pick(s, msg, 'rawType'), RAW_WRITE_TYPES, 'u32');
      if (type === 'bytes') return client.writeBlock(address, bytesPayload(payload), options);
      const value = numberPayload(payload);
      if (type === 'f32') return client.writeFloat32(address, value, options);
      if (
        !Number.isInteger(value) ||
        (type === 'u32' ? value < 0 : value < -0x8000_0000) ||
        value > (type === 'u32' ? 0xffff_ffff : 0x7fff_ffff)
      )
        throw new SettingError('payload', `${value} is not a ${type === 'u32' ? 'u32' : 'i32'}`);
      return client.writeInt32(address, value, options);
    }
  }
}

function shortJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
