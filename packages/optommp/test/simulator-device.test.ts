// The device model answering decoded packets directly (no sockets): error shapes, last-error status, PUC
// gating, mirroring, latches, drift, packed views, masks.

import { toHex } from '@labwire/framing';
import {
  decodePacket,
  encodeReadBlockRequest,
  epicAnalogReadAddress,
  epicDigitalReadAddress,
  offsetOf,
} from '@labwire/optommp/codec';
import { DEFAULT_RACK, EpicDevice, parseRackConfig } from '@labwire/optommp/simulator';
import { describe, expect, it } from 'vitest';
import {
  epicAnalogWriteAddress,
  epicDigitalWriteAddress,
  epicPackedDigitalAddress,
  ScratchPad,
  SnapArea,
} from '../src/codec/addresses';
import {
  encodeReadQuadletRequest,
  encodeUndefinedTcodePacket,
  encodeWriteBlockRequest,
  encodeWriteQuadletRequest,
  encodeWriteResponse,
} from '../src/codec/encode';
import {
  encodeFloat32,
  encodeInt32,
  encodeMask64,
  latin1Bytes,
  readF32,
  readU32,
  readU64,
} from '../src/codec/values';
import { type EpicDeviceOptions, formatDeviceTime } from '../src/simulator/device';

function device(options: EpicDeviceOptions = {}) {
  let now = 0;
  const d = new EpicDevice({ clock: () => now, ...options });
  const ask = (bytes: Uint8Array) =>
    decodePacket(d.handle(decodePacket(bytes, { undefinedTcodes: 'header' })));
  const read = (address: number, length: number) => {
    const r = ask(encodeReadBlockRequest({ offset: offsetOf(address), dataLength: length }));
    if (r.tcode !== 7 || r.rcode !== 0)
      throw new Error(`read ${address.toString(16)} NAK ${'rcode' in r ? r.rcode : ''}`);
    return r.data;
  };
  const write = (address: number, data: Uint8Array) => {
    const r = ask(encodeWriteBlockRequest({ offset: offsetOf(address), data }));
    return r.tcode === 2 ? r.rcode : -1;
  };
  return { d, ask, read, write, advance: (ms: number) => (now += ms) };
}

describe('NAK shapes and last-error status (docs/protocols/optommp.md §2.6)', () => {
  it('a NAKed block read is a bare 16-byte header; the block start becomes the last error address', () => {
    const { d } = device();
    const res = d.handle(
      decodePacket(encodeReadBlockRequest({ tl: 9, offset: offsetOf(0xf0f0f000), dataLength: 64 })),
    );
    expect(toHex(res)).toBe('00002470000050000000000000000000');
    const { read: r2 } = { read: (a: number) => d.peek(a, 4) };
    expect(readU32(r2(0xf030000c))).toBe(0xe005);
    expect(readU32(r2(0xf0300014))).toBe(0xf0f0f000);
    expect(readU32(d.peek(0xf0300010, 4))).toBe((9 << 16) | 0); // last tl 9, last source_ID 0
  });

  it('a NAKed quadlet read has zero data; a write NAK is the 12-byte write response', () => {
    const { ask } = device();
    expect(ask(encodeReadQuadletRequest({ tl: 7, offset: offsetOf(0x10000000) }))).toMatchObject({
      tcode: 6,
      rcode: 5,
      tl: 7,
      data: new Uint8Array(4),
    });
    expect(
      ask(encodeWriteQuadletRequest({ offset: offsetOf(0xf0300000), data: encodeInt32(1) })),
    ).toMatchObject({ tcode: 2, rcode: 5 });
  });

  it('refuses offsets whose high 16 bits are not FFFF, blocks above 2048 bytes and undefined tcodes', () => {
    const { ask, d } = device();
    expect(ask(encodeReadBlockRequest({ offset: 0xf030010c, dataLength: 4 }))).toMatchObject({ rcode: 5 });
    expect(ask(encodeReadBlockRequest({ offset: offsetOf(0xf0d81000), dataLength: 2049 }))).toMatchObject({
      rcode: 6,
      data: new Uint8Array(0),
    });
    expect(ask(encodeReadBlockRequest({ offset: offsetOf(0xf0d81000), dataLength: 2048 }))).toMatchObject({
      rcode: 0,
    });
    expect(ask(encodeUndefinedTcodePacket({ tcode: 12, tl: 3, offset: offsetOf(0xf0300000) }))).toMatchObject(
      { tcode: 2, rcode: 1, tl: 3 },
    );
    // A response packet sent to the device is not a command either.
    expect(ask(encodeWriteResponse({ rcode: 0 }))).toMatchObject({ tcode: 2, rcode: 1 });
    expect(readU32(d.peek(0xf030000c, 4))).toBe(0xe001);
  });

  it('echoes tl and source_ID, and puts the source_ID in bytes 0–1', () => {
    const { ask } = device();
    expect(
      ask(encodeReadQuadletRequest({ tl: 42, sourceId: 0x1234, offset: offsetOf(0xf0300000) })),
    ).toMatchObject({
      tl: 42,
      sourceId: 0x1234,
      destinationId: 0x1234,
    });
  });

  it('reject() provokes any rcode until removed', () => {
    const { d, read, write } = device();
    const undo = d.reject({ from: 0xf0d81000, to: 0xf0d81003 }, 8);
    expect(write(0xf0d81000, encodeInt32(1))).toBe(8);
    undo();
    expect(write(0xf0d81000, encodeInt32(1))).toBe(0);
    expect(readU32(read(0xf0d81000, 4))).toBe(1);
  });
});

