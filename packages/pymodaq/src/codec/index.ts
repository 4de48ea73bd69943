// @labwire/pymodaq/codec: the PyMoDAQ TCP/IP wire format of every generation (A, B, C1–C4, D), pure (no
// sockets). See docs/codec.md.

export {
  decodeFramePayload,
  decodeMessage,
  decodeValue,
  MessageDecoder,
  type MessagePart,
  type MessageParts,
} from './decode';
export { type Complex, type DtypeInfo, type DtypeKind, type Element, parseDtype } from './dtype';
export {
  MessageInterruptedError,
  PymodaqDecodeError,
  type PymodaqDecodeErrorOptions,
  TruncatedError,
  UnexpectedValueError,
  UnknownProfileError,
  UnknownTagError,
  UnsupportedValueError,
} from './errors';
export {
  type ExplainedField,
  type ExplainedMessage,
  type ExplainOptions,
  type Explanation,
  explainFrame,
} from './explain';
export { type JsonValue, type ToJsonOptions, toJsonValue } from './json';
export { type CodecLimits, DEFAULT_LIMITS } from './limits';
export type { Position } from './messages';
export { NdArray, type TypedArray } from './nd-array';
export { PymodaqProfile, type ResolveProfileOptions, resolveProfile } from './profile';
export {
  type Axis,
  type AxisInit,
  axis,
  DATA_DIMS,
  DATA_DISTRIBUTIONS,
  DATA_SOURCES,
  type DataDim,
  type DataDistribution,
  type DataSource,
  type DataToExport,
  type DataToExportInit,
  type DataWithAxes,
  type DataWithAxesInit,
  DTE_CLASSES,
  type DteClass,
  DWA_CLASSES,
  type DwaClass,
  dataActuator,
  dataFromPlugins,
  dataToExport,
  dataWithAxes,
  defaultLabels,
  dimOf,
  type ExtraAttribute,
  isAxis,
  isDataToExport,
  isDataWithAxes,
  isParameterWithPath,
  isPyDict,
  isPyScalar,
  isPyTuple,
  type ParameterWithPath,
  type PyDict,
  type PyScalar,
  type PyTuple,
  type PyValue,
  parameterWithPath,
  pyComplex,
  pyDict,
  pyFloat,
  pyInt,
  pyScalar,
  pyTuple,
  pyTypeName,
} from './values';
export {
  type EncodeOptions,
  GENERATIONS,
  type Generation,
  type ReadDetectorOptions,
  type ReadStringOptions,
  type ReadValueOptions,
  type ValueKind,
  type WireProfile,
} from './wire-profile';
