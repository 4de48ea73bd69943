// The OptoMMP memory map as a typed table (spec §3). Sizes of areas the sources do not bound are the
// extent the sources use. `family` groups the areas; `device` says which hardware has them.

export type AreaAccess = 'read' | 'write' | 'read-write';

export interface MemoryArea {
  /** A stable identifier, e.g. `epic-digital-read`. */
  readonly id: string;
  /** Words a reader of the spec recognises. */
  readonly title: string;
  /** First 32-bit address. */
  readonly start: number;
  /** Size in bytes. */
  readonly size: number;
  readonly access: AreaAccess;
  readonly family: 'status' | 'network' | 'epic' | 'snap' | 'scratch-pad' | 'configuration' | 'other';
  /** Short source key of spec §9, and `unverified` when only one secondary source has it. */
  readonly source: string;
}

const area = (
  id: string,
  title: string,
  start: number,
  size: number,
  access: AreaAccess,
  family: MemoryArea['family'],
  source: string,
): MemoryArea => ({ id, title, start, size, access, family, source });

/** Every area the spec names, sorted by start address. */
export const MEMORY_MAP: readonly MemoryArea[] = [
  area(
    'epic-point-configuration',
    'EPIC point configuration',
    0xf010_0000,
    64 * 64 * 0xc0,
    'read-write',
    'epic',
    'SDK MOORE',
  ),
  area(
    'epic-analog-calc-set',
    'analog calc & set (offset, gain)',
    0xf01c_0000,
    64 * 64 * 8,
    'read-write',
    'epic',
    'SDK MOORE',
  ),
  area(
    'epic-analog-read-clear',
    'analog read & clear min/max',
    0xf01d_4000,
    64 * 0x300,
    'read',
    'epic',
    'SDK',
  ),
  area('epic-digital-read', 'EPIC digital read', 0xf01e_0000, 64 * 0x1000, 'read', 'epic', 'OPY SDK'),
  area('epic-digital-write', 'EPIC digital write', 0xf022_0000, 64 * 0x1000, 'read-write', 'epic', 'OPY'),
  area('epic-analog-read', 'EPIC analog read', 0xf026_0000, 64 * 0x1000, 'read', 'epic', 'OPY SDK'),
  area('epic-analog-write', 'EPIC analog write', 0xf02a_0000, 64 * 0x1000, 'read-write', 'epic', 'OPY SDK'),
  area('status-read', 'status area (read)', 0xf030_0000, 0x250, 'read', 'status', 'SDK MOORE SHARP WS'),
  area(
    'comm-port-configuration',
    'comm-port configuration',
    0xf031_0400,
    0x400,
    'read-write',
    'configuration',
    'WS',
  ),
  area(
    'serial-pass-through',
    'serial pass-through',
    0xf032_9000,
    0x4000,
    'read-write',
    'configuration',
    'SDK',
  ),
  area('date-time', 'date and time', 0xf035_0000, 23, 'read-write', 'status', 'SDK MOORE'),
  area('status-write', 'status area (write)', 0xf038_0000, 0x294, 'read-write', 'status', 'SDK MOORE'),
  area('modbus', 'Modbus configuration', 0xf039_0000, 0x100, 'read-write', 'configuration', 'WS'),
  area('network-security', 'network security', 0xf03a_0004, 0xffc, 'read-write', 'configuration', 'MOORE'),
  area(
    'module-configuration',
    'SSI / serial / Wiegand / CAN / HART module configuration',
    0xf03a_1000,
    0x9000,
    'read-write',
    'configuration',
    'WS',
  ),
  area('snmp', 'SNMP', 0xf03c_0000, 0x1000, 'read-write', 'configuration', 'WS'),
  area('ftp', 'FTP', 0xf03d_0000, 0x1000, 'read-write', 'configuration', 'WS'),
  area('ppp', 'PPP', 0xf03e_0000, 0x1000, 'read-write', 'configuration', 'WS'),
  area(
    'streaming-configuration',
    'streaming configuration',
    0xf03f_ffc4,
    0x3c,
    'read-write',
    'configuration',
    'SDK WS',
  ),
  area(
    'snap-digital-bank-read',
    'SNAP digital bank (read)',
    0xf040_0000,
    0x200,
    'read',
    'snap',
    'SDK LV PERL',
  ),
  area(
    'snap-digital-bank-write',
    'SNAP digital bank (write masks)',
    0xf050_0000,
    0x20,
    'read-write',
    'snap',
    'SDK LV',
  ),
  area('snap-analog-bank-read', 'SNAP analog bank (read)', 0xf060_0000, 0x400, 'read', 'snap', 'SDK LV'),
  area(
    'snap-analog-bank-write',
    'SNAP analog bank (write)',
    0xf070_0000,
    0x200,
    'read-write',
    'snap',
    'SDK LV',
  ),
  area('snap-digital-point-read', 'SNAP digital point (read)', 0xf080_0000, 64 * 0x40, 'read', 'snap', 'SDK'),
  area(
    'snap-digital-point-write',
    'SNAP digital point (write)',
    0xf090_0000,
    64 * 0x40,
    'read-write',
    'snap',
    'SDK',
  ),
  area('snap-analog-point-read', 'SNAP analog point (read)', 0xf0a0_0000, 64 * 0x40, 'read', 'snap', 'SDK'),
  area(
    'snap-analog-point-write',
    'SNAP analog point (write)',
    0xf0b0_0000,
    64 * 0x40,
    'read-write',
    'snap',
    'SDK',
  ),
  area(
    'snap-point-configuration',
    'SNAP point configuration',
    0xf0c0_0000,
    0x1200,
    'read-write',
    'snap',
    'SDK MOORE',
  ),
  area('digital-events', 'digital events', 0xf0d0_0000, 0x1000, 'read-write', 'other', 'WS'),
  area('digital-events-2', 'digital events (second area)', 0xf0d4_0000, 0x1000, 'read-write', 'other', 'WS'),
  area('custom-area-addresses', 'custom area addresses', 0xf0d5_0000, 0x1000, 'read-write', 'other', 'SDK'),
  area('custom-area-data', 'custom area data', 0xf0d6_0000, 0x1000, 'read-write', 'other', 'SDK'),
  area('scratch-pad-bits', 'scratch pad bits', 0xf0d8_0000, 8, 'read-write', 'scratch-pad', 'SDK'),
  area(
    'scratch-pad-bit-masks',
    'scratch pad bit masks (turn on, turn off)',
    0xf0d8_0400,
    16,
    'read-write',
    'scratch-pad',
    'SDK',
  ),
  area(
    'scratch-pad-int32-1',
    'scratch pad int32 area 1',
    0xf0d8_1000,
    1024 * 4,
    'read-write',
    'scratch-pad',
    'OPY SDK',
  ),
  area(
    'scratch-pad-float-1',
    'scratch pad float area 1',
    0xf0d8_2000,
    1024 * 4,
    'read-write',
    'scratch-pad',
    'OPY SDK',
  ),
  area(
    'scratch-pad-strings',
    'scratch pad strings',
    0xf0d8_3000,
    64 * 0x82,
    'read-write',
    'scratch-pad',
    'OPY SDK',
  ),
  area(
    'scratch-pad-int32-2-3',
    'scratch pad int32 areas 2 and 3',
    0xf0da_0000,
    9216 * 4,
    'read-write',
    'scratch-pad',
    'OPY SDK',
  ),
  area(
    'scratch-pad-float-2-3',
    'scratch pad float areas 2 and 3',
    0xf0dc_0000,
    9216 * 4,
    'read-write',
    'scratch-pad',
    'OPY SDK',
  ),
  area(
    'scratch-pad-int64',
    'scratch pad int64 (experimental)',
    0xf0de_0000,
    1024 * 8,
    'read-write',
    'scratch-pad',
    'SDK unverified',
  ),
  area(
    'snap-read-clear',
    'SNAP read & clear (counts, latches, min/max)',
    0xf0f0_0000,
    0x10_0000,
    'read',
    'snap',
    'SDK',
  ),
  area('stream-read', 'stream read area', 0xf100_0000, 0x220, 'read', 'other', 'SDK'),
  area(
    'epic-packed-states',
    'EPIC packed flags/state (per module)',
    0xf100_1800,
    64 * 4,
    'read',
    'epic',
    'F-MOD unverified',
  ),
  area(
    'epic-packed-digital',
    'EPIC packed digital (states, quality, latches)',
    0xf100_1900,
    16 * 0x10,
    'read',
    'epic',
    'SDK',
  ),
  area('epic-module-quality', 'EPIC module quality', 0xf100_2000, 8, 'read', 'epic', 'SDK'),
  area('epic-channel-quality', 'EPIC channel quality', 0xf100_2080, 64 * 0x100, 'read', 'epic', 'SDK'),
  area('alarms', 'alarms', 0xf110_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('event-messages', 'event messages', 0xf120_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('email', 'e-mail', 0xf130_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('serial-events', 'serial events', 0xf154_0000, 0x10_0000, 'read-write', 'other', 'WS'),
  area('snap-hd-digital', 'SNAP HD digital', 0xf180_8000, 0x5000, 'read-write', 'snap', 'SDK'),
  area('pid-status', 'PID loop status', 0xf200_0000, 0x10_0000, 'read', 'other', 'SDK'),
  area('pid-configuration', 'PID loop configuration', 0xf210_0000, 0x10_0000, 'read-write', 'other', 'SDK'),
  area('data-log', 'data log', 0xf300_0000, 0x4_0000, 'read', 'other', 'SDK'),
  area(
    'ip-settings',
    'IP settings (eth1 IP at FFFFF050, MAC at FFFFF060)',
    0xffff_f008,
    0x70,
    'read-write',
    'network',
    'WS OPY',
  ),
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
