// @labwire/sparkplug: the Sparkplug B 3.0 payload codec and the edge-node session over MQTT.js.

export * from './codec/index';
export {
  BufferOverflowError,
  CommandError,
  MqttConnectError,
  SessionUsageError,
} from './errors';
