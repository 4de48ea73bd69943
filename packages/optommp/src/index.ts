// @labwire/optommp: an OptoMMP client for Opto 22 groov EPIC and SNAP PAC devices.
// The wire format lives in `@labwire/optommp/codec`, the device simulator in `@labwire/optommp/simulator`.

export { OptoMmpClient, type RawValue } from './client';
export {
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_TIMEOUT_MS,
  OPTOMMP_PORT,
  type OptoMmpClientOptions,
} from './client-options';
export {
  Address,
  addressOf,
  DeviceError,
  describeLastError,
  formatAddress,
  formatDeviceCode,
  type NetworkInterfaceStatus,
  offsetOf,
  RCODES,
  type RcodeInfo,
  type ResponseExpectation,
  type ResponseField,
  ResponseMismatchError,
  type StatusArea,
  Tcode,
} from './codec/index';
export { PipelineDesyncError, type UdpDropsWhileWaiting, UdpTimeoutError } from './errors';
export { MAX_WINDOW, type PipelineStats } from './pipeline';
export type { PipeliningProbe, ProbeOptions, WindowRate } from './probe';
export {
  checkFleetConfig,
  type FleetConfig,
  FleetFileError,
  type FleetFilePoint,
  loadFleetFile,
  parseFleetFile,
  type ScanDeviceConfig,
  type ScanGroupConfig,
  type ScanPoint,
} from './scanner/fleet-file';
export type { Quantiles } from './scanner/histogram';
export {
  type DeviceHealth,
  type DeviceScanStats,
  type GroupScanStats,
  type HealthEvent,
  type HealthState,
  Scanner,
  type ScannerEvents,
  type ScannerOptions,
  type ScannerStats,
  type ScanReport,
  type ScanValue,
} from './scanner/scanner';
export { TcpTransport, type TcpTransportOptions } from './tcp-transport';
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
export { type UdpDropCounts, UdpTransport, type UdpTransportOptions } from './udp-transport';
export {
  type WatchOptions,
  type WatchPoint,
  type WatchSample,
  type WatchValue,
  watchPointName,
} from './watch';
