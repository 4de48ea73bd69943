// Addresses of the OptoMMP memory map that code computes (docs/protocols/optommp.md §3). Every helper range-checks its
// arguments and throws RangeError, so a bad module number never becomes a write to the wrong place.

function checkIndex(what: string, value: number, count: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= count) {
    throw new RangeError(`${what} must be an integer 0..${count - 1}, got ${value}`);
  }
}

// --- status area (docs/protocols/optommp.md §3.1, §3.2) --------------------------------------------------------------------

/** Well-known single addresses. */
export const Address = {
  /** u32 memory-map version. */
  MemoryMapVersion: 0xf030_0000,
  /** u32 Powerup Clear flag: non-zero means a PUC is required (docs/protocols/optommp.md §2.8). */
  PowerupClearFlag: 0xf030_0004,
  /** i32 last error code `0000E00n`. */
  LastError: 0xf030_000c,
  /** u32 address of the last failed request (the block start for block requests). */
  LastErrorAddress: 0xf030_0014,
  /** 4-byte firmware version. */
  FirmwareVersion: 0xf030_001c,
  /** 6-byte eth0 MAC. */
  MacAddressEth0: 0xf030_002e,
  /** 4-byte eth0 IPv4. */
  IpAddressEth0: 0xf030_0034,
  /** 32-byte NUL-padded part number ("unit description"). */
  PartNumber: 0xf030_0080,
  /** u32 milliseconds since power-up (vectors V01, V36). */
  Uptime: 0xf030_010c,
  /** u32 device serial number. */
  SerialNumber: 0xf030_014c,
  /** u64 milliseconds since power-up. */
  Uptime64: 0xf030_0228,
  /** 4-byte eth1 IPv4 in the IP-settings area (python package, vector V07). */
  IpAddressEth1: 0xffff_f050,
  /** 6-byte eth1 MAC (python package, vector V08). */
  MacAddressEth1: 0xffff_f060,
  /** u32 status-write operation code; 1 = Powerup Clear (docs/protocols/optommp.md §3.2, vector V39). */
  StatusWriteOperation: 0xf038_0000,
  /** 23-byte ASCII date and time `YYYY-MM-DD HH:MM:SS:00`. */
  DateTime: 0xf035_0000,
} as const;

/** Status-write operation codes at F0380000 (only 1 is confirmed by several sources, docs/protocols/optommp.md §3.2). */
export const StatusOperation = {
  PowerupClear: 1,
  ResetToDefaults: 2,
  SaveToFlash: 3,
  EraseFlashConfiguration: 4,
  ResetHardware: 5,
} as const;

// --- groov EPIC I/O (docs/protocols/optommp.md §3.4) ------------------------------------------------------------------------

/** Modules per rack and channels per module addressable by the EPIC I/O areas. */
export const EPIC_MODULES = 64;
export const EPIC_CHANNELS = 64;
export const EPIC_MODULE_STRIDE = 0x1000;
export const EPIC_CHANNEL_STRIDE = 0x40;

export const EpicArea = {
  DigitalRead: 0xf01e_0000,
  DigitalWrite: 0xf022_0000,
  AnalogRead: 0xf026_0000,
  AnalogWrite: 0xf02a_0000,
  PointConfiguration: 0xf010_0000,
  PackedDigital: 0xf100_1900,
  PackedStates: 0xf100_1800,
  ModuleQuality: 0xf100_2000,
  ChannelQuality: 0xf100_2080,
} as const;

/** Offsets inside a digital read channel block. */
export const DigitalReadField = {
  State: 0x0,
  OnLatch: 0x4,
  OffLatch: 0x8,
  FeatureType: 0xc,
  FeatureValue: 0x10,
  Quality: 0x14,
} as const;

/** Offsets inside an analog read channel block. */
export const AnalogReadField = {
  Value: 0x0,
  Counts: 0x4,
  Minimum: 0x8,
  Maximum: 0xc,
  Quality: 0x10,
} as const;

/** Offsets inside an analog write channel block. */
export const AnalogWriteField = {
  Value: 0x0,
  Counts: 0x4,
  TpoPeriod: 0xc,
} as const;

/** The channel block `base + m·0x1000 + c·0x40` of an EPIC I/O area. */
export function epicChannelAddress(base: number, module: number, channel: number): number {
  checkIndex('module', module, EPIC_MODULES);
  checkIndex('channel', channel, EPIC_CHANNELS);
  return base + module * EPIC_MODULE_STRIDE + channel * EPIC_CHANNEL_STRIDE;
}

export function epicDigitalReadAddress(module: number, channel: number): number {
  return epicChannelAddress(EpicArea.DigitalRead, module, channel);
}

export function epicDigitalWriteAddress(module: number, channel: number): number {
  return epicChannelAddress(EpicArea.DigitalWrite, module, channel);
}

export function epicAnalogReadAddress(module: number, channel: number): number {
  return epicChannelAddress(EpicArea.AnalogRead, module, channel);
}

export function epicAnalogWriteAddress(module: number, channel: number): number {
  return epicChannelAddress(EpicArea.AnalogWrite, module, channel);
}

/** Modules covered by the packed digital area F1001900 (16 × 0x10 bytes, SDK code). */
export const PACKED_DIGITAL_MODULES = 16;

/** The packed digital block of a module: u32 states, quality, on-latches, off-latches. */
export function epicPackedDigitalAddress(module: number): number {
  checkIndex('module', module, PACKED_DIGITAL_MODULES);
  return EpicArea.PackedDigital + module * 0x10;
}

