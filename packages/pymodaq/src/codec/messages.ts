// The message parts of docs/protocols/pymodaq.md §7 for each generation: what follows a command, how it is read and written.
// A–C write plain values one after the other; D writes each part as its own frame.

import { viewOf } from '@labwire/framing';
import { expectArray, expectDwa, expectList, expectStr, unexpected } from './checks';
import { arraysOfDte, dteFromArrays } from './detector-data';
import { UnsupportedValueError } from './errors';
import { readListA, readValueA, writeValueA } from './gen-a';
import { readListB, readValueB, writeTaggedB, writeValueB } from './gen-b';
import {
  type LayoutC,
  readDteC,
  readDwaC,
  readListC,
  readValueC,
  writeDteC,
  writeDwaC,
  writeListC,
  writeTaggedC,
  writeValueC,
} from './gen-c';
import { readFrameD, writeTaggedD } from './gen-d';
import { NdArray } from './nd-array';
import { decodeUtf8, numericNow, readNumeric, readStr, readU32 } from './primitives';
import type { Pull, PullContext } from './pull';
import {
  type DataToExport,
  type DataWithAxes,
  isDataToExport,
  isPyScalar,
  nowSeconds,
  type PyValue,
} from './values';
import type { ReadValueOptions } from './wire-profile';
import type { WireWriter } from './wire-writer';

export interface Position {
  value: number;
  units?: string;
  data?: DataWithAxes;
}

/** How one generation reads and writes each message part. */
export interface MessageCodec {
  command(ctx: PullContext): Pull<string>;
  string(ctx: PullContext): Pull<string>;
  path(ctx: PullContext): Pull<string[]>;
  info(ctx: PullContext): Pull<{ name: string; value: string | number }>;
  position(ctx: PullContext): Pull<Position>;
  detector(ctx: PullContext): Pull<DataToExport>;
  value(ctx: PullContext, opts: ReadValueOptions): Pull<PyValue>;

  writeCommand(w: WireWriter, command: string): void;
  writeString(w: WireWriter, text: string | Uint8Array): void;
  writePath(w: WireWriter, path: readonly string[]): void;
  writeInfo(w: WireWriter, name: string, value: string | number): void;
  writePosition(w: WireWriter, value: number, units: string | undefined, timestamp: number | undefined): void;
  writeDetector(w: WireWriter, data: DataToExport): void;
  writeValue(w: WireWriter, value: PyValue): void;
  writeTagged(w: WireWriter, value: PyValue): void;
}

function strings(ctx: PullContext, items: readonly PyValue[], at: number): string[] {
  return items.map((v, i) => {
    ctx.path.push(`[${i}]`);
    const s = expectStr(ctx, v, at);
    ctx.path.pop();
    return s;
  });
}

/** A/B position: a scalar (docs/protocols/pymodaq.md §3, §4). */
function* scalarPosition(ctx: PullContext): Pull<Position> {
  const at = ctx.offset;
  const v = numericNow(ctx) ?? (yield* readNumeric(ctx));
  if (isPyScalar(v) && typeof v.value !== 'object' && typeof v.value !== 'boolean')
    return { value: Number(v.value) };
  throw unexpected(ctx, 'a float or int position', v, at);
}

function positionOf(ctx: PullContext, dwa: DataWithAxes, at: number, withUnits: boolean): Position {
  // The server uses data[0][0] as the position (docs/protocols/pymodaq.md §8.2).
  const first = dwa.data[0];
  const v = first && first.size > 0 ? first.get(0) : undefined;
  if (typeof v !== 'number' && typeof v !== 'bigint') {
    throw ctx.error(`${dwa.type} carries no real position value (data[0][0])`, at, {
      code: 'PymodaqNoPosition',
    });
  }
  return withUnits ? { value: Number(v), units: dwa.units, data: dwa } : { value: Number(v), data: dwa };
}

const ONE_LABEL: readonly string[] = Object.freeze(['CH00']);
const NONE: readonly never[] = Object.freeze([]);

/**
 * What `dataActuator(value, { units, timestamp })` builds, for writing a position (docs/protocols/pymodaq.md §8.2): the empty
 * fields share one frozen array, so a position costs one object and its array.
 */
