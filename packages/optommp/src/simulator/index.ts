// @labwire/optommp/simulator: a groov EPIC device model with TCP and UDP servers, for tests and tools.

export type {
  AddressRange,
  DeviceRequestEvent,
  EpicDeviceEvents,
  EpicDeviceOptions,
  ScratchPadInit,
} from './device';
export { EpicDevice } from './device';
export { EpicSimulator, type EpicSimulatorOptions } from './epic-simulator';
export type { FaultHook, ReplyFault } from './faults';
export type { SimulatedFleetOptions } from './fleet';
export { SimulatedFleet } from './fleet';
export type { DeviceIdentity, DeviceIdentityInit, NetworkIdentity } from './identity';
export { vectorDeviceOptions } from './presets';
export type { AnalogSignal, ChannelInit, ModuleKind, RackModule } from './rack';
export { DEFAULT_RACK, parseRackConfig, type RackConfig } from './rack';
export { SparseMemory } from './sparse-memory';
export type {
  AnswerBehaviour,
  BoundAddress,
  SimulatorServerOptions,
  SimulatorServerStats,
} from './tcp-server';
export { OptoMmpTcpServer, type PipeliningBehaviour } from './tcp-server';
export type { UdpServerOptions } from './udp-server';
export { OptoMmpUdpServer } from './udp-server';
