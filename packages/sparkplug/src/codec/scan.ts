// A structural pass over the protobuf wire bytes before protobufjs decodes them. protobufjs trusts its
// input: it recurses without a depth limit (a few kilobytes of nested templates or groups overflow the
// stack), reads a field of the wrong wire type as if it were right, and reports failures without an
// offset. This pass checks, without allocating anything the input claims:
// - every tag, varint (at most 10 bytes) and length prefix, against the bytes that remain;
// - the wire type of every known field (packed or unpacked for repeated scalars);
// - nesting depth, the count of metrics and of all repeated elements, against the limits.
// Unknown fields (Sparkplug's extension ranges) are skipped after the same checks.

import { LimitExceededError } from '@labwire/framing';
import { PayloadDecodeError } from '../errors';

/** Hostile-input limits of the decoder. Checked before anything is allocated. */
export interface DecodeLimits {
  /** Largest payload accepted, in bytes. Default 16 MiB. */
  maxPayloadBytes?: number;
  /** Most metrics in one payload, template members included. Default 100 000. */
  maxMetrics?: number;
  /** Most repeated elements of any kind (metrics, properties, rows, cells, parameters). Default 1 000 000. */
  maxElements?: number;
  /** Deepest message nesting (templates in templates, property sets in property sets). Default 32. */
  maxDepth?: number;
  /** Most values in one array metric (Int8Array … DateTimeArray). Default 1 000 000. */
  maxArrayLength?: number;
}

export const DEFAULT_DECODE_LIMITS: Required<DecodeLimits> = {
  maxPayloadBytes: 16 * 1024 * 1024,
  maxMetrics: 100_000,
  maxElements: 1_000_000,
  maxDepth: 32,
  maxArrayLength: 1_000_000,
};

// What each known field holds: a wire kind, or the message type it nests.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;
type Kind =
  | { wire: 0 | 1 | 2 | 5; packable?: boolean; repeated?: boolean }
  | { msg: string; repeated?: boolean; metric?: boolean };

const v: Kind = { wire: VARINT };
const f64: Kind = { wire: FIXED64 };
const f32: Kind = { wire: FIXED32 };
const len: Kind = { wire: LEN };
const ext = (name: string): Kind => ({ msg: name });

const SCHEMA: Record<string, Record<number, Kind>> = {
  Payload: { 1: v, 2: { msg: 'Metric', repeated: true, metric: true }, 3: v, 4: len, 5: len },
  Metric: {
    1: len,
    2: v,
    3: v,
    4: v,
    5: v,
    6: v,
    7: v,
    8: { msg: 'MetaData' },
    9: { msg: 'PropertySet' },
    10: v,
    11: v,
    12: f32,
    13: f64,
    14: v,
    15: len,
    16: len,
    17: { msg: 'DataSet' },
    18: { msg: 'Template' },
    19: ext('Extension'),
  },
  MetaData: { 1: v, 2: len, 3: v, 4: v, 5: len, 6: len, 7: len, 8: len },
  PropertySet: { 1: { wire: LEN, repeated: true }, 2: { msg: 'PropertyValue', repeated: true } },
  PropertyValue: {
    1: v,
    2: v,
    3: v,
    4: v,
    5: f32,
    6: f64,
    7: v,
    8: len,
    9: { msg: 'PropertySet' },
    10: { msg: 'PropertySetList' },
    11: ext('Extension'),
  },
  PropertySetList: { 1: { msg: 'PropertySet', repeated: true } },
  DataSet: {
    1: v,
    2: { wire: LEN, repeated: true },
    3: { wire: VARINT, packable: true, repeated: true },
    4: { msg: 'Row', repeated: true },
  },
  Row: { 1: { msg: 'DataSetValue', repeated: true } },
  DataSetValue: { 1: v, 2: v, 3: f32, 4: f64, 5: v, 6: len, 7: ext('Extension') },
  Template: {
    1: len,
    2: { msg: 'Metric', repeated: true, metric: true },
    3: { msg: 'Parameter', repeated: true },
    4: len,
    5: v,
  },
  Parameter: { 1: len, 2: v, 3: v, 4: v, 5: f32, 6: f64, 7: v, 8: len, 9: ext('Extension') },
  Extension: {},
};

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start group', 'end group', '32-bit'];

// The schema as flat arrays indexed by field number (the hot loop does no property lookups):
// expected wire type (-1: unknown field), nested message table, and flags.
const REPEATED = 1;
const PACKABLE = 2;
const METRIC = 4;
interface Table {
  name: string;
  wire: Int8Array;
  flags: Uint8Array;
  child: Array<Table | undefined>;
}
const TABLES: Record<string, Table> = {};
for (const [name, fields] of Object.entries(SCHEMA)) {
  const size = Math.max(0, ...Object.keys(fields).map(Number)) + 1;
  TABLES[name] = {
    name,
    wire: new Int8Array(size).fill(-1),
    flags: new Uint8Array(size),
    child: new Array(size),
  };
}
for (const [name, fields] of Object.entries(SCHEMA)) {
  const table = TABLES[name]!;
  for (const [n, kind] of Object.entries(fields)) {
    const i = Number(n);
    if ('msg' in kind) {
      table.wire[i] = LEN;
      table.child[i] = TABLES[kind.msg];
      table.flags[i] = (kind.repeated ? REPEATED : 0) | (kind.metric ? METRIC : 0);
    } else {
      table.wire[i] = kind.wire;
      table.flags[i] = (kind.repeated ? REPEATED : 0) | (kind.packable ? PACKABLE : 0);
    }
  }
}

