// The OptoMMP memory map as a typed table (docs/protocols/optommp.md §3). Sizes of areas the sources do not bound are the
// extent the sources use. `family` groups the areas; `device` says which hardware has them.

import {
  Address,
  EPIC_CHANNELS,
  EPIC_MODULE_STRIDE,
  EPIC_MODULES,
  EpicArea,
  PACKED_DIGITAL_MODULES,
  SCRATCH_PAD_AREA1_ELEMENTS,
  SCRATCH_PAD_ELEMENTS,
  SCRATCH_PAD_INT64_ELEMENTS,
  SCRATCH_PAD_STRING_SLOT_BYTES,
  SCRATCH_PAD_STRING_SLOTS,
  ScratchPad,
  SnapArea,
} from './addresses';
import { STATUS_AREA_BYTES, STATUS_AREA_START } from './status-area';

export type AreaAccess = MemoryArea['access'];

/** One area of the memory map (an element of MEMORY_MAP). */
export type MemoryArea = (typeof MEMORY_MAP)[number];

const area = (
  id: string,
  title: string,
  start: number,
  size: number,
  access: AreaAccess,
  family: MemoryArea['family'],
  source: string,
): MemoryArea => ({ id, title, start, size, access, family, source });

/** One EPIC I/O area: 64 modules of 64 channel blocks (0x1000 bytes a module). */
const EPIC_AREA_BYTES = EPIC_MODULES * EPIC_MODULE_STRIDE;

/**
 * Every area the spec names, sorted by start address. Areas that code addresses take their start (and
 * size) from the constants in addresses.ts and status-area.ts, so the map and the code cannot disagree.
 */
