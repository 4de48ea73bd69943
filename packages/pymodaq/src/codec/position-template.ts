// Positions are an actuator's hot path (move_abs → move_done, as fast as the stage answers). For one
// command and one unit, the bytes of a position differ only in its float64 fields: in gen A/B the scalar
// `<f8` value (docs/protocols/pymodaq.md §3, §4), in C1–C4 and D a DataActuator's timestamp and value (§5.5 and §6.4 byte
// walks). So the first position of a (command, units) pair is written by the general encoder, which notes
// where those fields went, and later positions copy those bytes and write the fields. A template is only
// used after its fields were found holding exactly what was written there, so its bytes are the general
// encoder's.
// Reading works the other way round: a position that arrives whole and matches the template of the units
// last read (all but its fields) is taken without decoding; anything else is decoded the general way.

import type { ByteReader } from '@labwire/framing';
import { HOST_LITTLE_ENDIAN } from './dtype';
import type { MessageCodec, Position } from './messages';
import { NdArray } from './nd-array';
import { consumePeeked, PEEK_SCRATCH, readerIdle } from './pull';
import { type DataWithAxes, nowSeconds } from './values';
import { WireWriter } from './wire-writer';

interface PositionTemplate {
  readonly bytes: Uint8Array;
  /** `bytes` as a Buffer (one native compare per message, see match()). */
  readonly view: Buffer;
  /** Where the DataActuator timestamp goes (-8 for a scalar position, which has none). */
  readonly timestampAt: number;
  readonly valueAt: number;
}

/** How a generation carries a position: a scalar (A/B), a DataActuator without (C1–C3) or with units. */
export type PositionForm = 'scalar' | 'actuator' | 'actuator-units';

/** Units strings come from users: this many per command are cached, the others go the general way. */
const MAX_UNITS = 16;
const SENTINEL_TIMESTAMP = 1_234_567_890.125;
const SENTINEL_VALUE = -98_765.4321;

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

function putF64LE(out: Uint8Array, at: number, value: number): void {
  F64[0] = value;
  if (HOST_LITTLE_ENDIAN) for (let i = 0; i < 8; i++) out[at + i] = F64_BYTES[i]!;
  else for (let i = 0; i < 8; i++) out[at + i] = F64_BYTES[7 - i]!;
}

function getF64LE(bytes: Uint8Array, at: number): number {
  if (HOST_LITTLE_ENDIAN) for (let i = 0; i < 8; i++) F64_BYTES[i] = bytes[at + i]!;
  else for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = bytes[at + i]!;
  return F64[0]!;
}

/** `to[at…at+8) = from[start…start+8)`. */
function copy8(from: Uint8Array, start: number, to: Uint8Array, at: number): void {
  for (let i = 0; i < 8; i++) to[at + i] = from[start + i]!;
}

const ONE: readonly number[] = Object.freeze([1]);

export class PositionTemplates {
  readonly #messages: MessageCodec;
  readonly #form: PositionForm;
  /** By command ('' for a position alone), then by units; null: this pair has no template. */
  readonly #byCommand = new Map<string, Map<string, PositionTemplate | null>>();
  /** The units of the last position read: the template the next one is expected to match. */
  #expectedUnits = '';
  /** The DataActuator timestamp of the last position match() took (undefined for a scalar position). */
  #matchedTimestamp: number | undefined;

  constructor(messages: MessageCodec, form: PositionForm) {
    this.#messages = messages;
    this.#form = form;
  }

  /** A position read the general way: the next one is expected in the same units. */
  learn(position: Position): void {
    if (position.units !== undefined) this.#expectedUnits = position.units;
  }

