// Hostile input: any bytes give a value or a typed LabwireError (never a RangeError/TypeError, never a
// hang); gen D loses exactly the bad frame; lengths of 0xFFFFFFFF are refused before anything is allocated.

import {
  ByteReader,
  concatBytes,
  DecodeError,
  fromHex,
  LabwireError,
  LimitExceededError,
} from '@labwire/framing';
import { decodeMessage, type Generation, resolveProfile, TruncatedError } from '@labwire/pymodaq/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessagePart } from '../src/codec/decode';
import type { ReadValueOptions } from '../src/codec/wire-profile';
import { loadVectors, VALUE_CASES } from './fixtures/codec-vectors';

const vectors = new Map(loadVectors().map((v) => [v.name, v]));

/** Every decoder entry point of a generation, with the options it needs. */
function readersOf(g: Generation): [string, MessagePart, ReadValueOptions][] {
  const parts: [string, MessagePart, ReadValueOptions][] = (
    ['command', 'string', 'path', 'info', 'position', 'detector'] as const
  ).map((p) => [p, p, {}]);
  if (g === 'D') return [...parts, ['value', 'value', {}]];
  const kinds: ReadValueOptions[] =
    g === 'A'
      ? [
          { kind: 'string' },
          { kind: 'bytes' },
          { kind: 'scalar' },
          { kind: 'array' },
          { kind: 'list', itemKind: 'array' },
          { kind: 'list', itemKind: 'string' },
          { kind: 'list', itemKind: 'scalar' },
        ]
      : g === 'B'
        ? [{ kind: 'tagged' }, { kind: 'list' }, { kind: 'array' }, { kind: 'scalar' }]
        : [
            { kind: 'tagged' },
            { kind: 'list' },
            { kind: 'array' },
            { kind: 'axis' },
            { kind: 'dwa' },
            { kind: 'dte' },
          ];
  return [
    ...parts,
    ...kinds.map((k): [string, MessagePart, ReadValueOptions] => [
      `value ${k.kind}${k.itemKind ? `/${k.itemKind}` : ''}`,
      'value',
      k,
    ]),
  ];
}

/** Vector bytes of one generation: the seeds the mutations start from. */
function seedsOf(g: Generation): Uint8Array[] {
  return Object.entries(VALUE_CASES)
    .filter(([, c]) => resolveProfile(c.profile).generation === g)
    .map(([name]) => fromHex(vectors.get(name)!.hex!));
}

/** Flip, overwrite, insert, delete or truncate bytes of a seed. */
function arbMutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({
    at: fc.nat(),
    op: fc.constantFrom('set', 'insert', 'delete', 'truncate', 'ff'),
    byte: fc.integer({ min: 0, max: 255 }),
  });
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([seed, edits]) => {
      let b = Array.from(seed);
      for (const e of edits) {
        const at = b.length === 0 ? 0 : e.at % b.length;
        if (e.op === 'set') b[at] = e.byte;
        else if (e.op === 'insert') b.splice(at, 0, e.byte);
        else if (e.op === 'delete') b.splice(at, 1);
        else if (e.op === 'truncate') b = b.slice(0, at);
        else b.splice(at, 4, 0xff, 0xff, 0xff, 0xff);
      }
      return Uint8Array.from(b);
    });
}

function expectTyped(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    if (!LabwireError.isInstance(e)) throw new Error(`untyped error: ${String(e)}`, { cause: e });
  }
}

const GENERATIONS: Generation[] = ['A', 'B', 'C1', 'C2', 'C3', 'C4', 'D'];

