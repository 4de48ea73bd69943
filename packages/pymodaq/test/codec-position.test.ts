// Positions (move_abs / move_done / position_is) take a fast path: every generation writes them from
// templates and reads them by matching the template of the units last read (A/B: a `<f8` scalar, C/D: a
// DataActuator). Both must give exactly what the general encoder and decoder give, for any value,
// timestamp and unit, and hand anything unusual to the general path.

import { PassThrough } from 'node:stream';
import { ByteReader, concatBytes, toHex } from '@labwire/framing';
import { decodeMessage, type PymodaqProfile, resolveProfile } from '@labwire/pymodaq/codec';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { UnsupportedValueError } from '../src/codec/errors';
import { dataActuator, pyInt } from '../src/codec/values';

const GENERATIONS = ['A', 'B', 'C1', 'C2', 'C3', 'C4', 'D'] as const;
const arbUnits = fc.oneof(
  fc.constantFrom('', 'mm', 'µm', 'deg', '日本', 'x'.repeat(400)),
  fc.string({ maxLength: 12 }),
);
const arbTimestamp = fc.double({ noNaN: false });
const arbValue = fc.oneof(
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2.5),
);

/**
 * The general encoder's bytes for the same position (encodeValue never takes a template): a Python float
 * in A/B, a DataActuator in C/D.
 */
function general(p: PymodaqProfile, value: number, units: string, timestamp: number): Uint8Array {
  if (p.generation === 'A' || p.generation === 'B') return p.encodeValue(value);
  return p.encodeValue(dataActuator(value, { units, timestamp }));
}