  /**
   * The position at the head of the reader, when it is there whole, no other read is in line, and it
   * matches the expected template; it is then consumed. Otherwise undefined and nothing is consumed.
   * The result is what the general decoder makes of the same bytes (`lean`: only `{ value, units }`).
   */
  readAtHand(reader: ByteReader, lean = false): Position | undefined {
    const n = this.expectedLength();
    if (n === 0 || n > PEEK_SCRATCH.length || reader.buffered < n || !readerIdle(reader)) return undefined;
    // Looked at in a scratch copy (no allocation); the result refers to none of its bytes.
    const got = reader.peekInto(PEEK_SCRATCH);
    const position = this.match(PEEK_SCRATCH, 0, lean, got);
    if (position === undefined) return undefined;
    const before = reader.buffered;
    const consuming = consumePeeked(reader, n);
    if (reader.buffered !== before - n) {
      // Refused (the reader was closed): the general read reports it.
      consuming.catch(() => {});
      return undefined;
    }
    return position;
  }

  /**
   * The timestamp of the position match() took last (a DataActuator's, seconds since the epoch);
   * undefined for a scalar position (gen A/B carry none). Valid until the next match().
   */
  get matchedTimestamp(): number | undefined {
    return this.#matchedTimestamp;
  }

  /** Bytes of a position that matches the expected template (0: no template). */
  expectedLength(): number {
    return this.#expected()?.bytes.length ?? 0;
  }

