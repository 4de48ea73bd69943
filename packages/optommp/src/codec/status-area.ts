// The status area F0300000–F030024F field by field (docs/protocols/optommp.md §3.1), and the eth1 fields of the IP-settings
// area. `decodeStatusArea` turns one block read of the area into named values.

import { Address } from './addresses';
import { formatDeviceCode } from './rcode';
import {
  decodeAsciiz,
  decodeFirmwareVersion,
  decodeIPv4,
  decodeMac,
  readF32,
  readI32,
  readU16,
  readU32,
  readU64,
} from './values';

/** How a status field is encoded. */
export type StatusFieldType = StatusField['type'];

/** One field of the status area (an element of STATUS_FIELDS). */
export type StatusField = (typeof STATUS_FIELDS)[number];

/** Start of the status area. */
export const STATUS_AREA_START = 0xf030_0000;
/** Bytes of the status area in newer maps (up to F030024F). */
export const STATUS_AREA_BYTES = 0x250;
/** Bytes a SNAP-B3000-ENET serves: it NAKs everything above F030007C (docs/protocols/optommp.md §2.6). */
export const STATUS_AREA_B3000_BYTES = 0x80;

const SIZES: Record<StatusFieldType, number> = {
  u8: 1,
  u16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  version: 4,
  ipv4: 4,
  mac: 6,
  ascii: 0,
};

const f = (
  key: keyof StatusArea,
  title: string,
  offset: number,
  type: StatusFieldType,
  size?: number,
): StatusField => ({
  key,
  title,
  address: STATUS_AREA_START + offset,
  type,
  size: size ?? SIZES[type],
});

/** Every field of the status area, by address. */
export const STATUS_FIELDS: readonly {
  readonly key: keyof StatusArea;
  readonly title: string;
  readonly address: number;
  readonly type: 'u8' | 'u16' | 'u32' | 'i32' | 'f32' | 'u64' | 'version' | 'ipv4' | 'mac' | 'ascii';
  readonly size: number;
}[] = [
  f('memoryMapVersion', 'memory-map version', 0x00, 'u32'),
  f('powerupClearFlag', 'Powerup Clear flag', 0x04, 'u32'),
  f('busyFlag', 'busy flag', 0x08, 'u32'),
  f('lastErrorCode', 'last error code', 0x0c, 'i32'),
  f('lastTransactionLabel', 'last transaction label', 0x10, 'u16'),
  f('lastSourceId', 'last source_ID', 0x12, 'u16'),
  f('lastErrorAddress', 'last error address', 0x14, 'u32'),
  f('loaderVersion', 'loader version', 0x18, 'version'),
  f('firmwareVersion', 'firmware version', 0x1c, 'version'),
  f('unitType', 'I/O unit type', 0x20, 'u32'),
  f('hardwareRevisionMonth', 'hardware revision month', 0x24, 'u8'),
  f('hardwareRevisionDay', 'hardware revision day', 0x25, 'u8'),
  f('hardwareRevisionYear', 'hardware revision year', 0x26, 'u16'),
  f('installedRam', 'installed RAM, bytes', 0x28, 'u32'),
  f('macAddress', 'MAC address (eth0)', 0x2e, 'mac'),
  f('ipAddress', 'IPv4 address (eth0)', 0x34, 'ipv4'),
  f('subnetMask', 'subnet mask (eth0)', 0x38, 'ipv4'),
  f('defaultGateway', 'default gateway (eth0)', 0x3c, 'ipv4'),
  f('dnsServer', 'DNS server (eth0)', 0x40, 'ipv4'),
  f('bootpAlways', 'BootP/DHCP always', 0x48, 'u32'),
  f('temperatureUnits', 'temperature units (0 °C, 1 °F)', 0x4c, 'u32'),
  f('watchdogMs', 'communications watchdog, ms', 0x54, 'u32'),
  f('tcpMinimumRto', 'TCP minimum RTO', 0x58, 'u32'),
  f('digitalScanCounter', 'digital scan counter', 0x5c, 'u32'),
  f('analogScanCounter', 'HD + analog scan counter', 0x60, 'u32'),
  f('tcpInitialRto', 'TCP initial RTO', 0x64, 'u32'),
  f('tcpRetries', 'TCP retries', 0x68, 'u32'),
  f('tcpIdleTimeout', 'TCP idle timeout', 0x6c, 'u32'),
  f('ethernetLateCollisions', 'Ethernet late collisions', 0x70, 'u32'),
  f('ethernetExcessiveCollisions', 'Ethernet excessive collisions', 0x74, 'u32'),
  f('ethernetOtherErrors', 'Ethernet other errors', 0x78, 'u32'),
  f('smartModulesPresent', 'smart modules present (mask)', 0x7c, 'u32'),
  f('partNumber', 'part number', 0x80, 'ascii', 32),
  f('firmwareDate', 'firmware date', 0xa0, 'ascii', 16),
  f('firmwareTime', 'firmware time', 0xb0, 'ascii', 16),
  f('idleSessionsClosed', 'idle sessions closed', 0x108, 'u32'),
  f('uptimeMs', 'milliseconds since power-up', 0x10c, 'u32'),
  f('analogScanMs', 'ms per analog/HD scan', 0x140, 'f32'),
  f('digitalScanMs', 'ms per 4-channel digital scan', 0x144, 'f32'),
  f('serialNumber', 'serial number', 0x14c, 'u32'),
  f('elapsedSincePowerup', 'elapsed time since power-up', 0x160, 'u32'),
  f('uptimeMs64', 'milliseconds since power-up (64-bit)', 0x228, 'u64'),
  f('bootDevice', 'current boot device', 0x230, 'u32'),
  f('statusWriteResult', 'status-area-write result', 0x248, 'i32'),
  f('firmwareRevision', 'firmware revision (newer maps)', 0x24c, 'version'),
];

