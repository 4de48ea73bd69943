import { toHex } from '@labwire/framing';
import {
  DeviceError,
  decodeStatusArea,
  describePackets,
  epicAnalogReadAddress,
  formatDeviceCode,
  MEMORY_MAP,
  RCODES,
  ResponseMismatchError,
  STATUS_FIELDS,
} from '@labwire/optommp/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  epicDigitalWriteAddress,
  scratchPadFloat32Address,
  scratchPadInt32Address,
  scratchPadRuns,
  scratchPadStringAddress,
} from '../src/codec/addresses';
import { findMemoryArea } from '../src/codec/memory-map';
import { STATUS_AREA_BYTES } from '../src/codec/status-area';
import {
  decodeFirmwareVersion,
  decodeIPv4,
  decodeMac,
  encodeFloat32,
  encodeInt32,
  encodeInt64,
  encodeIPv4,
  encodeMac,
  readF32,
  readI32,
  readI64,
  readU32,
} from '../src/codec/values';
import { bytesOf, vector } from './vectors';

describe('typed values (python defects D1–D3)', () => {
  it('encodes every float32 class big-endian and reads it back', () => {
    for (const v of [
      0,
      -0,
      1,
      -2,
      3.14,
      1.4e-45,
      -1.1754942e-38,
      3.4028235e38,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]) {
      expect(readF32(encodeFloat32(v))).toBe(Math.fround(v));
    }
    expect(Number.isNaN(readF32(encodeFloat32(Number.NaN)))).toBe(true);
    expect(toHex(encodeFloat32(4.5))).toBe('40900000'); // V16
    expect(Object.is(readF32(encodeFloat32(-0)), -0)).toBe(true);
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (v) => {
        expect(readF32(encodeFloat32(v))).toBe(v);
      }),
    );
  });

  it('reads u32, i32 and f32 as a big-endian DataView does, at any offset; outside the bytes: RangeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: -2, max: 12 }), (bytes, at) => {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (at < 0 || at + 4 > bytes.length) {
          expect(() => readU32(bytes, at)).toThrow(RangeError);
          expect(() => readI32(bytes, at)).toThrow(RangeError);
          expect(() => readF32(bytes, at)).toThrow(RangeError);
          return;
        }
        expect(readU32(bytes, at)).toBe(view.getUint32(at, false));
        expect(readI32(bytes, at)).toBe(view.getInt32(at, false));
        expect(Object.is(readF32(bytes, at), view.getFloat32(at, false))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // A view into a larger buffer reads its own bytes, not the buffer's.
    const whole = Uint8Array.of(9, 9, 0x40, 0x90, 0, 0, 0xff, 0xff, 0xff, 0xfe);
    expect(readF32(whole.subarray(2, 6))).toBe(4.5);
    expect(readI32(whole.subarray(6))).toBe(-2);
    expect(readU32(whole.subarray(6))).toBe(0xfffffffe);
  });

  it('encodes int32 two’s complement over −2³¹ … 2³² − 1', () => {
    expect(toHex(encodeInt32(70000))).toBe('00011170'); // V20
    expect(toHex(encodeInt32(-1))).toBe('ffffffff');
    expect(toHex(encodeInt32(0xffffffff))).toBe('ffffffff');
    expect(readI32(encodeInt32(-2147483648))).toBe(-2147483648);
    expect(() => encodeInt32(2 ** 32)).toThrow(RangeError);
    expect(() => encodeInt32(1.5)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        expect(readI32(encodeInt32(v))).toBe(v);
      }),
    );
  });

  it('encodes int64 big-endian', () => {
    expect(toHex(encodeInt64(-2n))).toBe('fffffffffffffffe');
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
        expect(readI64(encodeInt64(v))).toBe(v);
      }),
    );
  });

  it('decodes firmware, IP and MAC from bytes (V04, V05, V07, V08)', () => {
    expect(decodeFirmwareVersion(bytesOf('04010202'))).toBe('R4.1c');
    expect(decodeFirmwareVersion(bytesOf('10000100'))).toBe('B16.0a');
    expect(decodeIPv4(bytesOf('0ac00098'))).toBe('10.192.0.152');
    expect(decodeIPv4(bytesOf('c0a80a05'))).toBe('192.168.10.5');
    expect(decodeMac(bytesOf('00a03d120b01'))).toBe('00-A0-3D-12-0B-01');
    // Bytes the python package mangles on Python 2 (0x0A, 0x5C) are ordinary here.
    expect(decodeMac(bytesOf('0a5c0a5c0a5c'))).toBe('0A-5C-0A-5C-0A-5C');
    expect(toHex(encodeIPv4('10.192.0.152'))).toBe('0ac00098');
    expect(toHex(encodeMac('00-A0-3D-12-0A-FE'))).toBe('00a03d120afe');
    expect(() => encodeIPv4('1.2.3')).toThrow(RangeError);
  });
});