/** The 64 u32 channel-quality words of a module. */
export function epicChannelQualityAddress(module: number): number {
  checkIndex('module', module, EPIC_MODULES);
  return EpicArea.ChannelQuality + module * 0x100;
}

/** The point-configuration block of a channel (0xC0 bytes); +0 holds the module type. */
export function epicPointConfigurationAddress(module: number, channel: number): number {
  checkIndex('module', module, EPIC_MODULES);
  checkIndex('channel', channel, EPIC_CHANNELS);
  return EpicArea.PointConfiguration + (module * EPIC_CHANNELS + channel) * 0xc0;
}

// --- scratch pad (docs/protocols/optommp.md §3.3) ---------------------------------------------------------------------------

export const ScratchPad = {
  Bits: 0xf0d8_0000,
  BitsTurnOn: 0xf0d8_0400,
  BitsTurnOff: 0xf0d8_0408,
  Int32Area1: 0xf0d8_1000,
  Float32Area1: 0xf0d8_2000,
  Strings: 0xf0d8_3000,
  /** Areas 2 and 3 are one contiguous run: area 3 starts at F0DA2000 = F0DA0000 + 4·2048. */
  Int32Area2: 0xf0da_0000,
  Float32Area2: 0xf0dc_0000,
  Int64: 0xf0de_0000,
} as const;

/** int32 and float elements: 1024 in area 1, 2048 in area 2, 7168 in area 3. */
export const SCRATCH_PAD_ELEMENTS = 10_240;
export const SCRATCH_PAD_AREA1_ELEMENTS = 1024;
export const SCRATCH_PAD_STRING_SLOTS = 64;
/** A string slot: u16 BE length, then 128 data bytes (stride 0x82, docs/protocols/optommp.md §3.3). */
export const SCRATCH_PAD_STRING_SLOT_BYTES = 0x82;
export const SCRATCH_PAD_STRING_MAX = 128;
/** int64 elements (8 bytes each, experimental: the SDK's stride is inconsistent, docs/protocols/optommp.md §3.3). */
export const SCRATCH_PAD_INT64_ELEMENTS = 1024;

/** A run of contiguous scratch-pad elements: area 1 and area 2 are not adjacent. */
export interface ScratchPadRun {
  readonly index: number;
  readonly count: number;
  readonly address: number;
}

function scratchPadAddress(kind: 'int32' | 'float32', index: number): number {
  checkIndex(`${kind} scratch-pad index`, index, SCRATCH_PAD_ELEMENTS);
  if (index < SCRATCH_PAD_AREA1_ELEMENTS) {
    return (kind === 'int32' ? ScratchPad.Int32Area1 : ScratchPad.Float32Area1) + 4 * index;
  }
  return (
    (kind === 'int32' ? ScratchPad.Int32Area2 : ScratchPad.Float32Area2) +
    4 * (index - SCRATCH_PAD_AREA1_ELEMENTS)
  );
}

/** Address of int32 element `index` (0…10 239): area 1 below 1024, areas 2+3 from F0DA0000 on (fixes D4). */
export function scratchPadInt32Address(index: number): number {
  return scratchPadAddress('int32', index);
}

/** Address of float element `index` (0…10 239). */
export function scratchPadFloat32Address(index: number): number {
  return scratchPadAddress('float32', index);
}

/** Splits `count` elements from `index` into contiguous runs (a range across 1023/1024 needs two transfers). */
export function scratchPadRuns(kind: 'int32' | 'float32', index: number, count: number): ScratchPadRun[] {
  if (!Number.isInteger(count) || count < 1 || index + count > SCRATCH_PAD_ELEMENTS) {
    throw new RangeError(
      `${count} ${kind} element(s) from index ${index} exceed the scratch pad (0..${SCRATCH_PAD_ELEMENTS - 1})`,
    );
  }
  const first = scratchPadAddress(kind, index);
  if (index >= SCRATCH_PAD_AREA1_ELEMENTS || index + count <= SCRATCH_PAD_AREA1_ELEMENTS) {
    return [{ index, count, address: first }];
  }
  const head = SCRATCH_PAD_AREA1_ELEMENTS - index;
  return [
    { index, count: head, address: first },
    {
      index: SCRATCH_PAD_AREA1_ELEMENTS,
      count: count - head,
      address: scratchPadAddress(kind, SCRATCH_PAD_AREA1_ELEMENTS),
    },
  ];
}

/** Address of string slot `slot` (0…63): F0D83000 + 0x82·slot. */
export function scratchPadStringAddress(slot: number): number {
  checkIndex('string slot', slot, SCRATCH_PAD_STRING_SLOTS);
  return ScratchPad.Strings + SCRATCH_PAD_STRING_SLOT_BYTES * slot;
}

/** Address of int64 element `index` (0…1023): F0DE0000 + 8·index (experimental). */
export function scratchPadInt64Address(index: number): number {
  checkIndex('int64 scratch-pad index', index, SCRATCH_PAD_INT64_ELEMENTS);
  return ScratchPad.Int64 + 8 * index;
}

// --- SNAP PAC 64-point banks (docs/protocols/optommp.md §3.5) ---------------------------------------------------------------

export const SnapArea = {
  DigitalBankRead: 0xf040_0000,
  DigitalBankWrite: 0xf050_0000,
  AnalogBankRead: 0xf060_0000,
  AnalogBankWrite: 0xf070_0000,
  DigitalPointRead: 0xf080_0000,
  DigitalPointWrite: 0xf090_0000,
  AnalogPointRead: 0xf0a0_0000,
  AnalogPointWrite: 0xf0b0_0000,
} as const;

export const SNAP_POINTS = 64;
