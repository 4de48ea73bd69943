// PyMoDAQ data (a DataToExport of DataWithAxes, each with one array per channel) to and from what a flow
// handles: plain numbers and arrays.
//
// Into a flow (`dataToFlow`): { name, timestamp, data: [{ name, dim, units, labels, source, data }] },
// where each channel is a number (0D), a number[] (1D), a number[][] of rows (2D), or { shape, data } (ND).
//
// From a flow (`dataFromFlow`): the same shape, or a short form taken as one DataFromPlugins: a number, an
// array of numbers, an array of rows, a typed array, or { shape, data }. A grab of 0D answered with an
// array of numbers is one 0D channel per number (PyMoDAQ's multi-channel 0D detector).

import type { GrabDim } from '@labwire/pymodaq';
import {
  type DataDim,
  type DataToExport,
  type DataWithAxes,
  dataFromPlugins,
  dataToExport,
  type Element,
  isDataToExport,
  NdArray,
} from '@labwire/pymodaq/codec';

/** A channel as a flow sees it. */
export type FlowChannel = number | number[] | number[][] | { shape: number[]; data: number[] };

export interface FlowDataWithAxes {
  name: string;
  dim: string;
  units: string;
  labels: string[];
  source: string;
  data: FlowChannel[];
}

export interface FlowDataToExport {
  name: string;
  /** Seconds since the epoch (PyMoDAQ's). */
  timestamp: number;
  data: FlowDataWithAxes[];
}

/** Most elements accepted from a flow in one message (a 4096 × 4096 image). */
export const MAX_FLOW_ELEMENTS = 16 * 1024 * 1024;

/** Data from the flow was not usable. */
export class FlowDataError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'FlowDataError';
  }
}

const DIMS: Record<string, DataDim> = {
  '0D': 'Data0D',
  '1D': 'Data1D',
  '2D': 'Data2D',
  ND: 'DataND',
  Data0D: 'Data0D',
  Data1D: 'Data1D',
  Data2D: 'Data2D',
  DataND: 'DataND',
};

function numbers(values: ArrayLike<unknown>, what: string): number[] {
  if (values.length > MAX_FLOW_ELEMENTS)
    throw new FlowDataError(`${what}: ${values.length} values, more than ${MAX_FLOW_ELEMENTS}`);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new FlowDataError(`${what}: element ${i} is not a number`);
    out[i] = v;
  }
  return out;
}

