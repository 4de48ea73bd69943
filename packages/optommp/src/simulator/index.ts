// @labwire/optommp/simulator: a groov EPIC device model with TCP and UDP servers, for tests and tools.

export {
  type AddressRange,
  type DeviceRequestEvent,
  EpicDevice,
  type EpicDeviceEvents,
  type EpicDeviceOptions,
  formatDeviceTime,
  parseDeviceTime,
  type ScratchPadInit,
} from './device';
export { EpicSimulator, type EpicSimulatorOptions } from './epic-simulator';
export type { FaultHook, ReplyFault } from './faults';
export { SimulatedFleet, type SimulatedFleetOptions } from './fleet';
export {
  BLANK_IDENTITY,
  DEFAULT_IDENTITY,
  type DeviceIdentity,
  type DeviceIdentityInit,
  type NetworkIdentity,
  resolveIdentity,
  VECTOR_IDENTITY,
} from './identity';
export { VECTOR_RACK, vectorDeviceOptions } from './presets';
export {
  type AnalogSignal,
  type ChannelInit,
  DEFAULT_RACK,
  type ModuleKind,
  parseRackConfig,
  type RackConfig,
  type RackModule,
} from './rack';
export { SparseMemory } from './sparse-memory';
export {
  type AnswerBehaviour,
  type BoundAddress,
  OptoMmpTcpServer,
  type PipeliningBehaviour,
  type SimulatorServerOptions,
  type SimulatorServerStats,
} from './tcp-server';
export { OptoMmpUdpServer, type UdpServerOptions } from './udp-server';
