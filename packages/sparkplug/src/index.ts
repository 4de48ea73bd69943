// @labwire/sparkplug: the Sparkplug B 3.0 payload codec and the edge-node session over MQTT.js.

export * from './codec/index';
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