class Scanner {
  private metrics = 0;
  private elements = 0;
  /** Read position; every helper advances it. */
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: Required<DecodeLimits>,
  ) {}

  fail(message: string, offset: number): never {
    throw new PayloadDecodeError(message, offset, this.bytes);
  }

  /** Reads a varint at `pos` (the low 53 bits exactly: enough for tags and lengths) and advances. */
  varint(end: number): number {
    const bytes = this.bytes;
    let pos = this.pos;
    if (pos < end) {
      const b = bytes[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b;
      }
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) this.fail('truncated varint', pos);
      const b = bytes[pos++]!;
      if (i < 8) value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    return this.fail('varint longer than 10 bytes', pos - 10);
  }

  message(table: Table, end: number, depth: number): void {
    if (depth > this.limits.maxDepth) {
      throw new LimitExceededError(
        `Sparkplug payload nesting depth at offset ${this.pos}`,
        this.limits.maxDepth,
        depth,
      );
    }
    const wires = table.wire;
    while (this.pos < end) {
      const tagStart = this.pos;
      const tag = this.varint(end);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) this.fail('field number 0', tagStart);
      if (field > 536_870_911) this.fail(`field number ${field} out of range`, tagStart);
      const expected = field < wires.length ? wires[field]! : -1;
      if (expected < 0) {
        this.skip(wire, end, depth, tagStart, field, undefined, 0);
        continue;
      }
      const flags = table.flags[field]!;
      if (wire !== expected && !((flags & PACKABLE) !== 0 && wire === LEN)) {
        this.fail(
          `${table.name} field ${field}: wire type ${WIRE_NAMES[wire] ?? wire} where ${WIRE_NAMES[expected]} is expected`,
          tagStart,
        );
      }
      if ((flags & REPEATED) !== 0) this.count(tagStart);
      this.skip(wire, end, depth, tagStart, field, table.child[field], flags);
    }
    if (this.pos > end) this.fail(`${table.name} overruns its length`, end);
  }

  private count(offset: number): void {
    if (++this.elements > this.limits.maxElements) {
      throw new LimitExceededError(
        `Sparkplug payload elements at offset ${offset}`,
        this.limits.maxElements,
        this.elements,
      );
    }
  }

  private skip(
    wire: number,
    end: number,
    depth: number,
    tagStart: number,
    field: number,
    child: Table | undefined,
    flags: number,
  ): void {
    switch (wire) {
      case VARINT:
        this.varint(end);
        return;
      case FIXED64:
        if (this.pos + 8 > end) this.fail('truncated 64-bit field', tagStart);
        this.pos += 8;
        return;
      case FIXED32:
        if (this.pos + 4 > end) this.fail('truncated 32-bit field', tagStart);
        this.pos += 4;
        return;
      case LEN: {
        const length = this.varint(end);
        const start = this.pos;
        if (length > end - start) {
          this.fail(`length ${length} exceeds the ${end - start} byte(s) that remain`, tagStart);
        }
        if (child !== undefined) {
          if ((flags & METRIC) !== 0 && ++this.metrics > this.limits.maxMetrics) {
            throw new LimitExceededError(
              `Sparkplug metrics at offset ${tagStart}`,
              this.limits.maxMetrics,
              this.metrics,
            );
          }
          this.message(child, start + length, depth + 1);
        } else if ((flags & PACKABLE) !== 0) {
          while (this.pos < start + length) {
            this.varint(start + length);
            this.count(this.pos);
          }
        }
        this.pos = start + length;
        return;
      }
      case 3: {
        // proto2 group (only in unknown fields here): skip to the matching end-group tag.
        if (depth + 1 > this.limits.maxDepth) {
          throw new LimitExceededError(
            `Sparkplug payload group nesting at offset ${tagStart}`,
            this.limits.maxDepth,
            depth + 1,
          );
        }
        for (;;) {
          if (this.pos >= end) this.fail(`unterminated group (field ${field})`, tagStart);
          const innerStart = this.pos;
          const tag = this.varint(end);
          const innerWire = tag & 7;
          if (innerWire === 4) {
            if (Math.floor(tag / 8) !== field) this.fail('end-group tag of another group', innerStart);
            return;
          }
          this.skip(innerWire, end, depth + 1, innerStart, Math.floor(tag / 8), undefined, 0);
        }
      }
      case 4:
        this.fail('end-group tag without a start-group', tagStart);
        break;
      default:
        this.fail(`invalid wire type ${wire}`, tagStart);
    }
  }
}

/** Checks the structure of `bytes` as a Sparkplug B Payload against `limits`; throws on the first problem. */
export function scanPayload(bytes: Uint8Array, limits: Required<DecodeLimits>): void {
  if (bytes.length > limits.maxPayloadBytes) {
    throw new LimitExceededError('Sparkplug payload', limits.maxPayloadBytes, bytes.length);
  }
  new Scanner(bytes, limits).message(TABLES.Payload!, bytes.length, 0);
}
