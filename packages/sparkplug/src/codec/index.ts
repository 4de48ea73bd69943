// @labwire/sparkplug/codec: the pure Sparkplug B 3.0 payload codec and topic helpers (no MQTT, no sockets).

export { PayloadDecodeError, PayloadEncodeError, TopicError } from '../errors';
export { MetricCatalog } from './catalog';
export { DataType } from './datatypes';
export { type DecodeOptions, decodePayload } from './decode';
export type { DatatypeLookup } from './encode';
export { type EncodeOptions, encodePayload } from './encode';
export type { DecodeLimits } from './scan';
export type { DeviceMessageType, NodeMessageType } from './topic';
export {
  checkId,
  deviceTopic,
  type MessageType,
  NAMESPACE,
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