function actuatorPosition(value: number, units = '', timestamp = nowSeconds()): DataWithAxes {
  return {
    type: 'DataActuator',
    timestamp,
    name: 'actuator',
    units,
    source: 'raw',
    dim: 'Data0D',
    distribution: 'uniform',
    data: [NdArray.fromValues([value])],
    labels: ONE_LABEL,
    origin: '',
    navIndexes: NONE,
    axes: NONE,
    errors: NONE,
    extraAttributes: NONE,
  };
}

function numberOrText(value: string | number): string {
  return typeof value === 'number' ? String(value) : value;
}

function arraysOrScalars(ctx: PullContext, items: readonly PyValue[], at: number): NdArray[] {
  return items.map((v, i) => {
    ctx.path.push(`[${i}]`);
    // A scalar item (B allows them in lists) counts as a 0-d channel.
    const array =
      isPyScalar(v) || typeof v === 'boolean'
        ? NdArray.fromValues([isPyScalar(v) ? v.value : v], {
            dtype: isPyScalar(v) ? v.dtype : '|b1',
            shape: [],
          })
        : expectArray(ctx, v, at);
    ctx.path.pop();
    return array;
  });
}

// --- A ----------------------------------------------------------------------------------------------------

export const MESSAGES_A: MessageCodec = {
  command: (ctx) => readStr(ctx),
  string: (ctx) => readStr(ctx),
  *path(ctx) {
    return (yield* readListA(ctx, 'string')) as string[];
  },
  *info(ctx) {
    const name = yield* readStr(ctx);
    // docs/protocols/pymodaq.md §3: `str name` + u32 byte count (8) + raw big-endian float64, no dtype string.
    const at = ctx.offset;
    const n = yield* readU32(ctx, 'nbytes');
    if (n !== 8)
      throw ctx.error(`gen A Info value is 8 bytes of big-endian float64, the block announces ${n}`, at);
    const vat = ctx.offset;
    const value = viewOf(ctx.take(8) ?? (yield 8)).getFloat64(0, false);
    ctx.note(vat, 8, () => `>f8 ${value}`);
    return { name, value };
  },
  position: scalarPosition,
  *detector(ctx) {
    const items = yield* readListA(ctx, 'array');
    return dteFromArrays(items as NdArray[]);
  },
  value: (ctx, opts) => readValueA(ctx, opts.kind, opts.itemKind),

  writeCommand: (w, command) => void w.str(command),
  writeString: (w, text) => void (typeof text === 'string' ? w.str(text) : w.lengthPrefixed(text)),
  writePath(w, path) {
    w.u32(path.length, 'path length');
    for (const p of path) w.str(p);
  },
  writeInfo(w, name, value) {
    const n = typeof value === 'number' ? value : Number(value);
    if (typeof value === 'string' && (value.trim() === '' || Number.isNaN(n))) {
      throw new UnsupportedValueError(`gen A Info carries a float; ${JSON.stringify(value)} is not a number`);
    }
    const bytes = new Uint8Array(8);
    viewOf(bytes).setFloat64(0, n, false);
    w.str(name).u32(8).raw(bytes);
  },
  writePosition: (w, value) => writeValueA(w, value),
  writeDetector: (w, data) => writeValueA(w, arraysOfDte(data)),
  writeValue: (w, value) => writeValueA(w, value),
  writeTagged() {
    throw new UnsupportedValueError('gen A has no type tags');
  },
};

// --- B ----------------------------------------------------------------------------------------------------

export const MESSAGES_B: MessageCodec = {
  command: (ctx) => readStr(ctx),
  string: (ctx) => readStr(ctx),
  *path(ctx) {
    const at = ctx.offset;
    return strings(ctx, yield* readListB(ctx), at);
  },
  *info(ctx) {
    return { name: yield* readStr(ctx), value: yield* readStr(ctx) };
  },
  position: scalarPosition,
  *detector(ctx) {
    const at = ctx.offset;
    return dteFromArrays(arraysOrScalars(ctx, yield* readListB(ctx), at));
  },
  value: (ctx, opts) => readValueB(ctx, opts.kind),

  writeCommand: (w, command) => void w.str(command),
  writeString: (w, text) => void (typeof text === 'string' ? w.str(text) : w.lengthPrefixed(text)),
  writePath: (w, path) => writeValueB(w, path),
  writeInfo: (w, name, value) => void w.str(name).str(numberOrText(value)),
  writePosition: (w, value) => writeValueB(w, value),
  writeDetector: (w, data) => writeValueB(w, arraysOfDte(data)),
  writeValue: (w, value) => writeValueB(w, value),
  writeTagged: (w, value) => writeTaggedB(w, value),
};