  /** The template of a position in the units last read (looked up once per change of units). */
  #expected(): PositionTemplate | undefined {
    const units = this.#expectedUnits;
    if (this.#expectedFor !== units) {
      this.#expectedTemplate = this.#get('', false, units);
      this.#expectedFor = units;
    }
    return this.#expectedTemplate;
  }
  #expectedFor: string | undefined;
  #expectedTemplate: PositionTemplate | undefined;
  /** The key, units and template encode() used last, for the same again (a stream of moves). */
  #lastKey: string | undefined;
  #lastUnits: string | undefined;
  #lastTemplate: PositionTemplate | undefined;

  /**
   * The position at `src[at…]` when it matches the expected template (`expectedLength()` bytes), else
   * undefined. `lean`: only `{ value, units }`, without the DataActuator (for the roles, which use no more).
   * Only `src[0, end)` holds bytes (a scratch buffer may be longer); the result never refers to `src`.
   * `src` is the caller's copy of the bytes (a peek): its field bytes are overwritten with the template's,
   * so that one native compare checks all the rest.
   */
  match(src: Uint8Array, at: number, lean: boolean, end = src.length): Position | undefined {
    const units = this.#expectedUnits;
    const template = this.#expected();
    if (template === undefined) return undefined;
    const { bytes, timestampAt, valueAt } = template;
    const n = bytes.length;
    if (end - at < n) return undefined;
    const scalar = this.#form === 'scalar';
    // The fields are read first, then replaced by the template's (a DataActuator's timestamp comes first,
    // docs/protocols/pymodaq.md §5.5, §6.1): everything else must equal the template.
    const value = getF64LE(src, at + valueAt);
    const timestamp = scalar ? 0 : getF64LE(src, at + timestampAt);
    const valueBytes = lean || scalar ? undefined : src.slice(at + valueAt, at + valueAt + 8);
    copy8(bytes, valueAt, src, at + valueAt);
    if (!scalar) copy8(bytes, timestampAt, src, at + timestampAt);
    if (template.view.compare(src, at, at + n, 0, n) !== 0) return undefined;
    this.#matchedTimestamp = scalar ? undefined : timestamp;
    if (scalar) return { value };
    const withUnits = this.#form === 'actuator-units';
    if (lean) return withUnits ? { value, units } : { value };
    const data: DataWithAxes = {
      type: 'DataActuator',
      timestamp,
      name: 'actuator',
      units: withUnits ? units : '',
      source: 'raw',
      dim: 'Data0D',
      distribution: 'uniform',
      // A copy of the eight bytes: `src` may be scratch memory that the next message overwrites.
      data: [new NdArray('<f8', ONE, valueBytes!)],
      labels: ['CH00'],
      origin: '',
      navIndexes: [],
      axes: [],
      errors: [],
      extraAttributes: [],
    };
    return withUnits ? { value, units, data } : { value, data };
  }

  /**
   * `command` (when given) and the position, as the general encoder writes them; undefined when this pair
   * has no template (then the caller encodes the general way).
   */
  encode(
    command: string | undefined,
    value: number,
    units: string,
    timestamp: number | undefined,
    transient: boolean,
  ): Uint8Array | undefined {
    const key = command ?? '';
    if (this.#lastKey !== key || this.#lastUnits !== units) {
      this.#lastTemplate = this.#get(key, command !== undefined, units);
      this.#lastKey = key;
      this.#lastUnits = units;
      this.#spare = undefined;
      this.#lent = undefined;
    }
    const template = this.#lastTemplate;
    if (template === undefined) return undefined;
    let out: Uint8Array;
    const spare = this.#spare;
    if (transient && spare !== undefined) {
      // The bytes of the last message, handed back once written: only the fields differ.
      out = spare;
      this.#spare = undefined;
    } else {
      const n = template.bytes.length;
      out = transient ? Buffer.allocUnsafe(n) : new Uint8Array(n);
      out.set(template.bytes, 0);
    }
    if (transient) this.#lent = out;
    // A scalar carries no timestamp (and needs no clock read); a DataActuator's is now unless given.
    if (this.#form !== 'scalar') putF64LE(out, template.timestampAt, timestamp ?? nowSeconds());
    putF64LE(out, template.valueAt, value);
    return out;
  }

  /**
   * Takes back the memory of the last transient message encode() returned, once nothing refers to it any
   * more (its write completed in the caller's turn: the kernel has the bytes): the next message of the
   * same command and units is written over it, fields only. Anything else is ignored.
   */
  giveBack(bytes: Uint8Array): void {
    if (bytes !== this.#lent) return;
    this.#lent = undefined;
    this.#spare = bytes;
  }
  /** The last transient message encode() returned (see giveBack). */
  #lent: Uint8Array | undefined;
  /** Memory handed back by giveBack: the last template's bytes with the last fields. */
  #spare: Uint8Array | undefined;

  #get(key: string, withCommand: boolean, unitsGiven: string): PositionTemplate | undefined {
    // A scalar position carries no units: one template serves them all.
    const units = this.#form === 'scalar' ? '' : unitsGiven;
    let byUnits = this.#byCommand.get(key);
    if (byUnits === undefined) {
      byUnits = new Map();
      this.#byCommand.set(key, byUnits);
    }
    let template = byUnits.get(units);
    if (template === undefined) {
      if (byUnits.size >= MAX_UNITS) return undefined;
      template = this.#build(withCommand ? key : undefined, units);
      byUnits.set(units, template);
    }
    return template ?? undefined;
  }

  #build(command: string | undefined, units: string): PositionTemplate | null {
    const w = new WireWriter();
    try {
      if (command !== undefined) this.#messages.writeCommand(w, command);
      const fields = w.recordValues();
      this.#messages.writePosition(w, SENTINEL_VALUE, units, SENTINEL_TIMESTAMP);
      const bytes = w.finish();
      // A scalar has one: the value; a DataActuator two: the timestamp, then the data array's element.
      const scalar = this.#form === 'scalar';
      if (fields.length !== (scalar ? 1 : 2)) return null;
      const valueAt = fields[fields.length - 1]!;
      const timestampAt = scalar ? -8 : fields[0]!;
      if (
        timestampAt + 8 > valueAt ||
        (!scalar && getF64LE(bytes, timestampAt) !== SENTINEL_TIMESTAMP) ||
        getF64LE(bytes, valueAt) !== SENTINEL_VALUE
      ) {
        return null;
      }
      return {
        bytes,
        view: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        timestampAt,
        valueAt,
      };
    } catch {
      // Units the general encoder refuses: it refuses them again, with its error, on every call.
      return null;
    } finally {
      w.release();
    }
  }
}
