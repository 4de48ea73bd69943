// @labwire/sparkplug/codec: the pure Sparkplug B 3.0 payload codec and topic helpers (no MQTT, no sockets).

export { PayloadDecodeError, PayloadEncodeError, TopicError } from '../errors';
export { MetricCatalog } from './catalog';
export {
  DataType,
  type DataTypeName,
  dataTypeName,
  isArrayDataType,
  isBasicDataType,
  isDataType,
  isPropertyDataType,
} from './datatypes';
export { type DecodeOptions, decodePayload } from './decode';
export { type DatatypeLookup, type EncodeOptions, encodePayload } from './encode';
export { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './scan';
export {
  checkId,
  type DeviceMessageType,
  deviceTopic,
  type MessageType,
  NAMESPACE,
  type NodeMessageType,
  nodeTopic,
  parseTopic,
  type SparkplugTopic,
  stateTopic,
} from './topic';
export type {
  DataSet,
  Int64,
  MetaData,
  Metric,
  MetricValue,
  Payload,
  PropertySet,
  PropertyValue,
  Template,
  TemplateParameter,
} from './types';