// --- C ----------------------------------------------------------------------------------------------------

export function messagesC(layout: LayoutC): MessageCodec {
  return {
    command: (ctx) => readStr(ctx),
    string: (ctx) => readStr(ctx),
    *path(ctx) {
      const at = ctx.offset;
      return strings(ctx, yield* readListC(ctx, layout), at);
    },
    *info(ctx) {
      return { name: yield* readStr(ctx), value: yield* readStr(ctx) };
    },
    *position(ctx) {
      const at = ctx.offset;
      return positionOf(ctx, yield* readDwaC(ctx, layout), at, layout.units);
    },
    detector: (ctx) => readDteC(ctx, layout),
    value: (ctx, opts) => readValueC(ctx, layout, opts.kind),

    writeCommand: (w, command) => void w.str(command),
    writeString: (w, text) => void (typeof text === 'string' ? w.str(text) : w.lengthPrefixed(text)),
    writePath: (w, path) => writeListC(w, layout, path),
    writeInfo: (w, name, value) => void w.str(name).str(numberOrText(value)),
    writePosition: (w, value, units, timestamp) =>
      writeDwaC(w, layout, actuatorPosition(value, units, timestamp)),
    writeDetector: (w, data) => writeDteC(w, layout, data),
    writeValue: (w, value) => writeValueC(w, layout, value),
    writeTagged: (w, value) => writeTaggedC(w, layout, value),
  };
}

// --- D ----------------------------------------------------------------------------------------------------

function frame(w: WireWriter, value: PyValue): void {
  const mark = w.beginFrame();
  writeTaggedD(w, value);
  w.endFrame(mark);
}

/** A frame that must hold a `str` (or, for text, `bytes` decoded as UTF-8: docs/protocols/pymodaq.md §9 n). */
function* textFrame(ctx: PullContext, acceptBytes: boolean): Pull<string> {
  const at = ctx.offset;
  const v = yield* readFrameD(ctx);
  if (typeof v === 'string') return v;
  if (acceptBytes && v instanceof Uint8Array) return decodeUtf8(v, ctx, at);
  throw unexpected(ctx, acceptBytes ? 'str or bytes' : 'str', v, at);
}

export const MESSAGES_D: MessageCodec = {
  command: (ctx) => textFrame(ctx, false),
  string: (ctx) => textFrame(ctx, true),
  *path(ctx) {
    const at = ctx.offset;
    return strings(ctx, expectList(ctx, yield* readFrameD(ctx), at), at);
  },
  *info(ctx) {
    return { name: yield* textFrame(ctx, true), value: yield* textFrame(ctx, true) };
  },
  *position(ctx) {
    const at = ctx.offset;
    return positionOf(ctx, expectDwa(ctx, yield* readFrameD(ctx), at), at, true);
  },
  *detector(ctx) {
    const at = ctx.offset;
    const v = yield* readFrameD(ctx);
    if (!isDataToExport(v)) throw unexpected(ctx, 'a DataToExport', v, at);
    return v;
  },
  value: (ctx) => readFrameD(ctx),

  writeCommand: (w, command) => frame(w, command),
  writeString: (w, text) => frame(w, text),
  writePath: (w, path) => frame(w, path),
  writeInfo(w, name, value) {
    frame(w, name);
    frame(w, numberOrText(value));
  },
  writePosition: (w, value, units, timestamp) => frame(w, actuatorPosition(value, units, timestamp)),
  writeDetector: (w, data) => frame(w, data),
  writeValue: (w, value) => frame(w, value),
  writeTagged: (w, value) => writeTaggedD(w, value),
};