function isTyped(value: unknown): value is Float64Array | Float32Array | Int32Array | Uint8Array {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** One channel from the flow as an NdArray. */
function channelArray(value: unknown, what: string): NdArray {
  if (typeof value === 'number') return NdArray.fromValues([value]);
  if (isTyped(value)) {
    if (value.length > MAX_FLOW_ELEMENTS)
      throw new FlowDataError(`${what}: more than ${MAX_FLOW_ELEMENTS} values`);
    return NdArray.fromTyped(value as Float64Array);
  }
  if (Array.isArray(value)) {
    if (value.length > 0 && (Array.isArray(value[0]) || isTyped(value[0]))) {
      const rows = value as ArrayLike<unknown>[];
      const width = rows[0]!.length;
      if (rows.length * width > MAX_FLOW_ELEMENTS)
        throw new FlowDataError(`${what}: ${rows.length} × ${width} values, more than ${MAX_FLOW_ELEMENTS}`);
      const flat = new Float64Array(rows.length * width);
      rows.forEach((row, r) => {
        if (!(Array.isArray(row) || isTyped(row)) || row.length !== width)
          throw new FlowDataError(`${what}: row ${r} does not have ${width} values`);
        flat.set(numbers(row, `${what} row ${r}`), r * width);
      });
      return NdArray.fromTyped(flat, [rows.length, width]);
    }
    return NdArray.fromTyped(Float64Array.from(numbers(value, what)));
  }
  if (typeof value === 'object' && value !== null && 'shape' in value && 'data' in value) {
    const { shape, data } = value as { shape: unknown; data: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new FlowDataError(`${what}: shape must be a list of whole numbers`);
    const values = isTyped(data)
      ? data
      : Array.isArray(data)
        ? Float64Array.from(numbers(data, what))
        : undefined;
    if (values === undefined) throw new FlowDataError(`${what}: data must be an array of numbers`);
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    if (size !== values.length)
      throw new FlowDataError(`${what}: ${values.length} values do not fill shape [${shape.join(', ')}]`);
    return NdArray.fromTyped(values as Float64Array, shape as number[]);
  }
  throw new FlowDataError(
    `${what}: expected a number, an array of numbers, rows of numbers or { shape, data }`,
  );
}

function dataWithAxesFromFlow(
  value: Record<string, unknown>,
  index: number,
  fallbackName: string,
): DataWithAxes {
  const what = `data[${index}]`;
  const channels = value.data;
  if (!Array.isArray(channels)) throw new FlowDataError(`${what}.data must be a list of channels`);
  const dim = value.dim === undefined ? undefined : DIMS[String(value.dim)];
  if (value.dim !== undefined && dim === undefined)
    throw new FlowDataError(`${what}.dim must be 0D, 1D, 2D or ND, got ${JSON.stringify(value.dim)}`);
  const labels = Array.isArray(value.labels) ? value.labels.map(String) : undefined;
  return dataFromPlugins({
    name: typeof value.name === 'string' && value.name !== '' ? value.name : fallbackName,
    data: channels.map((c, i) => channelArray(c, `${what}.data[${i}]`)),
    ...(dim === undefined ? {} : { dim }),
    ...(typeof value.units === 'string' ? { units: value.units } : {}),
    ...(labels === undefined ? {} : { labels }),
  });
}

/**
 * A DataToExport from what a flow sent. `requested` is the dim the server asked for, if any (a 0D grab
 * answered with a list of numbers gets one channel per number).
 */
export function dataFromFlow(payload: unknown, name: string, requested?: GrabDim): DataToExport {
  if (isDataToExport(payload as never)) return payload as DataToExport;
  if (typeof payload === 'object' && payload !== null && !Array.isArray(payload) && !isTyped(payload)) {
    const object = payload as Record<string, unknown>;
    if (Array.isArray(object.data) && !('shape' in object)) {
      const data = object.data.map((d, i) => {
        if (typeof d !== 'object' || d === null || Array.isArray(d))
          throw new FlowDataError(`data[${i}] must be an object with a data list`);
        return dataWithAxesFromFlow(d as Record<string, unknown>, i, name);
      });
      return dataToExport({
        name: typeof object.name === 'string' && object.name !== '' ? object.name : name,
        data,
      });
    }
  }
  if (requested === '0D' && Array.isArray(payload) && payload.every((v) => typeof v === 'number')) {
    return dataToExport({
      name,
      data: [
        dataFromPlugins({ name, dim: 'Data0D', data: payload.map((v: number) => NdArray.fromValues([v])) }),
      ],
    });
  }
  return dataToExport({ name, data: [dataFromPlugins({ name, data: [channelArray(payload, 'payload')] })] });
}

function plain(values: Element[]): number[] {
  return values.map((v) =>
    typeof v === 'number'
      ? v
      : typeof v === 'bigint'
        ? Number(v)
        : typeof v === 'boolean'
          ? v
            ? 1
            : 0
          : Number.NaN,
  );
}

/** One channel for the flow (complex values become NaN: they have no plain number). */
function channelForFlow(array: NdArray, dim: DataDim): FlowChannel {
  const values = plain(array.toArray());
  if (dim === 'Data0D' && values.length === 1) return values[0]!;
  if (array.ndim <= 1) return values;
  if (array.ndim === 2 && dim !== 'DataND') {
    const [rows, cols] = array.shape as [number, number];
    const out: number[][] = new Array(rows);
    for (let r = 0; r < rows; r++) out[r] = values.slice(r * cols, (r + 1) * cols);
    return out;
  }
  return { shape: [...array.shape], data: values };
}

/** A DataToExport as plain numbers and arrays (see the top of this file). */
export function dataToFlow(dte: DataToExport): FlowDataToExport {
  return {
    name: dte.name,
    timestamp: dte.timestamp,
    data: dte.data.map((d) => ({
      name: d.name,
      dim: d.dim,
      units: d.units,
      labels: [...d.labels],
      source: d.source,
      data: d.data.map((a) => channelForFlow(a, d.dim)),
    })),
  };
}