describe('position templates write what the general encoder writes', () => {
  it.each(GENERATIONS)('%s: encodePosition', (g) => {
    const p = resolveProfile(g);
    fc.assert(
      fc.property(arbValue, arbUnits, arbTimestamp, (value, units, timestamp) => {
        expect(toHex(p.encodePosition(value, units, { timestamp }))).toBe(
          toHex(general(p, value, units, timestamp)),
        );
      }),
      { numRuns: 200 },
    );
  });

  it.each(GENERATIONS)('%s: encodeCommandPosition is the command and the position, in one buffer', (g) => {
    const p = resolveProfile(g);
    fc.assert(
      fc.property(
        fc.constantFrom('move_abs', 'move_rel', 'move_done', 'position_is', 'µ-command'),
        arbValue,
        arbUnits,
        arbTimestamp,
        (command, value, units, timestamp) => {
          const joined = concatBytes([p.encodeCommand(command), general(p, value, units, timestamp)]);
          expect(toHex(p.encodeCommandPosition(command, value, units, { timestamp }))).toBe(toHex(joined));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('many different units (more than are kept as templates) all encode right', () => {
    const p = resolveProfile('D');
    for (let i = 0; i < 40; i++) {
      const units = `u${i}`;
      for (const value of [i, -i / 3]) {
        expect(toHex(p.encodePosition(value, units, { timestamp: i }))).toBe(
          toHex(general(p, value, units, i)),
        );
      }
    }
  });

  it('units the general encoder refuses are refused every time, with its error', () => {
    const p = resolveProfile('C4');
    for (let i = 0; i < 3; i++) {
      expect(() => p.encodePosition(1, '\ud800')).toThrow(UnsupportedValueError);
      expect(() => p.encodeCommandPosition('move_done', 1, '\ud800')).toThrow(UnsupportedValueError);
    }
  });

  it('the timestamp defaults to now', () => {
    const p = resolveProfile('D');
    const before = Date.now() / 1000;
    const bytes = p.encodePosition(1.5, 'mm');
    const { value } = decodeMessage(bytes, p, 'position');
    expect(value.value).toBe(1.5);
    expect(value.data!.timestamp).toBeGreaterThanOrEqual(before);
    expect(value.data!.timestamp).toBeLessThanOrEqual(Date.now() / 1000);
  });
});

describe('readPosition gives what the general decoder gives', () => {
  const readers: ByteReader[] = [];
  afterEach(() => {
    for (const r of readers.splice(0)) r.close();
  });
  function pipe(): { stream: PassThrough; reader: ByteReader } {
    const stream = new PassThrough();
    const reader = new ByteReader(stream, { timeoutMs: 2000 });
    readers.push(reader);
    return { stream, reader };
  }

  it.each(GENERATIONS)('%s: a stream of positions whose units change now and then', async (g) => {
    const p = resolveProfile(g);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(arbValue, fc.constantFrom('mm', 'mm', 'mm', 'deg', 'µm', ''), arbTimestamp), {
          minLength: 1,
          maxLength: 12,
        }),
        async (positions) => {
          const { stream, reader } = pipe();
          const messages = positions.map(([v, u, t]) => p.encodePosition(v, u, { timestamp: t }));
          stream.write(concatBytes([...messages, Uint8Array.of(0xa5)]));
          for (const bytes of messages) {
            const expected = decodeMessage(bytes, p, 'position').value;
            expect(await p.readPosition(reader)).toEqual(expected);
          }
          // Exactly the positions were consumed.
          expect(reader.buffered).toBe(1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each(GENERATIONS)(
    '%s: a position with any one byte changed is read as the general decoder reads it, and the next matches again',
    async (g) => {
      const p = resolveProfile(g);
      const usual = p.encodePosition(2.5, 'mm', { timestamp: 7 });
      await fc.assert(
        fc.asyncProperty(fc.nat(usual.length - 1), fc.integer({ min: 1, max: 255 }), async (at, flip) => {
          const changed = usual.slice();
          changed[at] = changed[at]! ^ flip;
          let general: unknown;
          try {
            general = decodeMessage(changed, p, 'position').value;
          } catch {
            return; // not a position at all: the general read's error is covered elsewhere
          }
          const { stream, reader } = pipe();
          // The first teaches the template; the changed one must not be taken for it.
          stream.write(concatBytes([usual, changed, usual]));
          expect((await p.readPosition(reader)).value).toBe(2.5);
          expect(await p.readPosition(reader)).toEqual(general);
          expect((await p.readPosition(reader)).value).toBe(2.5);
          stream.end();
        }),
        { numRuns: 40 },
      );
    },
  );

  it('a B position of another dtype (a Python int) is decoded the general way', async () => {
    const p = resolveProfile('B');
    const { stream, reader } = pipe();
    stream.write(concatBytes([p.encodePosition(1.5), p.encodeValue(pyInt(7)), p.encodePosition(2.5)]));
    expect(await p.readPosition(reader)).toEqual({ value: 1.5 });
    expect(await p.readPosition(reader)).toEqual({ value: 7 });
    expect(await p.readPosition(reader)).toEqual({ value: 2.5 });
  });

  it('a DataActuator that differs from the template (another label) is decoded the general way', async () => {
    const p = resolveProfile('D');
    const { stream, reader } = pipe();
    const usual = p.encodePosition(1, 'mm', { timestamp: 5 });
    const labelled = p.encodeValue(dataActuator(2, { units: 'mm', timestamp: 6, labels: ['X'] }));
    stream.write(concatBytes([usual, labelled, usual]));
    expect((await p.readPosition(reader)).value).toBe(1);
    const second = await p.readPosition(reader);
    expect(second.data!.labels).toEqual(['X']);
    expect(second).toEqual(decodeMessage(labelled, p, 'position').value);
    expect((await p.readPosition(reader)).value).toBe(1);
  });

  it('a position that arrives in pieces is read whole, whatever template was expected', async () => {
    const p = resolveProfile('C4');
    const { stream, reader } = pipe();
    const first = p.encodePosition(1, 'mm', { timestamp: 1 });
    stream.write(first);
    expect((await p.readPosition(reader)).units).toBe('mm');
    const second = p.encodePosition(7.25, 'mm', { timestamp: 2 });
    const pending = p.readPosition(reader);
    stream.write(second.subarray(0, 40));
    await new Promise((resolve) => setImmediate(resolve));
    stream.write(second.subarray(40));
    expect(await pending).toEqual(decodeMessage(second, p, 'position').value);
    expect(reader.buffered).toBe(0);
  });

  it('a position behind a read in progress waits for it (the template never jumps the queue)', async () => {
    const p = resolveProfile('D');
    const { stream, reader } = pipe();
    stream.write(p.encodePosition(1, 'mm', { timestamp: 1 }));
    expect((await p.readPosition(reader)).value).toBe(1);
    const command = p.readCommand(reader);
    const position = p.readPosition(reader);
    stream.write(concatBytes([p.encodeCommand('move_done'), p.encodePosition(3, 'mm', { timestamp: 3 })]));
    expect(await command).toBe('move_done');
    expect((await position).value).toBe(3);
  });
});
