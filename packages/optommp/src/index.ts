// @labwire/optommp: an OptoMMP client for Opto 22 groov EPIC and SNAP PAC devices.
// The wire format lives in `@labwire/optommp/codec`, the device simulator in `@labwire/optommp/simulator`.
// Each name lives in one entry point: the errors of the wire format that the client rejects with
// (DeviceError, ResponseMismatchError) and the status area (StatusArea) are `@labwire/optommp/codec`'s.

export type { BlockInto, RawValue } from './client';
export { OptoMmpClient } from './client';
export type { OptoMmpClientOptions } from './client-options';
export { OPTOMMP_PORT } from './client-options';
export { PipelineDesyncError, UdpTimeoutError } from './errors';
export type { IntoRequest, PipelineOptions, PipelineStats } from './pipeline';
export { Pipeline } from './pipeline';
export type { PipeliningProbe, ProbeOptions } from './probe';
export {
  checkFleetConfig,
  type FleetConfig,
  FleetFileError,
  fleetFileIssues,
  loadFleetFile,
  parseFleetFile,
  type ScanDeviceConfig,
  type ScanGroupConfig,
  type ScanPoint,
} from './scanner/fleet-file';
export {
  type DeviceHealth,
  type HealthEvent,
  Scanner,
  type ScannerOptions,
  type ScannerStats,
  type ScanReport,
} from './scanner/scanner';
export { TcpTransport } from './tcp-transport';
export type { ExchangeOptions, MmpTransport } from './transport';
export type {
  AnalogBank,
  AnalogPoint,
  DeviceStatus,
  DigitalBank,
  DigitalPoint,
  PackedDigital,
  RawType,
} from './types';
export { type UdpDropCounts, UdpTransport } from './udp-transport';
export { type WatchOptions, type WatchPoint, type WatchSample, watchPointName } from './watch';