describe('addresses (docs/protocols/optommp.md §3)', () => {
  it('maps scratch-pad indexes across the three areas (D4, V22)', () => {
    expect(scratchPadInt32Address(3)).toBe(0xf0d8100c);
    expect(scratchPadInt32Address(1023)).toBe(0xf0d81ffc);
    expect(scratchPadInt32Address(1024)).toBe(0xf0da0000);
    expect(scratchPadInt32Address(3072)).toBe(0xf0da2000);
    expect(scratchPadFloat32Address(7)).toBe(0xf0d8201c);
    expect(scratchPadFloat32Address(3072)).toBe(0xf0dc2000);
    expect(() => scratchPadInt32Address(10240)).toThrow(RangeError);
    expect(() => scratchPadFloat32Address(-1)).toThrow(RangeError);
    expect(scratchPadRuns('int32', 1020, 8)).toEqual([
      { index: 1020, count: 4, address: 0xf0d81ff0 },
      { index: 1024, count: 4, address: 0xf0da0000 },
    ]);
  });

  it('computes string slots and EPIC channels', () => {
    expect(scratchPadStringAddress(2)).toBe(0xf0d83104);
    expect(scratchPadStringAddress(5)).toBe(0xf0d8328a);
    expect(epicDigitalWriteAddress(1, 3)).toBe(0xf02210c0); // V10
    expect(epicAnalogReadAddress(2, 0)).toBe(0xf0262000); // V13
    expect(() => epicAnalogReadAddress(64, 0)).toThrow(RangeError);
  });
});

describe('memory map and status area', () => {
  it('lists areas sorted and without overlaps', () => {
    for (let i = 1; i < MEMORY_MAP.length; i++) {
      const a = MEMORY_MAP[i - 1]!;
      const b = MEMORY_MAP[i]!;
      expect(a.start + a.size).toBeLessThanOrEqual(b.start);
    }
    expect(findMemoryArea(0xf0d8100c)?.id).toBe('scratch-pad-int32-1');
    expect(findMemoryArea(0x12345678)).toBeUndefined();
  });

  it('decodes the status area field by field', () => {
    const bytes = new Uint8Array(STATUS_AREA_BYTES);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, 7);
    bytes.set(bytesOf('04010202'), 0x1c);
    bytes.set(bytesOf('00a03d120afe'), 0x2e);
    bytes.set(bytesOf('0ac00098'), 0x34);
    bytes.set(new TextEncoder().encode('GRV-EPIC-PR1'), 0x80);
    dv.setUint32(0x10c, 123456);
    dv.setBigUint64(0x228, 123456n);
    const s = decodeStatusArea(bytes);
    expect(s).toMatchObject({
      memoryMapVersion: 7,
      firmwareVersion: 'R4.1c',
      macAddress: '00-A0-3D-12-0A-FE',
      ipAddress: '10.192.0.152',
      partNumber: 'GRV-EPIC-PR1',
      uptimeMs: 123456,
      uptimeMs64: 123456n,
    });
    // A B3000-ENET serves only up to F030007C: the later fields stay undefined.
    const short = decodeStatusArea(bytes.subarray(0, 0x80));
    expect(short.firmwareVersion).toBe('R4.1c');
    expect(short.partNumber).toBeUndefined();
    expect(new Set(STATUS_FIELDS.map((f) => f.address)).size).toBe(STATUS_FIELDS.length);
  });
});

describe('rcodes and errors', () => {
  it('knows all 16 rcodes with their device codes', () => {
    expect(RCODES).toHaveLength(16);
    expect(RCODES[5]).toMatchObject({ deviceCode: 0xe005, name: 'InvalidAddress' });
    expect(formatDeviceCode(0xe00f)).toBe('E00F');
  });

  it('DeviceError carries the device code, meaning and address', () => {
    const e = new DeviceError(4, { address: 0xf0d81000, requestTcode: 5 });
    expect(e).toMatchObject({
      code: 'DeviceNak',
      rcode: 4,
      deviceCode: 0xe004,
      meaning: 'Powerup Clear expected',
    });
    expect(e.message).toContain('F0D81000');
    expect(e.message).toContain('E004');
    expect(DeviceError.isInstance(e)).toBe(true);
    expect(e.isRetryable).toBe(false);
    expect(new DeviceError(8).isRetryable).toBe(true);
    const m = new ResponseMismatchError('tl', 5, 6, bytesOf('000018200000000000000000'));
    expect(m.code).toBe('TlMismatch');
    expect(m.message).toContain('00 00 18 20');
  });
});

describe('describePackets', () => {
  it('explains a request and its response field by field', () => {
    const v = vector('V01');
    const r = describePackets(bytesOf(v.request_hex + v.response_hex));
    expect(r.packets).toHaveLength(2);
    expect(r.packets[0]!.summary).toContain('read block request');
    expect(r.packets[0]!.summary).toContain('F030010C');
    expect(r.packets[0]!.summary).toContain('milliseconds since power-up');
    expect(r.packets[1]!.fields.find((f) => f.field === 'rcode')?.meaning).toContain('ACK');
    expect(r.leftover.length).toBe(0);
    const nak = describePackets(bytesOf(vector('V34').response_hex!));
    expect(nak.packets[0]!.summary).toContain('E004');
    const partial = describePackets(bytesOf('0000005000'));
    expect(partial.packets).toHaveLength(0);
    expect(partial.needed).toBe(11);
    expect(readU32(bytesOf('00000001'))).toBe(1);
  });
});