/** The decoded status area. Fields beyond what the device served (a B3000 stops at 0x80) are undefined. */
export interface StatusArea {
  memoryMapVersion: number;
  powerupClearFlag: number;
  busyFlag: number;
  /** `0x0000E00n`, 0 = none. */
  lastErrorCode: number;
  lastTransactionLabel: number;
  lastSourceId: number;
  lastErrorAddress: number;
  loaderVersion: string;
  firmwareVersion: string;
  unitType: number;
  hardwareRevisionMonth: number;
  hardwareRevisionDay: number;
  hardwareRevisionYear: number;
  installedRam: number;
  macAddress: string;
  ipAddress: string;
  subnetMask: string;
  defaultGateway: string;
  dnsServer: string;
  bootpAlways: number;
  temperatureUnits: number;
  watchdogMs: number;
  tcpMinimumRto: number;
  digitalScanCounter: number;
  analogScanCounter: number;
  tcpInitialRto: number;
  tcpRetries: number;
  tcpIdleTimeout: number;
  ethernetLateCollisions: number;
  ethernetExcessiveCollisions: number;
  ethernetOtherErrors: number;
  smartModulesPresent: number;
  partNumber?: string;
  firmwareDate?: string;
  firmwareTime?: string;
  idleSessionsClosed?: number;
  uptimeMs?: number;
  analogScanMs?: number;
  digitalScanMs?: number;
  serialNumber?: number;
  elapsedSincePowerup?: number;
  uptimeMs64?: bigint;
  bootDevice?: number;
  statusWriteResult?: number;
  firmwareRevision?: string;
}

export type StatusValue = number | bigint | string;

/** Decodes one field from bytes that start at `base`. */
export function decodeStatusField(
  field: StatusField,
  bytes: Uint8Array,
  base = STATUS_AREA_START,
): StatusValue {
  const at = field.address - base;
  switch (field.type) {
    case 'u8':
      return bytes[at]!;
    case 'u16':
      return readU16(bytes, at);
    case 'u32':
      return readU32(bytes, at);
    case 'i32':
      return readI32(bytes, at);
    case 'f32':
      return readF32(bytes, at);
    case 'u64':
      return readU64(bytes, at);
    case 'version':
      return decodeFirmwareVersion(bytes, at);
    case 'ipv4':
      return decodeIPv4(bytes, at);
    case 'mac':
      return decodeMac(bytes, at);
    case 'ascii':
      return decodeAsciiz(bytes.subarray(at, at + field.size));
  }
}

/**
 * Decodes a block read that starts at F0300000. Every field that lies wholly inside `bytes` is set; a
 * short block (0x80 bytes from a B3000-ENET) leaves the later, optional fields undefined.
 */
export function decodeStatusArea(bytes: Uint8Array): StatusArea {
  if (bytes.length < STATUS_AREA_B3000_BYTES) {
    throw new RangeError(
      `the status area needs at least ${STATUS_AREA_B3000_BYTES} bytes, got ${bytes.length}`,
    );
  }
  const out: Record<string, StatusValue> = {};
  for (const field of STATUS_FIELDS) {
    if (field.address - STATUS_AREA_START + field.size > bytes.length) continue;
    out[field.key] = decodeStatusField(field, bytes);
  }
  return out as unknown as StatusArea;
}

/** IP-settings area fields of eth1. Only the IPv4 and MAC addresses are confirmed (python package). */
export const ETH1_FIELDS = {
  ipAddress: Address.IpAddressEth1,
  /** [unverified] by analogy with the eth0 layout (IP, mask, gateway, DNS 4 bytes apart). */
  subnetMask: 0xffff_f054,
  /** [unverified] */
  defaultGateway: 0xffff_f058,
  /** [unverified] */
  dnsServer: 0xffff_f05c,
  macAddress: Address.MacAddressEth1,
} as const;

/** First address and size of one block read covering every eth1 field. */
export const ETH1_BLOCK = { start: 0xffff_f050, size: 0x16 } as const;

export interface NetworkInterfaceStatus {
  ipAddress: string;
  subnetMask: string;
  defaultGateway: string;
  dnsServer: string;
  macAddress: string;
}

/** Decodes the eth1 block read at ETH1_BLOCK.start. */
export function decodeEth1Block(bytes: Uint8Array): NetworkInterfaceStatus {
  if (bytes.length < ETH1_BLOCK.size)
    throw new RangeError(`the eth1 block needs ${ETH1_BLOCK.size} bytes, got ${bytes.length}`);
  const at = (a: number) => a - ETH1_BLOCK.start;
  return {
    ipAddress: decodeIPv4(bytes, at(ETH1_FIELDS.ipAddress)),
    subnetMask: decodeIPv4(bytes, at(ETH1_FIELDS.subnetMask)),
    defaultGateway: decodeIPv4(bytes, at(ETH1_FIELDS.defaultGateway)),
    dnsServer: decodeIPv4(bytes, at(ETH1_FIELDS.dnsServer)),
    macAddress: decodeMac(bytes, at(ETH1_FIELDS.macAddress)),
  };
}

/** `E005` for 0x0000E005, `none` for 0. */
export function describeLastError(code: number): string {
  return code === 0 ? 'none' : formatDeviceCode(code);
}
