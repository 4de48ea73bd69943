// @labwire/sparkplug: the Sparkplug B 3.0 edge-node session over MQTT.js. The payload types its API speaks
// in (DataType, Metric, MetricValue, Payload, …) and the codec itself (encodePayload, decodePayload,
// MetricCatalog, topics, their errors) are at `@labwire/sparkplug/codec`: each name lives in one entry point.
//
// Errors: every error is a LabwireError (`@labwire/framing`) with a stable `code`. A session used wrongly
// (unknown device or metric, reserved or duplicate name, bad bdSeq) throws code `SparkplugUsage`.

export { BufferOverflowError, CommandError, MqttConnectError } from './errors';
export {
  BDSEQ_METRIC,
  type EdgeCommand,
  EdgeNode,
  type EdgeNodeOptions,
  type MetricDefinition,
  type MetricUpdate,
  REBIRTH_METRIC,
  type SessionState,
} from './session/edge-node';
