// explainFrame(): a captured message explained as JSON, field by field (what `pymodaq decode` prints).
// Gen D frames describe themselves. Gen A–C carry no types, so the explainer reads a command and then the
// payload that command takes (docs/protocols/pymodaq.md §7); a message that starts with a class name (DataToExport, a
// DataWithAxes flavour, Axis) is read as that object.

import { LabwireError, toHex } from '@labwire/framing';
import { type MessagePart, pullFor } from './decode';
import { type JsonValue, toJsonValue } from './json';
import { NdArray } from './nd-array';
import { implOf } from './profile';
import { type PullContext, runSync, type TraceEntry } from './pull';
import { DWA_CLASSES, type PyValue } from './values';
import type { ReadValueOptions, ValueKind, WireProfile } from './wire-profile';

export interface Explanation {
  generation: string;
  description: string;
  length: number;
  /** The messages found, in order. */
  messages: {
    offset: number;
    length: number;
    part: MessagePart | `value:${ValueKind}`;
    value: JsonValue;
  }[];
  /** Every field of every message, in order. */
  fields: {
    offset: number;
    length: number;
    hex: string;
    field: string;
    meaning: string;
  }[];
  /** Set when decoding stopped on an error; the messages before it are complete. */
  error?: { name: string; code: string; message: string; offset?: number };
  /** Bytes after the last decoded message that could not be explained. */
  unexplained?: { offset: number; length: number; hex: string };
}

/** Payload each command takes (docs/protocols/pymodaq.md §7): parts read after it, in order. */
const COMMAND_PAYLOAD: Record<string, readonly (MessagePart | ValueKind)[]> = {
  Done: ['detector'],
  Infos: ['string'],
  Info: ['info'],
  Info_xml: ['path', 'string'],
  set_info: ['path', 'string'],
  position_is: ['position'],
  move_done: ['position'],
  move_abs: ['position'],
  move_rel: ['position'],
};
const NO_PAYLOAD = new Set([
  'GRABBER',
  'ACTUATOR',
  'Quit',
  'move_home',
  'get_actuator_value',
  'check_position',
  'stop_motion',
  'Send Data 0D',
  'Send Data 1D',
  'Send Data 2D',
  'Send Data ND',
  'Status',
  'Server Closed',
]);
const CLASS_KIND: Record<string, ValueKind> = {
  Axis: 'axis',
  DataToExport: 'dte',
  ...Object.fromEntries(DWA_CLASSES.map((c) => [c, 'dwa' as ValueKind])),
};

function jsonOf(part: string, value: unknown, max: number): JsonValue {
  if (part === 'position' || part === 'info' || part === 'detector') {
    return JSON.parse(
      JSON.stringify(value, (_k, v: unknown) =>
        v instanceof NdArray || typeof v === 'bigint'
          ? toJsonValue(v as PyValue, { maxArrayValues: max })
          : v,
      ),
    ) as JsonValue;
  }
  return toJsonValue(value as PyValue, { maxArrayValues: max });
}

export function explainFrame(
  bytes: Uint8Array,
  wireProfile: WireProfile,
  options: {
    /**
     * What the bytes hold. Default `auto`: gen D reads frames until the bytes end; gen A–C read
     * command + payload pairs (or one object when the bytes start with its class name).
     */
    part?: MessagePart | 'auto';
    /** For part `value` in gen A–C: what to read (see ReadValueOptions). */
    kind?: ValueKind;
    itemKind?: ReadValueOptions['itemKind'];
    /** Arrays show at most this many values (default 64). */
    maxArrayValues?: number;
  } = {},
): Explanation {
  const profile = implOf(wireProfile);
  const max = options.maxArrayValues ?? 64;
  const ctx = profile.context({ trace: true });
  const out: Explanation = {
    generation: profile.generation,
    description: profile.description,
    length: bytes.length,
    messages: [],
    fields: [],
  };
  let at = 0;
  const read = (part: MessagePart | ValueKind): unknown => {
    const isPart = ['command', 'string', 'path', 'info', 'position', 'detector', 'value'].includes(part);
    const opts: ReadValueOptions = isPart
      ? { kind: options.kind, itemKind: options.itemKind }
      : { kind: part as ValueKind, itemKind: options.itemKind };
    const name = (isPart ? part : 'value') as MessagePart;
    const start = at;
    const { value, end } = runSync(pullFor(profile, name, ctx as PullContext, opts), bytes, ctx, at);
    at = end;
    out.messages.push({
      offset: start,
      length: end - start,
      part: isPart ? (part as MessagePart) : `value:${part as ValueKind}`,
      value: jsonOf(name, value, max),
    });
    return value;
  };
  try {
    const part = options.part ?? 'auto';
    if (part !== 'auto') {
      read(part);
    } else if (profile.framed) {
      while (at < bytes.length) read('value');
    } else {
      while (at < bytes.length) {
        const first = peekString(bytes, at);
        const kind = first === undefined ? undefined : CLASS_KIND[first];
        if (kind) {
          read(kind);
          continue;
        }
        const command = read('command') as string;
        const payload = COMMAND_PAYLOAD[command];
        if (payload) for (const p of payload) read(p);
        else if (!NO_PAYLOAD.has(command)) break; // unknown: in A–C nothing tells where its payload ends
      }
    }
  } catch (e) {
    const err = e as LabwireError & { offset?: number };
    out.error = {
      name: err.name,
      code: LabwireError.isInstance(e) ? err.code : 'Error',
      message: err.message,
      ...(typeof err.offset === 'number' ? { offset: err.offset } : {}),
    };
  }
  out.fields = (ctx.trace ?? []).map((t: TraceEntry) => ({
    offset: t.offset,
    length: t.length,
    hex: toHex(bytes.subarray(t.offset, t.offset + Math.min(t.length, 64))) + (t.length > 64 ? '…' : ''),
    field: t.field,
    meaning: t.meaning,
  }));
  if (at < bytes.length && out.error === undefined) {
    out.unexplained = { offset: at, length: bytes.length - at, hex: toHex(bytes.subarray(at, at + 256)) };
  }
  return out;
}

/** The `str` at `at`, if the bytes there are one (cheap look-ahead; never throws). */
function peekString(bytes: Uint8Array, at: number): string | undefined {
  if (at + 4 > bytes.length) return undefined;
  const n = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  if (n > 64 || at + 4 + n > bytes.length) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at + 4, n).toString('utf8');
}