describe('Powerup Clear gating (docs/protocols/optommp.md §2.8)', () => {
  it('NAKs everything but status reads with rcode 4 until 1 is written to F0380000', () => {
    const { ask, read, write, d } = device({ powerupClearPending: true });
    expect(readU32(read(0xf0300004, 4))).toBe(1);
    expect(read(0xf0300000, 0x250)).toHaveLength(0x250);
    expect(write(0xf0d81000, encodeInt32(5))).toBe(4);
    expect(ask(encodeReadBlockRequest({ offset: offsetOf(0xf0d81000), dataLength: 4 }))).toMatchObject({
      rcode: 4,
    });
    expect(
      ask(encodeWriteQuadletRequest({ offset: offsetOf(0xf0380000), data: encodeInt32(1) })),
    ).toMatchObject({ rcode: 0 });
    expect(d.powerupClearPending).toBe(false);
    expect(readU32(read(0xf0300004, 4))).toBe(0);
    expect(write(0xf0d81000, encodeInt32(5))).toBe(0);
  });

  it('refuses unknown status-write operation codes', () => {
    const { write } = device();
    expect(write(0xf0380000, encodeInt32(99))).toBe(5);
    expect(write(0xf0380000, encodeInt32(3))).toBe(0);
  });
});

describe('status area', () => {
  it('ticks uptime with the clock (u32 and u64)', () => {
    const { read, advance } = device();
    expect(readU32(read(0xf030010c, 4))).toBe(0);
    advance(1234.7);
    expect(readU32(read(0xf030010c, 4))).toBe(1234);
    expect(readU64(read(0xf0300228, 8))).toBe(1234n);
  });

  it('mirrors status-write settings into the status area and serves the date and time', () => {
    const { read, write } = device();
    expect(write(0xf0380008, encodeInt32(1))).toBe(0);
    expect(readU32(read(0xf030004c, 4))).toBe(1);
    expect(write(0xf0350000, latin1Bytes('2030-01-02 03:04:05:00'))).toBe(0);
    const text = new TextDecoder().decode(read(0xf0350000, 23));
    expect(text.startsWith('2030-01-02 03:04')).toBe(true);
    expect(write(0xf0350000, latin1Bytes('not a date at all.....'))).toBe(5);
    expect(formatDeviceTime(0)).toBe('1970-01-01 00:00:00:00');
  });
});

