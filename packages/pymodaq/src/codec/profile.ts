// WireProfile implementation and resolveProfile(): a generation letter or a PyMoDAQ version in, the
// codec for that wire generation out (docs/protocols/pymodaq.md §0, §10). Nothing is ever detected from the bytes.

import type { ByteReader, OperationOptions } from '@labwire/framing';
import { PymodaqDecodeError, UnexpectedValueError, UnknownProfileError } from './errors';
import { TAGS_B } from './gen-b';
import { LAYOUT_C1, LAYOUT_C2, LAYOUT_C3, LAYOUT_C3_42, LAYOUT_C4, type LayoutC } from './gen-c';
import { decodePayloadD, TAGS_D } from './gen-d';
import { type CodecLimits, resolveLimits } from './limits';
import { MESSAGES_A, MESSAGES_B, MESSAGES_D, type MessageCodec, messagesC, type Position } from './messages';
import { PositionTemplates } from './position-template';
import { asciiAt } from './primitives';
import {
  consumePeeked,
  frameAtHand,
  PEEK_SCRATCH,
  type Pull,
  PullContext,
  type ReadPlan,
  readerIdle,
  runOnReader,
} from './pull';
import { type DataToExport, type PyValue, pyTypeName } from './values';
import type {
  EncodeOptions,
  Generation,
  ReadDetectorOptions,
  ReadStringOptions,
  ReadValueOptions,
  WireProfile,
} from './wire-profile';
import { WireWriter } from './wire-writer';

const DESCRIPTIONS: Record<Generation, string> = {
  A: 'A (PyMoDAQ 1.6.0–2.0.0)',
  B: 'B (PyMoDAQ 2.0.1–4.0.x, LabVIEW client)',
  C1: 'C1 (PyMoDAQ 4.1.0–4.1.2)',
  C2: 'C2 (PyMoDAQ 4.1.3–4.1.5)',
  C3: 'C3 (PyMoDAQ 4.2.0–4.3.x)',
  C4: 'C4 (PyMoDAQ 4.4.x)',
  D: 'D (PyMoDAQ 5.x)',
};

const ONE_FRAME: ReadPlan = { singleRead: true };
/** What readCommandAtHand looks at: a command and a position (a gen D DataActuator frame is 265 bytes). */
const PEEK_MESSAGE_BYTES = 1024;
/** Command frames remembered by positionReplyAtHand at most this long (PyMoDAQ's commands are short). */
const MAX_REMEMBERED_FRAME = 64;

/** Whether `src[0, got)` starts with `prefix`. */
function startsWith(src: Uint8Array, got: number, prefix: Uint8Array): boolean {
  const n = prefix.length;
  if (got < n) return false;
  for (let i = 0; i < n; i++) if (src[i] !== prefix[i]) return false;
  return true;
}

/** readCommandAtHand's second result: the position read with its command, if any. */
export interface CommandAtHand {
  /** Commands followed by a position (`move_done`, `position_is` for a server). */
  readonly positionAfter: ReadonlySet<string>;
  position: Position | undefined;
  /**
   * With `position`: its DataActuator timestamp (seconds since the epoch), undefined for a scalar
   * position (gen A/B carry none). Kept apart so the lean position needs no DataActuator.
   */
  timestamp?: number | undefined;
}
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MANY_READS: ReadPlan = {};

/** The codec of one wire generation. Stateless: one instance may serve any number of connections. */
export class PymodaqProfile implements WireProfile {
  readonly generation: Generation;
  readonly version: string | undefined;
  readonly description: string;
  readonly limits: CodecLimits;
  readonly framed: boolean;
  readonly listTags: readonly string[];
  /** @internal The message codec behind the profile (used by decodeValue / MessageDecoder / explainFrame). */
  readonly messages: MessageCodec;
  /** Positions are written from templates and read by matching them (see position-template.ts). */
  readonly #templates: PositionTemplates;
  /** The limits of a command read: a command is a short string (`maxCommandBytes` for the frame too). */
  readonly #commandLimits: CodecLimits;
  /** Largest command frame payload (see maxCommandBytes). */
  readonly #maxCommandFrame: number;

