// @labwire/sparkplug: the Sparkplug B 3.0 payload codec and the edge-node session over MQTT.js.

export * from './codec/index';
export {
  BufferOverflowError,
  CommandError,
  MqttConnectError,
  SessionUsageError,
} from './errors';
export { type BackoffOptions, backoffDelay } from './session/backoff';
export {
  BDSEQ_METRIC,
  type EdgeCommand,
  EdgeNode,
  type EdgeNodeEvents,
  type EdgeNodeOptions,
  type EdgeNodeStats,
  type MetricDefinition,
  type MetricUpdate,
  type PublishOutcome,
  REBIRTH_METRIC,
  type SessionState,
} from './session/edge-node';
export { DEFAULT_STORE_MAX_METRICS, type OverflowPolicy, type StoreAndForwardOptions } from './session/store';
