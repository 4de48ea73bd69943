// @labwire/sparkplug: the Sparkplug B 3.0 edge-node session over MQTT.js, with the payload types its API
// speaks in. The codec itself (encodePayload, decodePayload, MetricCatalog, topics, their errors) is at
// `@labwire/sparkplug/codec`.

export { DataType } from './codec/datatypes';
export type { DecodeLimits } from './codec/scan';
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
} from './codec/types';
export { BufferOverflowError, CommandError, MqttConnectError, SessionUsageError } from './errors';
export { type BackoffOptions, backoffDelay } from './session/backoff';
export type { EdgeNodeEvents, PublishOutcome } from './session/edge-node';
export {
  BDSEQ_METRIC,
  type EdgeCommand,
  EdgeNode,
  type EdgeNodeOptions,
  type EdgeNodeStats,
  type MetricDefinition,
  type MetricUpdate,
  REBIRTH_METRIC,
  type SessionState,
} from './session/edge-node';
export type { OverflowPolicy, StoreAndForwardOptions } from './session/store';