  /** @internal Profiles come from resolveProfile. */
  constructor(generation: Generation, limits: CodecLimits, version?: string, layout?: LayoutC) {
    this.generation = generation;
    this.version = version;
    this.limits = limits;
    this.framed = generation === 'D';
    this.description =
      version === undefined ? DESCRIPTIONS[generation] : `${DESCRIPTIONS[generation]}, version ${version}`;
    if (generation === 'A') {
      this.messages = MESSAGES_A;
      this.listTags = [];
    } else if (generation === 'B') {
      this.messages = MESSAGES_B;
      this.listTags = TAGS_B;
    } else if (generation === 'D') {
      this.messages = MESSAGES_D;
      this.listTags = TAGS_D;
    } else {
      const l = layout ?? { C1: LAYOUT_C1, C2: LAYOUT_C2, C3: LAYOUT_C3, C4: LAYOUT_C4 }[generation];
      this.messages = messagesC(l);
      this.listTags = l.tags;
    }
    this.#templates = new PositionTemplates(
      this.messages,
      generation === 'A' || generation === 'B'
        ? 'scalar'
        : generation === 'C4' || generation === 'D'
          ? 'actuator-units'
          : 'actuator',
    );
    this.#commandLimits = Object.freeze({
      ...limits,
      maxStringBytes: Math.min(limits.maxStringBytes, limits.maxCommandBytes),
      maxFrameBytes: Math.min(limits.maxFrameBytes, limits.maxCommandBytes),
    });
    const maxBytes = this.framed ? this.#commandLimits.maxFrameBytes : this.#commandLimits.maxStringBytes;
    this.#maxCommandFrame = maxBytes;
    Object.freeze(this);
  }

  /** @internal A fresh decoding context (limits, offsets, field path); `command` applies the command limits. */
  context(options: { offset?: number; trace?: boolean; command?: boolean } = {}): PullContext {
    return new PullContext(options.command ? this.#commandLimits : this.limits, options);
  }

  #encode(write: (w: WireWriter) => void, transient = false): Uint8Array {
    const w = new WireWriter();
    try {
      write(w);
      return transient ? w.finishTransient() : w.finish();
    } finally {
      w.release();
    }
  }

  /** Every gen D part but Info is one frame: one request of the reader at most. */
  #plan(operation: string): ReadPlan {
    return this.framed && operation !== 'Info' ? ONE_FRAME : MANY_READS;
  }

  #read<T>(
    reader: ByteReader,
    operation: string,
    pull: (ctx: PullContext) => Pull<T>,
    opts?: OperationOptions,
    ctx = this.context(),
  ): Promise<T> {
    let decoder: Pull<T>;
    try {
      decoder = pull(ctx);
    } catch (e) {
      return Promise.reject(e);
    }
    return runOnReader(
      decoder,
      reader,
      ctx,
      `pymodaq ${this.generation} ${operation}`,
      opts,
      this.#plan(operation),
    );
  }

  encodeCommand(command: string): Uint8Array {
    return this.#encode((w) => this.messages.writeCommand(w, command));
  }
  readCommand(reader: ByteReader, opts?: OperationOptions): Promise<string> {
    // A command is one u32-length frame in every generation (A–C: a `str`), so with no other message
    // read in line it is one atomic readFrame, at once when it is buffered whole.
    if (readerIdle(reader)) {
      if (opts?.signal?.aborted !== true && frameAtHand(reader)) {
        try {
          const command = this.readCommandAtHand(reader);
          if (command !== undefined) return Promise.resolve(command);
        } catch (e) {
          return Promise.reject(e);
        }
      }
      return reader
        .readFrame({ ...opts, maxBytes: this.#maxCommandFrame })
        .then((frame) => this.#commandOf(frame));
    }
    const ctx = this.context({ command: true });
    return this.#read(reader, 'command', (c) => this.messages.command(c), opts, ctx);
  }

  /**
   * The next command when it is buffered whole and no read is in line (consumed at once, synchronously),
   * else undefined with nothing consumed. For loops that read a message at a time (the server session).
   * With `out`, a command in `out.positionAfter` takes the position that follows it too when that is
   * buffered whole and matches a position template (`out.position`, lean: `{ value, units }`).
   * @internal
   */
  readCommandAtHand(reader: ByteReader, out?: CommandAtHand): string | undefined {
    if (out !== undefined) out.position = undefined;
    if (reader.buffered < 4 || !readerIdle(reader)) return undefined;
    // One copy of what a small message needs (command and position), looked at without consuming.
    const src = reader.peek(PEEK_MESSAGE_BYTES);
    const length = ((src[0]! << 24) | (src[1]! << 16) | (src[2]! << 8) | src[3]!) >>> 0;
    if (length > this.#maxCommandFrame || 4 + length > src.length) return undefined;
    let used = 4 + length;
    let command: string;
    try {
      command = this.#commandOf(src.subarray(4, used));
    } catch (e) {
      // An undecodable gen D frame is consumed whole (docs/protocols/pymodaq.md §6.3), as by readCommand.
      if (this.framed) this.#consume(reader, used);
      throw e;
    }
    if (out?.positionAfter.has(command)) {
      const position = this.#templates.match(src, used, true);
      if (position !== undefined) {
        out.position = position;
        out.timestamp = this.#templates.matchedTimestamp;
        used += this.#templates.expectedLength();
      }
    }
    if (this.#consume(reader, used)) return command;
    if (out !== undefined) out.position = undefined;
    return undefined;
  }

  /**
   * @internal
   * A command of `out.positionAfter` and its position, when both are buffered whole, no read is in line
   * and the position matches its template: consumed together, the position in `out.position`. Anything
   * else (another command, a partial message, bytes that do not decode) consumes nothing and returns
   * undefined, for the general read to handle. Never throws.
   */
  positionReplyAtHand(reader: ByteReader, out: CommandAtHand): string | undefined {
    out.position = undefined;
    if (reader.buffered < 4 || !readerIdle(reader)) return undefined;
    // Looked at in scratch memory (no allocation per reply); nothing returned refers to it.
    const src = PEEK_SCRATCH;
    const got = reader.peekInto(src);
    let used: number;
    let command: string;
    const last = this.#lastReplyFrame;
    if (last !== undefined && startsWith(src, got, last)) {
      // The same command frame as the last reply taken (a stream of moves): its command, not decoded again,
      // and not looked up again in the set of the caller that took it last.
      used = last.length;
      command = this.#lastReplyCommand;
      if (out.positionAfter !== this.#lastReplyAfter) {
        if (!out.positionAfter.has(command)) return undefined;
        this.#lastReplyAfter = out.positionAfter;
      }
    } else {
      const length = ((src[0]! << 24) | (src[1]! << 16) | (src[2]! << 8) | src[3]!) >>> 0;
      if (length > this.#maxCommandFrame || 4 + length > got) return undefined;
      used = 4 + length;
      try {
        command = this.#commandOf(src.subarray(4, used));
      } catch {
        return undefined;
      }
      if (!out.positionAfter.has(command)) return undefined;
      if (used <= MAX_REMEMBERED_FRAME) {
        this.#lastReplyFrame = src.slice(0, used);
        this.#lastReplyCommand = command;
        this.#lastReplyAfter = out.positionAfter;
      }
    }
    const position = this.#templates.match(src, used, true, got);
    if (position === undefined || !reader.discard(used + this.#templates.expectedLength())) return undefined;
    out.position = position;
    out.timestamp = this.#templates.matchedTimestamp;
    return command;
  }

  /**
   * The command frame (length prefix included) positionReplyAtHand decoded last, and its command: the
   * same bytes again are the same command (compared byte by byte, the frame is a few tens of bytes).
   */
  #lastReplyFrame: Uint8Array | undefined;
  #lastReplyCommand = '';
  /** A `positionAfter` set that held #lastReplyCommand (its lookup is not repeated). */
  #lastReplyAfter: ReadonlySet<string> | undefined;

  /** @internal Largest command frame payload: the `maxBytes` of a command's readFrame. */
  get maxCommandFrame(): number {
    return this.#maxCommandFrame;
  }

  /**
   * @internal
   * The command held by a command frame's payload (what `readFrame({ maxBytes: maxCommandFrame })` gave).
   * For a read loop that reads the frame itself; throws PymodaqDecodeError like readCommand.
   */
  commandOfFrame(frame: Uint8Array): string {
    return this.#commandOf(frame);
  }

  /**
   * @internal
   * The position at the head of the reader when it has arrived whole, no read is in line and it matches
   * the template of the units last read: consumed at once, lean (`{ value, units }`, no DataActuator).
   * Otherwise undefined, nothing consumed (then readPosition).
   */
  positionAtHand(reader: ByteReader): Position | undefined {
    return this.#templates.readAtHand(reader, true);
  }

  /**
   * @internal
   * The DataActuator timestamp of the position positionAtHand() took last (undefined for gen A/B).
   */
  get matchedTimestamp(): number | undefined {
    return this.#templates.matchedTimestamp;
  }

  /** Consumes `n` buffered bytes at once; false when the reader refused (it was closed). */
  #consume(reader: ByteReader, n: number): boolean {
    const before = reader.buffered;
    const consuming = consumePeeked(reader, n);
    if (reader.buffered === before - n) return true;
    // Refused: the general read reports it.
    consuming.catch(() => {});
    return false;
  }

  /** The command held by a frame payload (A–C: UTF-8 text; D: a tagged `str`). */
  #commandOf(frame: Uint8Array): string {
    const n = frame.length;
    // Commands are short ASCII: A–C the bytes themselves; D `u32 3` "str" `u32 n` + the bytes (docs/protocols/pymodaq.md §6.1).
    const fast = !this.framed
      ? asciiAt(frame, 0, n)
      : n >= 11 &&
          frame[0] === 0 &&
          frame[1] === 0 &&
          frame[2] === 0 &&
          frame[3] === 3 &&
          frame[4] === 0x73 &&
          frame[5] === 0x74 &&
          frame[6] === 0x72 &&
          ((frame[7]! << 24) | (frame[8]! << 16) | (frame[9]! << 8) | frame[10]!) >>> 0 === n - 11
        ? asciiAt(frame, 11, n)
        : undefined;
    if (fast !== undefined) return fast;
    if (!this.framed) {
      try {
        return UTF8.decode(frame);
      } catch (e) {
        throw new PymodaqDecodeError('command: invalid UTF-8', 4, {
          code: 'PymodaqInvalidUtf8',
          got: frame,
          cause: e,
        });
      }
    }
    const value = decodePayloadD(frame, this.context({ offset: 4, command: true }));
    if (typeof value !== 'string') throw new UnexpectedValueError('str', pyTypeName(value), 4, 'command');
    return value;
  }
  encodeString(text: string | Uint8Array): Uint8Array {
    return this.#encode((w) => this.messages.writeString(w, text));
  }
  readString(reader: ByteReader, opts?: ReadStringOptions): Promise<string> {
    const max = opts?.maxBytes;
    const ctx =
      max === undefined
        ? this.context()
        : new PullContext(
            Object.freeze({
              ...this.limits,
              maxStringBytes: Math.min(this.limits.maxStringBytes, max),
              // Gen D: the frame around the text (tag `str` or `bytes` and lengths: 16 bytes).
              maxFrameBytes: Math.min(this.limits.maxFrameBytes, max + 16),
            }),
          );
    return this.#read(reader, 'string', (c) => this.messages.string(c), opts, ctx);
  }
  encodePath(path: readonly string[]): Uint8Array {
    return this.#encode((w) => this.messages.writePath(w, path));
  }
  readPath(reader: ByteReader, opts?: OperationOptions): Promise<string[]> {
    return this.#read(reader, 'path', (ctx) => this.messages.path(ctx), opts);
  }
  encodeInfo(name: string, value: string | number): Uint8Array {
    return this.#encode((w) => this.messages.writeInfo(w, name, value));
  }
  readInfo(reader: ByteReader, opts?: OperationOptions): Promise<{ name: string; value: string | number }> {
    return this.#read(reader, 'Info', (ctx) => this.messages.info(ctx), opts);
  }
  encodePosition(value: number, units?: string, options: EncodeOptions = {}): Uint8Array {
    return (
      this.#templates.encode(undefined, value, units ?? '', options.timestamp, false) ??
      this.#encode((w) => this.messages.writePosition(w, value, units, options.timestamp))
    );
  }
  /**
   * A command and the position that follows it (`move_abs`, `move_done`, `position_is` …) as one buffer:
   * the bytes of encodeCommand + encodePosition, written once. For the roles, which send it and drop it
   * (the buffer may come from Node's buffer pool).
   */
  encodeCommandPosition(
    command: string,
    value: number,
    units?: string,
    options: EncodeOptions = {},
  ): Uint8Array {
    return (
      this.#templates.encode(command, value, units ?? '', options.timestamp, true) ??
      this.#encode((w) => {
        this.messages.writeCommand(w, command);
        this.messages.writePosition(w, value, units, options.timestamp);
      }, true)
    );
  }
  /**
   * @internal
   * encodeCommandPosition for the per-message paths (a bridge translating moves): no options object;
   * `timestamp` undefined stamps the DataActuator now.
   */
  encodeMove(command: string, value: number, units: string, timestamp: number | undefined): Uint8Array {
    return (
      this.#templates.encode(command, value, units, timestamp, true) ??
      this.encodeCommandPosition(command, value, units, timestamp === undefined ? {} : { timestamp })
    );
  }
  /**
   * @internal
   * Hands back the bytes encodeMove() returned last once their write completed in the caller's turn
   * (nothing refers to them any more): the next move of the same command and units is written over them.
   * Other bytes are ignored. Never call it for bytes a socket may still be writing.
   */
  giveBack(bytes: Uint8Array): void {
    this.#templates.giveBack(bytes);
  }
  readPosition(reader: ByteReader, opts?: OperationOptions): Promise<Position> {
    const templates = this.#templates;
    if (opts?.signal?.aborted !== true) {
      const position = templates.readAtHand(reader);
      if (position !== undefined) return Promise.resolve(position);
    }
    return this.#read(reader, 'position', (ctx) => this.messages.position(ctx), opts).then((position) => {
      templates.learn(position);
      return position;
    });
  }
  encodeDetectorData(data: DataToExport): Uint8Array {
    return this.#encode((w) => this.messages.writeDetector(w, data));
  }
  /** The detector data as separate buffers (the large array blocks by reference, not copied). */
  encodeDetectorDataParts(data: DataToExport): Uint8Array[] {
    const w = new WireWriter();
    try {
      this.messages.writeDetector(w, data);
      return w.parts();
    } finally {
      w.release();
    }
  }
  readDetectorData(reader: ByteReader, opts?: ReadDetectorOptions): Promise<DataToExport> {
    return this.#read(reader, 'detector data', (ctx) => this.messages.detector(ctx), opts);
  }
  encodeValue(value: PyValue): Uint8Array {
    return this.#encode((w) => this.messages.writeValue(w, value));
  }
  encodeTagged(value: PyValue): Uint8Array {
    return this.#encode((w) => this.messages.writeTagged(w, value));
  }
  readValue(reader: ByteReader, opts: ReadValueOptions = {}): Promise<PyValue> {
    return this.#read(reader, 'value', (ctx) => this.messages.value(ctx, opts), opts);
  }

  toString(): string {
    return `PymodaqProfile(${this.description})`;
  }
}

/** The implementation behind a WireProfile (every profile comes from resolveProfile). */
export function implOf(profile: WireProfile): PymodaqProfile {
  if (profile instanceof PymodaqProfile) return profile;
  throw new TypeError('expected a profile made by resolveProfile()');
}

// --- resolveProfile ---------------------------------------------------------------------------------------

type Placement = { generation: Generation; layout?: LayoutC } | { ambiguous: string };

/** Places a PyMoDAQ version (docs/protocols/pymodaq.md §0 table; §5.3 for the 4.2 / 4.3 list tags). */
function place(major: number, minor: number | undefined, patch: number | undefined): Placement | undefined {
  if (major === 1) {
    if (minor === undefined) return { ambiguous: '1.x before 1.6 is not covered; 1.6+ is generation A' };
    return minor >= 6 ? { generation: 'A' } : undefined;
  }
  if (major === 2) {
    if (minor === undefined) return { ambiguous: '2.0.0 is generation A, 2.0.1 and later B' };
    if (minor === 0) {
      if (patch === undefined) return { ambiguous: '2.0.0 is generation A, 2.0.1 and later B' };
      return { generation: patch === 0 ? 'A' : 'B' };
    }
    return { generation: 'B' };
  }
  if (major === 3) return { generation: 'B' };
  if (major === 4) {
    if (minor === undefined) return { ambiguous: '4.0 is B, 4.1 C1/C2, 4.2–4.3 C3, 4.4 C4' };
    if (minor === 0) return { generation: 'B' };
    if (minor === 1) {
      if (patch === undefined) return { ambiguous: '4.1.0–4.1.2 are C1, 4.1.3 and later C2' };
      return { generation: patch <= 2 ? 'C1' : 'C2' };
    }
    if (minor === 2) return { generation: 'C3', layout: LAYOUT_C3_42 };
    if (minor === 3) return { generation: 'C3' };
    if (minor === 4) return { generation: 'C4' };
    return undefined;
  }
  if (major === 5) return { generation: 'D' };
  return undefined;
}

/**
 * The profile for a generation (`A`, `B`, `C1`–`C4`, `D`) or a PyMoDAQ version (`1.6`, `2.0.0`, `3.6`,
 * `4.0.11`, `4.1.2`, `4.4`, `5`, `5.0.2` …). A version that spans two generations (`2.0`, `4.1`, `4`) or
 * that PyMoDAQ never had is an UnknownProfileError.
 */
export function resolveProfile(
  spec: Generation | string,
  options: {
    /** Override any of the decoder's size limits. */
    limits?: Partial<CodecLimits>;
  } = {},
): PymodaqProfile {
  const limits = resolveLimits(options.limits);
  const text = String(spec).trim();
  const letter = text.toUpperCase();
  if (letter === 'A' || letter === 'B' || letter === 'D' || /^C[1-4]$/.test(letter)) {
    return new PymodaqProfile(letter as Generation, limits);
  }
  if (letter === 'C')
    throw new UnknownProfileError(
      text,
      'generation C has four layouts: say C1, C2, C3 or C4 (or give the version)',
    );
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[.+-]?(?:dev|a|b|rc|post)[.\w]*)?$/i.exec(text);
  if (!m) {
    throw new UnknownProfileError(
      text,
      'expected A, B, C1, C2, C3, C4, D or a PyMoDAQ version such as 4.4.5',
    );
  }
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const placed = place(Number(m[1]), num(m[2]), num(m[3]));
  if (placed === undefined) {
    throw new UnknownProfileError(
      text,
      'no PyMoDAQ release with this version speaks the TCP/IP protocol described here',
    );
  }
  if ('ambiguous' in placed)
    throw new UnknownProfileError(text, `ambiguous: ${placed.ambiguous}; give the full version`);
  return new PymodaqProfile(placed.generation, limits, text, placed.layout);
}
