// @labwire/pymodaq/codec: the PyMoDAQ TCP/IP wire format of every generation (A, B, C1–C4, D), pure (no
// sockets). See docs/codec.md.
//
// Errors: decode failures are PymodaqDecodeErrors (DecodeErrors with `offset` and `field`); a value of the
// wrong type has code `PymodaqUnexpectedValue`. A value a generation cannot carry raises a LabwireError
// with code `PymodaqUnsupported`.

export type { MessagePart, MessageParts } from './decode';
export { decodeFramePayload, decodeMessage, decodeValue, MessageDecoder } from './decode';
export type { Element } from './dtype';
export {
  MessageInterruptedError,
  PymodaqDecodeError,
  TruncatedError,
  UnknownProfileError,
  UnknownTagError,
} from './errors';
export {
  type Explanation,
  explainFrame,
} from './explain';
export type { JsonValue } from './json';
export { toJsonValue } from './json';
export type { CodecLimits } from './limits';
export type { Position } from './messages';
export type { TypedArray } from './nd-array';
export { NdArray } from './nd-array';
export { PymodaqProfile, resolveProfile } from './profile';
export type {
  DataWithAxesInit,
  DwaClass,
  ExtraAttribute,
  PyDict,
  PyScalar,
  PyTuple,
  PyValue,
} from './values';
export {
  type Axis,
  axis,
  type DataDim,
  type DataToExport,
  type DataWithAxes,
  dataActuator,
  dataFromPlugins,
  dataToExport,
  dataWithAxes,
  isDataToExport,
  type ParameterWithPath,
  parameterWithPath,
  pyComplex,
  pyDict,
  pyFloat,
  pyInt,
  pyScalar,
  pyTuple,
} from './values';
export type { ReadDetectorOptions, ReadStringOptions, ReadValueOptions, ValueKind } from './wire-profile';
export { type EncodeOptions, GENERATIONS, type Generation, type WireProfile } from './wire-profile';