// biome-ignore format: one area per line, so the map reads as a table
export const MEMORY_MAP: readonly {
  /** A stable identifier, e.g. `epic-digital-read`. */
  readonly id: string;
  /** Words a reader of the spec recognises. */
  readonly title: string;
  /** First 32-bit address. */
  readonly start: number;
  /** Size in bytes. */
  readonly size: number;
  /** What the area allows. */
  readonly access: 'read' | 'write' | 'read-write';
  readonly family: 'status' | 'network' | 'epic' | 'snap' | 'scratch-pad' | 'configuration' | 'other';
  /** Short source key of docs/protocols/optommp.md §9, and `unverified` when only one secondary source has it. */
  readonly source: string;
}[] = [
  area('epic-point-configuration', 'EPIC point configuration', EpicArea.PointConfiguration, EPIC_MODULES * EPIC_CHANNELS * 0xc0, 'read-write', 'epic', 'SDK MOORE'),
  area('epic-analog-calc-set', 'analog calc & set (offset, gain)', 0xf01c_0000, 64 * 64 * 8, 'read-write', 'epic', 'SDK MOORE'),
  area('epic-analog-read-clear', 'analog read & clear min/max', 0xf01d_4000, 64 * 0x300, 'read', 'epic', 'SDK'),
  area('epic-digital-read', 'EPIC digital read', EpicArea.DigitalRead, EPIC_AREA_BYTES, 'read', 'epic', 'OPY SDK'),
  area('epic-digital-write', 'EPIC digital write', EpicArea.DigitalWrite, EPIC_AREA_BYTES, 'read-write', 'epic', 'OPY'),
  area('epic-analog-read', 'EPIC analog read', EpicArea.AnalogRead, EPIC_AREA_BYTES, 'read', 'epic', 'OPY SDK'),
  area('epic-analog-write', 'EPIC analog write', EpicArea.AnalogWrite, EPIC_AREA_BYTES, 'read-write', 'epic', 'OPY SDK'),
  area('status-read', 'status area (read)', STATUS_AREA_START, STATUS_AREA_BYTES, 'read', 'status', 'SDK MOORE SHARP WS'),
  area('comm-port-configuration', 'comm-port configuration', 0xf031_0400, 0x400, 'read-write', 'configuration', 'WS'),
  area('serial-pass-through', 'serial pass-through', 0xf032_9000, 0x4000, 'read-write', 'configuration', 'SDK'),
  area('date-time', 'date and time', Address.DateTime, 23, 'read-write', 'status', 'SDK MOORE'),
  area('status-write', 'status area (write)', Address.StatusWriteOperation, 0x294, 'read-write', 'status', 'SDK MOORE'),
  area('modbus', 'Modbus configuration', 0xf039_0000, 0x100, 'read-write', 'configuration', 'WS'),
  area('network-security', 'network security', 0xf03a_0004, 0xffc, 'read-write', 'configuration', 'MOORE'),
  area('module-configuration', 'SSI / serial / Wiegand / CAN / HART module configuration', 0xf03a_1000, 0x9000, 'read-write', 'configuration', 'WS'),
  area('snmp', 'SNMP', 0xf03c_0000, 0x1000, 'read-write', 'configuration', 'WS'),
  area('ftp', 'FTP', 0xf03d_0000, 0x1000, 'read-write', 'configuration', 'WS'),
  area('ppp', 'PPP', 0xf03e_0000, 0x1000, 'read-write', 'configuration', 'WS'),
  area('streaming-configuration', 'streaming configuration', 0xf03f_ffc4, 0x3c, 'read-write', 'configuration', 'SDK WS'),
  area('snap-digital-bank-read', 'SNAP digital bank (read)', SnapArea.DigitalBankRead, 0x200, 'read', 'snap', 'SDK LV PERL'),
  area('snap-digital-bank-write', 'SNAP digital bank (write masks)', SnapArea.DigitalBankWrite, 0x20, 'read-write', 'snap', 'SDK LV'),
  area('snap-analog-bank-read', 'SNAP analog bank (read)', SnapArea.AnalogBankRead, 0x400, 'read', 'snap', 'SDK LV'),
  area('snap-analog-bank-write', 'SNAP analog bank (write)', SnapArea.AnalogBankWrite, 0x200, 'read-write', 'snap', 'SDK LV'),
  area('snap-digital-point-read', 'SNAP digital point (read)', SnapArea.DigitalPointRead, 64 * 0x40, 'read', 'snap', 'SDK'),
  area('snap-digital-point-write', 'SNAP digital point (write)', SnapArea.DigitalPointWrite, 64 * 0x40, 'read-write', 'snap', 'SDK'),
  area('snap-analog-point-read', 'SNAP analog point (read)', SnapArea.AnalogPointRead, 64 * 0x40, 'read', 'snap', 'SDK'),
  area('snap-analog-point-write', 'SNAP analog point (write)', SnapArea.AnalogPointWrite, 64 * 0x40, 'read-write', 'snap', 'SDK'),
  area('snap-point-configuration', 'SNAP point configuration', 0xf0c0_0000, 0x1200, 'read-write', 'snap', 'SDK MOORE'),
  area('digital-events', 'digital events', 0xf0d0_0000, 0x1000, 'read-write', 'other', 'WS'),
  area('digital-events-2', 'digital events (second area)', 0xf0d4_0000, 0x1000, 'read-write', 'other', 'WS'),
  area('custom-area-addresses', 'custom area addresses', 0xf0d5_0000, 0x1000, 'read-write', 'other', 'SDK'),
  area('custom-area-data', 'custom area data', 0xf0d6_0000, 0x1000, 'read-write', 'other', 'SDK'),
  area('scratch-pad-bits', 'scratch pad bits', ScratchPad.Bits, 8, 'read-write', 'scratch-pad', 'SDK'),
  area('scratch-pad-bit-masks', 'scratch pad bit masks (turn on, turn off)', ScratchPad.BitsTurnOn, 16, 'read-write', 'scratch-pad', 'SDK'),
  area('scratch-pad-int32-1', 'scratch pad int32 area 1', ScratchPad.Int32Area1, SCRATCH_PAD_AREA1_ELEMENTS * 4, 'read-write', 'scratch-pad', 'OPY SDK'),
  area('scratch-pad-float-1', 'scratch pad float area 1', ScratchPad.Float32Area1, SCRATCH_PAD_AREA1_ELEMENTS * 4, 'read-write', 'scratch-pad', 'OPY SDK'),
  area('scratch-pad-strings', 'scratch pad strings', ScratchPad.Strings, SCRATCH_PAD_STRING_SLOTS * SCRATCH_PAD_STRING_SLOT_BYTES, 'read-write', 'scratch-pad', 'OPY SDK'),
  area('scratch-pad-int32-2-3', 'scratch pad int32 areas 2 and 3', ScratchPad.Int32Area2, (SCRATCH_PAD_ELEMENTS - SCRATCH_PAD_AREA1_ELEMENTS) * 4, 'read-write', 'scratch-pad', 'OPY SDK'),
  area('scratch-pad-float-2-3', 'scratch pad float areas 2 and 3', ScratchPad.Float32Area2, (SCRATCH_PAD_ELEMENTS - SCRATCH_PAD_AREA1_ELEMENTS) * 4, 'read-write', 'scratch-pad', 'OPY SDK'),
  area('scratch-pad-int64', 'scratch pad int64 (experimental)', ScratchPad.Int64, SCRATCH_PAD_INT64_ELEMENTS * 8, 'read-write', 'scratch-pad', 'SDK unverified'),
  area('snap-read-clear', 'SNAP read & clear (counts, latches, min/max)', 0xf0f0_0000, 0x10_0000, 'read', 'snap', 'SDK'),
  area('stream-read', 'stream read area', 0xf100_0000, 0x220, 'read', 'other', 'SDK'),
  area('epic-packed-states', 'EPIC packed flags/state (per module)', EpicArea.PackedStates, EPIC_MODULES * 4, 'read', 'epic', 'F-MOD unverified'),
  area('epic-packed-digital', 'EPIC packed digital (states, quality, latches)', EpicArea.PackedDigital, PACKED_DIGITAL_MODULES * 0x10, 'read', 'epic', 'SDK'),
  area('epic-module-quality', 'EPIC module quality', EpicArea.ModuleQuality, 8, 'read', 'epic', 'SDK'),
  area('epic-channel-quality', 'EPIC channel quality', EpicArea.ChannelQuality, EPIC_MODULES * 0x100, 'read', 'epic', 'SDK'),
  area('alarms', 'alarms', 0xf110_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('event-messages', 'event messages', 0xf120_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('email', 'e-mail', 0xf130_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('serial-events', 'serial events', 0xf154_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('snap-hd-digital', 'SNAP HD digital', 0xf180_8000, 0x5000, 'read-write', 'snap', 'SDK'),
  area('pid-status', 'PID loop status', 0xf200_0000, 0x10_0000, 'read', 'other', 'SDK'),
  area('pid-configuration', 'PID loop configuration', 0xf210_0000, 0x10_0000, 'read-write', 'other', 'SDK'),
  area('data-log', 'data log', 0xf300_0000, 0x4_0000, 'read', 'other', 'SDK'),
  area('ip-settings', 'IP settings (eth1 IP at FFFFF050, MAC at FFFFF060)', 0xffff_f008, 0x70, 'read-write', 'network', 'WS OPY'),
];

const BY_ID = new Map(MEMORY_MAP.map((a) => [a.id, a]));

/** The area with this id; throws for an unknown id. */
export function memoryArea(id: string): MemoryArea {
  const a = BY_ID.get(id);
  if (a === undefined) throw new RangeError(`no OptoMMP memory area ${JSON.stringify(id)}`);
  return a;
}

/** The area that contains `address`, if the spec names one. */
export function findMemoryArea(address: number): MemoryArea | undefined {
  for (const a of MEMORY_MAP) if (address >= a.start && address < a.start + a.size) return a;
  return undefined;
}

/** `F030010C` style: 8 uppercase hex digits. */
export function formatAddress(address: number): string {
  return address.toString(16).toUpperCase().padStart(8, '0');
}
