// OptoMMP response codes (byte 6, bits 7–4 of every response). rcode 0 is ACK; a NAK is reported by the
// C++ SDK as 0xE000 + rcode, the same number the device stores as its last error at F030000C (docs/protocols/optommp.md §2.5).

/** One rcode and what it means (an element of RCODES). */
export type RcodeInfo = (typeof RCODES)[number];

const MEANINGS: readonly (readonly [name: string, meaning: string])[] = [
  ['Ack', 'acknowledged'],
  ['UndefinedCommand', 'undefined command'],
  ['InvalidPointType', 'invalid point type'],
  ['InvalidFloat', 'invalid float'],
  ['PowerupClearExpected', 'Powerup Clear expected'],
  ['InvalidAddress', 'invalid memory address, or invalid data for that address'],
  ['InvalidLength', 'invalid command length'],
  ['Reserved', 'reserved (1394 address error)'],
  ['Busy', 'busy'],
  ['CannotEraseFlash', 'cannot erase flash'],
  ['CannotProgramFlash', 'cannot program flash'],
  ['ImageTooSmall', 'downloaded image too small'],
  ['ImageCrcMismatch', 'image CRC mismatch'],
  ['ImageLengthMismatch', 'image length mismatch'],
  ['NotImplemented', 'feature not yet implemented'],
  ['WatchdogTimeout', 'communications watchdog timeout'],
];

/** Every rcode 0–15 with its device code and meaning. */
export const RCODES: readonly {
  /** 0–15. */
  readonly rcode: number;
  /** 0xE000 + rcode (0 for ACK). */
  readonly deviceCode: number;
  /** A stable identifier. */
  readonly name: string;
  /** The meaning, as the SDK and the LabVIEW error interpreter give it. */
  readonly meaning: string;
}[] = MEANINGS.map(([name, meaning], rcode) => ({
  rcode,
  deviceCode: rcode === 0 ? 0 : 0xe000 + rcode,
  name,
  meaning,
}));

/** Named rcodes for code that sends or checks them. */
export const Rcode = {
  Ack: 0,
  UndefinedCommand: 1,
  InvalidPointType: 2,
  InvalidFloat: 3,
  PowerupClearExpected: 4,
  InvalidAddress: 5,
  InvalidLength: 6,
  Reserved: 7,
  Busy: 8,
  CannotEraseFlash: 9,
  CannotProgramFlash: 10,
  ImageTooSmall: 11,
  ImageCrcMismatch: 12,
  ImageLengthMismatch: 13,
  NotImplemented: 14,
  WatchdogTimeout: 15,
} as const;

/** Information on an rcode (0–15). */
export function rcodeInfo(rcode: number): RcodeInfo {
  const info = RCODES[rcode];
  if (info === undefined) throw new RangeError(`rcode must be 0..15, got ${rcode}`);
  return info;
}

/** `E005` style text for a device code, as the python package and the Opto 22 tools print it. */
export function formatDeviceCode(deviceCode: number): string {
  return `E${(deviceCode & 0xfff).toString(16).toUpperCase().padStart(3, '0')}`;
}
