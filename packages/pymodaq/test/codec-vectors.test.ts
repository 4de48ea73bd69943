// Every shared vector: decoded under its profile, compared with the TypeScript value, re-encoded byte for
// byte; the TypeScript value encoded to the same bytes; refusals refused.

import { fromHex, toHex } from '@labwire/framing';
import {
  dataFromPlugins,
  dataToExport,
  decodeMessage,
  decodeValue,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { describe, expect, it } from 'vitest';
import { UnsupportedValueError } from '../src/codec/errors';
import { toJsonValue } from '../src/codec/json';
import type { PyValue } from '../src/codec/values';
import { loadVectors, REFUSED_CASES, SEQUENCE_NAMES, VALUE_CASES } from './fixtures/codec-vectors';

const vectors = loadVectors();
const byName = new Map(vectors.map((v) => [v.name, v]));
// wireShape is wire history (what squeeze / atleast_1d changed), not content: compared separately.
const json = (v: PyValue) =>
  JSON.parse(
    JSON.stringify(toJsonValue(v, { maxArrayValues: 1e6 }), (k, x: unknown) =>
      k === 'wireShape' ? undefined : x,
    ),
  );

describe('shared vectors: coverage', () => {
  it('every vector has a case in the fixture and every case a vector', () => {
    const covered = new Set([...Object.keys(VALUE_CASES), ...Object.keys(REFUSED_CASES), ...SEQUENCE_NAMES]);
    expect(vectors.map((v) => v.name).filter((n) => !covered.has(n))).toEqual([]);
    expect([...covered].filter((n) => !byName.has(n))).toEqual([]);
  });
});

describe.each(Object.entries(VALUE_CASES))('vector %s', (name, c) => {
  const vector = byName.get(name)!;
  const profile = resolveProfile(c.profile);
  const bytes = fromHex(vector.hex!);

  it('decodes to the described value, consuming every byte', () => {
    const value = decodeValue(bytes, profile, c.read);
    expect(json(value)).toEqual(json(c.decoded ?? c.value));
  });

  it('re-encodes the decoded value byte for byte', () => {
    const value = decodeValue(bytes, profile, c.read);
    const again = c.tagged ? profile.encodeTagged(value) : profile.encodeValue(value);
    expect(toHex(again)).toBe(vector.hex);
  });

  it('encodes the TypeScript value to the same bytes', () => {
    const encoded = c.tagged ? profile.encodeTagged(c.value) : profile.encodeValue(c.value);
    expect(toHex(encoded)).toBe(vector.hex);
  });

  if (vector.payload_hex !== undefined) {
    it('frame payload matches payload_hex (gen D)', () => {
      expect(toHex(profile.encodeTagged(c.value))).toBe(vector.payload_hex);
    });
  }

  it(`profile matches the vector's version (${vector.version})`, () => {
    expect(vector.version.startsWith(profile.generation[0]!)).toBe(true);
  });
});

describe('receiver shape rules keep the wire shape', () => {
  it('gen A/B squeeze a 1-element array to 0-d; the wire shape is kept for re-encoding', () => {
    const a = decodeValue(fromHex(byName.get('v1_list_of_arrays')!.hex!), resolveProfile('A'), {
      kind: 'list',
      itemKind: 'array',
    }) as NdArray[];
    expect(a.map((x) => [x.shape, x.wireShape])).toEqual([
      [[], [1, 1]],
      [[2], [2, 1]],
    ]);
    const b = decodeValue(fromHex(byName.get('v2_list_of_arrays')!.hex!), resolveProfile('B'), {
      kind: 'list',
    }) as NdArray[];
    expect(b.map((x) => [x.shape, x.wireShape])).toEqual([
      [[], [1]],
      [[2], undefined],
    ]);
  });
});

describe('vectors upstream cannot encode', () => {
  it.each(Object.entries(REFUSED_CASES))('%s is refused with UnsupportedValueError', (name, c) => {
    expect(byName.get(name)!.hex).toBeNull();
    const profile = resolveProfile(c.profile);
    expect(() => profile.encodeValue(c.value)).toThrow(UnsupportedValueError);
    expect(() => profile.encodeTagged(c.value)).toThrow(/numpy <f4 scalar/);
  });
});

describe('message-level encoders reproduce the vectors', () => {
  const hexOf = (name: string) => byName.get(name)!.hex!;
  const T0 = 1_700_000_000;

  it('commands in every generation', () => {
    expect(toHex(resolveProfile('A').encodeCommand('Send Data 2D'))).toBe(hexOf('v1_str_command'));
    expect(toHex(resolveProfile('B').encodeCommand('Send Data 2D'))).toBe(hexOf('v2_str_command'));
    expect(toHex(resolveProfile('C4').encodeCommand('GRABBER'))).toBe(hexOf('v4_str_grabber'));
    expect(toHex(resolveProfile('D').encodeCommand('move_abs'))).toBe(hexOf('v5_str_command'));
  });

  it('paths (B items tagged string, C the same, D a list of str)', () => {
    const p = ['detector_settings', 'exposure'];
    expect(toHex(resolveProfile('B').encodePath(p))).toBe(hexOf('v2_list_path'));
    expect(toHex(resolveProfile('C4').encodePath(p))).toBe(hexOf('v4_list_path'));
    expect(toHex(resolveProfile('D').encodePath(p))).toBe(hexOf('v5_list_path'));
  });

  it('XML as bytes: same framing as str in C, tagged bytes in D', () => {
    const c = fromHex(hexOf('v4_bytes_xml')).subarray(4);
    expect(toHex(resolveProfile('C4').encodeString(c))).toBe(hexOf('v4_bytes_xml'));
    const d = fromHex(hexOf('v5_bytes_xml')).subarray(17);
    expect(toHex(resolveProfile('D').encodeString(d))).toBe(hexOf('v5_bytes_xml'));
  });

  it('positions: a DataActuator in C2, C3, C4 and D', () => {
    expect(toHex(resolveProfile('4.1.5').encodePosition(2.5, 'mm', { timestamp: T0 }))).toBe(
      hexOf('v4_1_5_data_actuator'),
    );
    expect(toHex(resolveProfile('4.3.7').encodePosition(2.5, 'mm', { timestamp: T0 }))).toBe(
      hexOf('v4_3_7_data_actuator'),
    );
    expect(toHex(resolveProfile('4.4.5').encodePosition(2.5, 'mm', { timestamp: T0 }))).toBe(
      hexOf('v4_data_actuator'),
    );
    expect(toHex(resolveProfile('5').encodePosition(2.5, 'mm', { timestamp: T0 }))).toBe(
      hexOf('v5_data_actuator'),
    );
  });

  it('detector data: the DataToExport of DataFromPlugins in C3, C4 and D', () => {
    // What PyMoDAQ's own client sends: DataFromPlugins (do_plot, do_save) with origin = the DTE's name.
    const data = dataToExport({
      name: 'tcp',
      timestamp: T0 + 1,
      data: [
        dataFromPlugins({
          name: 'mydata',
          dim: 'Data0D',
          data: [NdArray.fromValues([0.25], { dtype: '<f8' })],
          timestamp: T0,
        }),
      ],
    });
    expect(toHex(resolveProfile('4.3.7').encodeDetectorData(data))).toBe(hexOf('v4_3_7_dte_0d'));
    const c4 = [
      ...resolveProfile('4.4.5').encodeCommand('Done'),
      ...resolveProfile('4.4.5').encodeDetectorData(data),
    ];
    expect(toHex(Uint8Array.from(c4))).toBe(hexOf('v4_seq_done_dte'));
    expect(toHex(resolveProfile('D').encodeDetectorData(data))).toBe(hexOf('v5_dte_0d'));
  });

  it('detector data in A and B: a list of arrays, one channel each', () => {
    const a = resolveProfile('A');
    const b = resolveProfile('B');
    const arrays = decodeValue(fromHex(hexOf('v1_list_of_arrays')), a, { kind: 'list', itemKind: 'array' });
    const fromA = decodeMessage(fromHex(hexOf('v1_list_of_arrays')), a, 'detector').value;
    expect(fromA.data.map((c) => [c.name, c.dim, c.type, c.labels])).toEqual([
      ['CH00', 'Data0D', 'DataFromPlugins', ['CH00']],
      ['CH01', 'Data1D', 'DataFromPlugins', ['CH01']],
    ]);
    expect(toHex(a.encodeDetectorData(fromA))).toBe(hexOf('v1_list_of_arrays'));
    const fromB = decodeMessage(fromHex(hexOf('v2_list_of_arrays')), b, 'detector').value;
    expect(json(fromB.data.flatMap((c) => c.data))).toEqual(json(arrays as PyValue));
    expect(toHex(b.encodeDetectorData(fromB))).toBe(hexOf('v2_list_of_arrays'));
  });
});

describe('sequences: two messages back to back', () => {
  it('v4_seq_done_dte: Done, then a DataToExport (C4)', () => {
    const bytes = fromHex(byName.get('v4_seq_done_dte')!.hex!);
    const c4 = resolveProfile('4.4.5');
    const cmd = decodeMessage(bytes, c4, 'command');
    expect(cmd.value).toBe('Done');
    const rest = bytes.subarray(cmd.bytesUsed);
    const det = decodeMessage(rest, c4, 'detector');
    expect(det.bytesUsed).toBe(rest.length);
    expect(det.value.name).toBe('tcp');
    expect(det.value.timestamp).toBe(1_700_000_001);
    const [ch] = det.value.data;
    expect(ch).toMatchObject({
      name: 'mydata',
      dim: 'Data0D',
      type: 'DataFromPlugins',
      labels: ['CH00'],
      units: '',
    });
    expect(ch!.data[0]!.toNumbers()).toEqual([0.25]);
    const again = [...c4.encodeCommand('Done'), ...c4.encodeDetectorData(det.value)];
    expect(toHex(Uint8Array.from(again))).toBe(byName.get('v4_seq_done_dte')!.hex);
  });

  it('v5_seq_move_abs: frame move_abs, then frame DataActuator (D)', () => {
    const bytes = fromHex(byName.get('v5_seq_move_abs')!.hex!);
    const d = resolveProfile('D');
    const cmd = decodeMessage(bytes, d, 'command');
    expect(cmd.value).toBe('move_abs');
    const pos = decodeMessage(bytes.subarray(cmd.bytesUsed), d, 'position');
    expect(cmd.bytesUsed + pos.bytesUsed).toBe(bytes.length);
    expect(pos.value.value).toBe(2.5);
    expect(pos.value.units).toBe('mm');
    const again = [
      ...d.encodeCommand('move_abs'),
      ...d.encodePosition(2.5, 'mm', { timestamp: 1_700_000_000 }),
    ];
    expect(toHex(Uint8Array.from(again))).toBe(byName.get('v5_seq_move_abs')!.hex);
  });
});