describe.each(GENERATIONS)('fuzz, generation %s', (g) => {
  const p = resolveProfile(g);
  const seeds = seedsOf(g === 'C1' || g === 'C2' || g === 'C3' ? 'C4' : g).concat(seedsOf(g));

  it.each(readersOf(g))('%s: random bytes give a value or a typed error', (_label, part, read) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) =>
        expectTyped(() => decodeMessage(bytes, p, part, read)),
      ),
      { numRuns: 60 },
    );
  });

  it.each(readersOf(g))('%s: mutated vectors give a value or a typed error', (_label, part, read) => {
    fc.assert(
      fc.property(arbMutated(seeds), (bytes) => expectTyped(() => decodeMessage(bytes, p, part, read))),
      { numRuns: 80 },
    );
  });

  it('over a ByteReader, any bytes settle (value or typed error) once the stream ends', async () => {
    const [, part, read] = readersOf(g).at(-1)!;
    await fc.assert(
      fc.asyncProperty(arbMutated(seeds), fc.integer({ min: 1, max: 16 }), async (bytes, size) => {
        const chunks: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
        const reader = new ByteReader(
          (async function* () {
            yield* chunks;
          })(),
          { timeoutMs: 2000 },
        );
        try {
          const read$ = part === 'value' ? p.readValue(reader, read) : p.readCommand(reader);
          const outcome = await read$.then(
            () => 'value',
            (e: unknown) => (LabwireError.isInstance(e) ? 'typed' : `untyped ${String(e)}`),
          );
          expect(['value', 'typed']).toContain(outcome);
        } finally {
          reader.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('gen D: a random frame between two good ones costs exactly that frame', () => {
  const d = resolveProfile('D');
  const good = d.encodeCommand('get_actuator_value');
  const payloads = seedsOf('D').map((f) => f.subarray(4));

  it('value or typed error for the random frame, then the next frame decodes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 40 }), arbMutated(payloads)), async (payload) => {
        const frame = new Uint8Array(4 + payload.length);
        new DataView(frame.buffer).setUint32(0, payload.length);
        frame.set(payload, 4);
        const wire = concatBytes([good, frame, good]);
        const reader = new ByteReader(
          (async function* () {
            yield wire;
          })(),
          { timeoutMs: 2000 },
        );
        try {
          expect(await d.readCommand(reader)).toBe('get_actuator_value');
          const before = reader.bytesRead - reader.buffered;
          await d.readValue(reader).catch((e: unknown) => {
            if (!DecodeError.isInstance(e) && !LabwireError.isInstance(e)) throw e;
          });
          expect(reader.bytesRead - reader.buffered - before).toBe(frame.length);
          expect(await d.readCommand(reader)).toBe('get_actuator_value');
        } finally {
          reader.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('hostile lengths are refused before allocation', () => {
  // Each input stops right after the hostile length: a decoder that believed it would ask for 4 GiB and
  // fail with TruncatedError; refusing it is a LimitExceededError (or a shape error) with nothing read.
  const FF = 'ffffffff';
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    return `${b.length.toString(16).padStart(8, '0')}${Buffer.from(b).toString('hex')}`;
  };
  const cases: [string, Generation, MessagePart, ReadValueOptions, string][] = [
    ['A string length', 'A', 'command', {}, FF],
    ['A array nbytes', 'A', 'value', { kind: 'array' }, `${str('<f8')}${FF}`],
    ['A list count', 'A', 'value', { kind: 'list', itemKind: 'array' }, FF],
    ['A Info float length', 'A', 'info', {}, `${str('x')}${FF}`],
    ['B string length', 'B', 'string', {}, FF],
    ['B list count', 'B', 'path', {}, FF],
    ['B array nbytes', 'B', 'value', { kind: 'array' }, `${str('<f8')}${FF}`],
    ['B scalar nbytes', 'B', 'position', {}, `${str('<f8')}${FF}`],
    ['C4 array ndim', 'C4', 'value', { kind: 'array' }, `${str('<f8')}00000008${FF}`],
    [
      'C4 DataWithAxes data count',
      'C4',
      'position',
      {},
      `${str('DataActuator')}${str('<f8')}00000008${'00'.repeat(8)}${str('a')}${str('mm')}${str('raw')}${str('Data0D')}${str('uniform')}${FF}`,
    ],
    [
      'C4 DataToExport list count',
      'C4',
      'detector',
      {},
      `${str('DataToExport')}${str('<f8')}00000008${'00'.repeat(8)}${str('tcp')}${FF}`,
    ],
    ['C4 dtype string length', 'C4', 'value', { kind: 'scalar' }, `0000ffff`],
    ['D frame length', 'D', 'value', {}, FF],
    ['D string inside a frame', 'D', 'value', {}, `0000000b${str('str')}${FF}`],
    ['D list count inside a frame', 'D', 'value', {}, `0000000c${str('list')}${FF}`],
  ];

  it.each(cases)('%s', async (_what, g, part, read, hex) => {
    const p = resolveProfile(g);
    const bytes = fromHex(hex);
    let err: unknown;
    try {
      decodeMessage(bytes, p, part, read);
    } catch (e) {
      err = e;
    }
    expect(TruncatedError.isInstance(err)).toBe(false);
    expect(LimitExceededError.isInstance(err) || DecodeError.isInstance(err)).toBe(true);
    // Over a stream that never ends, the refusal comes at once instead of waiting for 4 GiB.
    const reader = new ByteReader(
      (async function* () {
        yield bytes;
        await new Promise(() => {});
      })(),
      { timeoutMs: 5000 },
    );
    try {
      const read$ =
        part === 'value'
          ? p.readValue(reader, read)
          : part === 'command'
            ? p.readCommand(reader)
            : part === 'string'
              ? p.readString(reader)
              : part === 'path'
                ? p.readPath(reader)
                : part === 'info'
                  ? p.readInfo(reader)
                  : part === 'position'
                    ? p.readPosition(reader)
                    : p.readDetectorData(reader);
      const e2 = await read$.catch((e: unknown) => e);
      expect(LimitExceededError.isInstance(e2) || DecodeError.isInstance(e2)).toBe(true);
    } finally {
      reader.close();
    }
  });

  it('limits are configurable per profile', () => {
    const small = resolveProfile('D', { limits: { maxStringBytes: 4, maxListItems: 1 } });
    expect(() => decodeMessage(small.encodeCommand('move_abs'), small, 'command')).toThrow(
      LimitExceededError,
    );
    expect(() => decodeMessage(small.encodePath(['a', 'b']), small, 'path')).toThrow(LimitExceededError);
    expect(decodeMessage(small.encodePath(['a']), small, 'path').value).toEqual(['a']);
    const nesting = resolveProfile('D', { limits: { maxDepth: 3 } });
    expect(() => decodeMessage(nesting.encodeValue([[[['deep']]]]), nesting, 'value')).toThrow(
      /nesting deeper/,
    );
    expect(() => resolveProfile('D', { limits: { maxArrayBytes: -1 } })).toThrow(RangeError);
  });
});
