// The contract every generation's profile fulfils. PyMoDAQ's generations cannot be negotiated or detected
// from the bytes (docs/protocols/pymodaq.md §0, §10), so the caller picks one with resolveProfile().

import type { ByteReader, OperationOptions } from '@labwire/framing';
import type { CodecLimits } from './limits';
import type { DataToExport, DataWithAxes, PyValue } from './values';

/**
 * Wire generations (docs/protocols/pymodaq.md §0): A 1.6.0–2.0.0, B 2.0.1–4.0.x (and the LabVIEW client), C1 4.1.0–4.1.2,
 * C2 4.1.3–4.1.5, C3 4.2.0–4.3.x, C4 4.4.x, D 5.x.
 */
export type Generation = 'A' | 'B' | 'C1' | 'C2' | 'C3' | 'C4' | 'D';

export const GENERATIONS: readonly Generation[] = ['A', 'B', 'C1', 'C2', 'C3', 'C4', 'D'];

/**
 * What to read where the stream carries no type (gen A–C have no top-level tag; the receiver knows from
 * the command what follows, docs/protocols/pymodaq.md §5.1). Gen D frames are self-describing and ignore it.
 * - `string`, `bytes`, `scalar` (numeric block), `array`, `list`
 * - `tagged`: a list item with its tag (B: array/string/scalar; C: §5.3)
 * - `axis`, `dwa`, `dte` (gen C objects starting with their class-name string)
 */
export type ValueKind = 'string' | 'bytes' | 'scalar' | 'array' | 'list' | 'tagged' | 'axis' | 'dwa' | 'dte';

export interface ReadValueOptions extends OperationOptions {
  /** What to read in gen A–C. Default: `tagged` in B/C; gen A has no default. */
  kind?: ValueKind;
  /** Gen A lists carry no item tags: the receiver must be told the item kind (`get_list(sock, kind)`). */
  itemKind?: 'array' | 'string' | 'scalar';
}

/** Options of `readString`. */
export interface ReadStringOptions extends OperationOptions {
  /** A lower limit than `limits.maxStringBytes` for this string, checked before it is read. */
  maxBytes?: number;
}

/** Options of `readDetectorData`. */
export interface ReadDetectorOptions extends OperationOptions {
  /**
   * Receive the bulk of the message straight into this caller-owned memory when it fits (the decoded
   * arrays are then views of it): gen D the frame, gen A–C the first array block of at least 256 KiB that
   * has not arrived yet. What does not fit is read the usual way.
   */
  into?: Uint8Array;
}

export interface EncodeOptions {
  /** Timestamp of the DataActuator built for a position (default now). */
  timestamp?: number;
}

export interface WireProfile {
  readonly generation: Generation;
  /** The PyMoDAQ version the profile was resolved from, when one was given. */
  readonly version: string | undefined;
  /** E.g. `C4 (PyMoDAQ 4.4.x)`. */
  readonly description: string;
  readonly limits: CodecLimits;
  /** Gen D: every message is a u32-length frame. */
  readonly framed: boolean;
  /** Tags a list item may carry (A: none, B: array/string/scalar, C: per layout, D: Python class names). */
  readonly listTags: readonly string[];

  // Every encode* returns exactly the bytes this generation puts on the wire (gen D: complete frames).
  // Every read* pulls exactly the message from the reader, under one deadline, and throws typed errors.

  /** A–C: `str`; D: a frame holding a tagged `str`. */
  encodeCommand(command: string): Uint8Array;
  /**
   * One atomic read (a command is a u32-length frame in every generation: a `str` in A–C): a read that
   * times out or is aborted consumes nothing. Longer than `limits.maxCommandBytes` is a LimitExceededError
   * with nothing consumed (a stream out of step shows at once); an undecodable gen D frame is consumed.
   */
  readCommand(reader: ByteReader, opts?: OperationOptions): Promise<string>;
  /** XML and other text. D: a string travels tagged `str`, a Uint8Array tagged `bytes` (PyMoDAQ 5 XML). */
  encodeString(text: string | Uint8Array): Uint8Array;
  /** D accepts tagged `str` or tagged `bytes` (docs/protocols/pymodaq.md §9 n). Invalid UTF-8 is a decode error. */
  readString(reader: ByteReader, opts?: ReadStringOptions): Promise<string>;
  /** A: untagged list of str; B/C: items tagged `string`; D: a frame holding a `list` of `str`. */
  encodePath(path: readonly string[]): Uint8Array;
  readPath(reader: ByteReader, opts?: OperationOptions): Promise<string[]>;
  /** A: `str name` + u32 8 + big-endian float64; B–D: `str name` + `str value` (D: two frames). */
  encodeInfo(name: string, value: string | number): Uint8Array;
  readInfo(reader: ByteReader, opts?: OperationOptions): Promise<{ name: string; value: string | number }>;
  /** A/B: scalar `<f8`; C/D: a DataActuator (units carried by C4 and D only). */
  encodePosition(value: number, units?: string, options?: EncodeOptions): Uint8Array;
  readPosition(
    reader: ByteReader,
    opts?: OperationOptions,
  ): Promise<{ value: number; units?: string; data?: DataWithAxes }>;
  /**
   * The data after `Done`. C/D: the DataToExport as it is (PyMoDAQ 5 wants DataFromPlugins inside, docs/protocols/pymodaq.md
   * §9 c); A: an untagged list of the arrays of every DataWithAxes; B: a list of `array` items.
   */
  encodeDetectorData(data: DataToExport): Uint8Array;
  /** The same bytes as encodeDetectorData, as separate buffers: array data by reference, never copied. */
  encodeDetectorDataParts(data: DataToExport): Uint8Array[];
  /** A/B: a DataToExport of one DataFromPlugins per array (see detector-data.ts). */
  readDetectorData(reader: ByteReader, opts?: ReadDetectorOptions): Promise<DataToExport>;
  /** A value as this generation's generic encoder writes it (gen C: `Serializer.to_bytes()`; D: a frame). */
  encodeValue(value: PyValue): Uint8Array;
  /** B/C: a value as a list item (tag + body); D: the tagged object without its frame. */
  encodeTagged(value: PyValue): Uint8Array;
  readValue(reader: ByteReader, opts?: ReadValueOptions): Promise<PyValue>;
}