describe('EPIC I/O', () => {
  it('mirrors digital writes into the read area and sets the latches', () => {
    const { read, write } = device();
    expect(write(epicDigitalWriteAddress(0, 3), encodeInt32(1))).toBe(0);
    const block = read(epicDigitalReadAddress(0, 3), 0x18);
    expect(readU32(block, 0)).toBe(1); // state
    expect(readU32(block, 4)).toBe(1); // on-latch
    expect(readU32(block, 8)).toBe(0); // off-latch
    write(epicDigitalWriteAddress(0, 3), encodeInt32(0));
    expect(readU32(read(epicDigitalReadAddress(0, 3) + 8, 4))).toBe(1);
    expect(readU32(read(epicPackedDigitalAddress(0), 16), 8)).toBe(1 << 3); // on-latch mask
  });

  it('mirrors analog writes, tracks min/max and refuses non-finite floats (rcode 3)', () => {
    const { read, write } = device();
    expect(write(epicAnalogWriteAddress(3, 1), encodeFloat32(4.5))).toBe(0);
    const block = read(epicAnalogReadAddress(3, 1), 16);
    expect(readF32(block, 0)).toBe(4.5);
    expect(readF32(block, 0xc)).toBe(4.5);
    write(epicAnalogWriteAddress(3, 1), encodeFloat32(-2));
    expect(readF32(read(epicAnalogReadAddress(3, 1) + 8, 4))).toBe(-2);
    expect(write(epicAnalogWriteAddress(3, 1), encodeFloat32(Number.NaN))).toBe(3);
  });

  it('lets analog inputs drift and digital inputs toggle with time (default rack)', () => {
    const { read, advance } = device({ rack: DEFAULT_RACK });
    const a0 = readF32(read(epicAnalogReadAddress(2, 0), 4));
    const d0 = readU32(read(epicDigitalReadAddress(1, 0), 4));
    advance(5000);
    const a1 = readF32(read(epicAnalogReadAddress(2, 0), 4));
    const d1 = readU32(read(epicDigitalReadAddress(1, 0), 4));
    advance(1000);
    const d2 = readU32(read(epicDigitalReadAddress(1, 0), 4));
    expect(a1).not.toBe(a0);
    expect(a0).toBeGreaterThan(2);
    expect(a0).toBeLessThan(8);
    expect(d1).not.toBe(d2);
    expect(d0).toBe(0);
    // Module quality: the four modules of the default rack.
    expect(readU64(read(0xf1002000, 8))).toBe(0b1111n);
  });

  it('scratch-pad bit masks turn bits on and off; SNAP bank masks act on the bank states', () => {
    const { read, write } = device();
    write(ScratchPad.BitsTurnOn, encodeMask64(0x8000_0000_0000_0005n));
    write(ScratchPad.BitsTurnOff, encodeMask64(0x4n));
    expect(readU64(read(ScratchPad.Bits, 8))).toBe(0x8000_0000_0000_0001n);
    write(SnapArea.DigitalBankWrite, encodeMask64(0b1010n));
    expect(readU64(read(SnapArea.DigitalBankRead, 8))).toBe(0b1010n);
    write(SnapArea.DigitalBankWrite + 8, encodeMask64(0b0010n));
    expect(readU64(read(SnapArea.DigitalBankRead, 8))).toBe(0b1000n);
    const values = new Uint8Array(8);
    values.set(encodeFloat32(1.5), 0);
    values.set(encodeFloat32(Number.NaN), 4);
    write(SnapArea.AnalogBankWrite, encodeFloat32(9));
    write(SnapArea.AnalogBankWrite + 4, encodeFloat32(7));
    write(SnapArea.AnalogBankWrite, values);
    const bank = read(SnapArea.AnalogBankRead, 8);
    expect(readF32(bank, 0)).toBe(1.5);
    expect(readF32(bank, 4)).toBe(7); // NaN left it unchanged
  });

  it('writes to read-only areas and unmodelled addresses are NAKed (default map)', () => {
    const { write, ask } = device();
    expect(write(epicDigitalReadAddress(0, 0), encodeInt32(1))).toBe(5);
    expect(ask(encodeReadBlockRequest({ offset: offsetOf(0xf2000000), dataLength: 4 }))).toMatchObject({
      rcode: 5,
    });
  });
});

describe('rack configuration', () => {
  it('accepts a rack file and names the field of every problem', () => {
    const rack = parseRackConfig({
      modules: [{ slot: 4, kind: 'analog-output', channels: 4, initial: [{ channel: 1, value: 2 }] }],
    });
    expect(rack.modules[0]!.slot).toBe(4);
    expect(() => parseRackConfig({ modules: [{ slot: 64, kind: 'analog-output', channels: 4 }] })).toThrow(
      /modules\[0\]\.slot/,
    );
    expect(() => parseRackConfig({ modules: [{ slot: 1, kind: 'relay', channels: 4 }] })).toThrow(/kind/);
    expect(() =>
      parseRackConfig({
        modules: [{ slot: 1, kind: 'digital-input', channels: 4, initial: [{ channel: 4 }] }],
      }),
    ).toThrow(/initial\[0\]\.channel/);
    expect(() => parseRackConfig([])).toThrow(/modules/);
    const d = new EpicDevice({ rack });
    expect(d.getAnalog(4, 1)).toBe(2);
  });
});
