// The pull decoder over a ByteReader: every vector at every split point and in 1-byte chunks, exact
// consumption (never an over-read), one deadline per message, EOF with the partial bytes, and gen D
// resynchronising after a bad frame.

import { PassThrough } from 'node:stream';
import {
  AbortedError,
  ByteReader,
  concatBytes,
  EofError,
  fromHex,
  LimitExceededError,
  TimeoutError,
  toHex,
} from '@labwire/framing';
import {
  dataFromPlugins,
  dataToExport,
  decodeValue,
  MessageDecoder,
  MessageInterruptedError,
  NdArray,
  PymodaqDecodeError,
  resolveProfile,
  TruncatedError,
  UnknownTagError,
} from '@labwire/pymodaq/codec';
import { chunkEvery, splitAt } from '@labwire/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UnexpectedValueError } from '../src/codec/errors';
import { toJsonValue } from '../src/codec/json';
import { loadVectors, VALUE_CASES } from './fixtures/codec-vectors';

const vectors = new Map(loadVectors().map((v) => [v.name, v]));
const SENTINEL = 0xa5;

/** An async iterable over the chunks: no timers, so thousands of readers stay fast. */
async function* chunksOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    await Promise.resolve();
    yield c;
  }
}

const readers: ByteReader[] = [];
function readerOf(chunks: readonly Uint8Array[], timeoutMs = 2000): ByteReader {
  const r = new ByteReader(chunksOf(chunks), { timeoutMs });
  readers.push(r);
  return r;
}
afterEach(() => {
  for (const r of readers.splice(0)) r.close();
});

const canon = (v: unknown) => JSON.stringify(toJsonValue(v as never, { maxArrayValues: 1e6 }));

/** Cases whose hex is one value; the message is followed by a sentinel byte that must stay unread. */
const streamCases = Object.entries(VALUE_CASES).map(([name, c]) => ({
  name,
  c,
  profile: resolveProfile(c.profile),
  bytes: fromHex(vectors.get(name)!.hex!),
}));

describe('every vector through a ByteReader', () => {
  it.each(streamCases)(
    '$name: every split point and 1-byte chunks decode the same value, nothing over-read',
    async ({ c, profile, bytes }) => {
      const withSentinel = concatBytes([bytes, Uint8Array.of(SENTINEL)]);
      const expected = canon(await profile.readValue(readerOf([withSentinel]), c.read));
      const chunkings = [chunkEvery(withSentinel, 1)];
      for (let cut = 1; cut < bytes.length; cut++) chunkings.push(splitAt(withSentinel, [cut]));
      for (const chunks of chunkings) {
        const reader = readerOf(chunks);
        const value = await profile.readValue(reader, c.read);
        expect(canon(value)).toBe(expected);
        // Exactly the message was consumed: the sentinel is still there.
        expect(toHex(await reader.readExactly(1))).toBe('a5');
      }
    },
  );

  it.each(streamCases)(
    '$name: MessageDecoder fed byte by byte reports what it needs and yields the same value',
    ({ c, profile, bytes }) => {
      const decoder = new MessageDecoder(profile, 'value', c.read);
      const expected = canon(decodeValue(bytes, profile, c.read));
      let result: { value: unknown } | undefined;
      for (let i = 0; i < bytes.length; i++) {
        decoder.push(bytes.subarray(i, i + 1));
        result = decoder.next();
        if (i < bytes.length - 1) {
          expect(result).toBeUndefined();
          expect(decoder.needed).toBeGreaterThan(0);
        }
      }
      expect(result).toBeDefined();
      expect(canon(result!.value)).toBe(expected);
      expect(decoder.buffered).toBe(0);
      expect(() => decoder.end()).not.toThrow();
    },
  );
});

describe('message parts through a ByteReader, every generation', () => {
  const generations = ['A', 'B', 'C1', 'C2', 'C3', 'C4', 'D'] as const;

  it.each(generations)('%s: command, string, path, info, position, detector data back to back', async (g) => {
    const p = resolveProfile(g);
    const data = dataToExport({
      name: 'tcp',
      timestamp: 1_700_000_001,
      data: [dataFromPlugins({ name: 'img', dim: 'Data2D', data: [grid(2, 3)], timestamp: 1_700_000_001 })],
    });
    const wire = concatBytes([
      p.encodeCommand('Done'),
      p.encodeString('<root><units type="str">mm</units></root>'),
      p.encodePath(['settings_client', 'units']),
      p.encodeInfo('temperature', 21.5),
      p.encodePosition(1.5, 'mm', { timestamp: 1_700_000_000 }),
      p.encodeDetectorData(data),
      Uint8Array.of(SENTINEL),
    ]);
    for (const chunks of [[wire], chunkEvery(wire, 1), chunkEvery(wire, 7)]) {
      const r = readerOf(chunks);
      expect(await p.readCommand(r)).toBe('Done');
      expect(await p.readString(r)).toBe('<root><units type="str">mm</units></root>');
      expect(await p.readPath(r)).toEqual(['settings_client', 'units']);
      expect(await p.readInfo(r)).toEqual({ name: 'temperature', value: g === 'A' ? 21.5 : '21.5' });
      const pos = await p.readPosition(r);
      expect(pos.value).toBe(1.5);
      expect(pos.units).toBe(g === 'C4' || g === 'D' ? 'mm' : undefined);
      const det = await p.readDetectorData(r);
      expect(det.data).toHaveLength(1);
      expect(det.data[0]!.dim).toBe('Data2D');
      expect(det.data[0]!.data[0]!.toNumbers()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(det.data[0]!.data[0]!.shape).toEqual([2, 3]);
      if (g.startsWith('C') || g === 'D') {
        expect(det.name).toBe('tcp');
        expect(det.data[0]!.name).toBe('img');
        expect(det.data[0]!.type).toBe('DataFromPlugins');
      } else {
        // A/B: one DataFromPlugins per array, named as PyMoDAQ names channels.
        expect(det.data[0]!.name).toBe('CH00');
        expect(det.data[0]!.type).toBe('DataFromPlugins');
      }
      expect(await r.readExactly(1)).toEqual(Uint8Array.of(SENTINEL));
    }
  });

  it('D: text arrives as str or bytes (docs/protocols/pymodaq.md §9 n)', async () => {
    const d = resolveProfile('D');
    const xml = '<units type="str">µm</units>';
    const r = readerOf([d.encodeString(xml), d.encodeString(new TextEncoder().encode(xml))]);
    expect(await d.readString(r)).toBe(xml);
    expect(await d.readString(r)).toBe(xml);
  });
});

/** A rows x cols <f8 image holding 0, 1, 2, … in C order. */
function grid(rows: number, cols: number): NdArray {
  return NdArray.fromValues(
    Array.from({ length: rows * cols }, (_, i) => i),
    { dtype: '<f8', shape: [rows, cols] },
  );
}

describe('reads decoded in place from the buffer never take bytes owned by another read', () => {
  it.each(['B', 'C4', 'D'] as const)(
    '%s: reads queued before the data arrives resolve in order',
    async (g) => {
      const p = resolveProfile(g);
      const stream = new PassThrough();
      const reader = new ByteReader(stream, { timeoutMs: 2000 });
      readers.push(reader);
      const first = reader.readExactly(2);
      const commands = [p.readCommand(reader), p.readCommand(reader), p.readPosition(reader)];
      stream.write(
        concatBytes([
          Uint8Array.of(7, 7),
          p.encodeCommand('move_abs'),
          p.encodeCommand('move_rel'),
          p.encodePosition(4.25),
        ]),
      );
      expect(await first).toEqual(Uint8Array.of(7, 7));
      const [a, b, pos] = await Promise.all(commands);
      expect([a, b, (pos as { value: number }).value]).toEqual(['move_abs', 'move_rel', 4.25]);
      expect(reader.buffered).toBe(0);
    },
  );

  it('a message read waiting for its turn keeps its own deadline and signal, and consumes nothing', async () => {
    const p = resolveProfile('C4');
    const stream = new PassThrough();
    const reader = new ByteReader(stream, { timeoutMs: 2000 });
    readers.push(reader);
    const first = p.readCommand(reader, { timeoutMs: 1000 });
    await expect(p.readCommand(reader, { timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const aborted = p.readCommand(reader, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const third = p.readCommand(reader);
    stream.write(concatBytes([p.encodeCommand('stop_motion'), p.encodeCommand('Quit')]));
    expect(await first).toBe('stop_motion');
    expect(await third).toBe('Quit');
  });

  it('a message larger than what is peeked at once decodes in place, then waits for the rest', async () => {
    const c4 = resolveProfile('C4');
    const big = NdArray.fromValues(
      Array.from({ length: 5000 }, (_, i) => i),
      { dtype: '<f8' },
    );
    const bytes = c4.encodeDetectorData(
      dataToExport({ name: 'tcp', data: [dataFromPlugins({ name: 'line', dim: 'Data1D', data: [big] })] }),
    );
    for (const chunks of [[bytes], chunkEvery(bytes, 1000), splitAt(bytes, [100, 40_000])]) {
      const data = await c4.readDetectorData(readerOf(chunks));
      expect(data.data[0]!.data[0]!.toNumbers()).toEqual(big.toNumbers());
    }
  });
});

describe('deadlines, aborts and EOF', () => {
  function pipe(): { stream: PassThrough; reader: ByteReader } {
    const stream = new PassThrough();
    const reader = new ByteReader(stream, { timeoutMs: 5000 });
    readers.push(reader);
    return { stream, reader };
  }

  it('a deadline before the first byte consumes nothing; the message reads later', async () => {
    const p = resolveProfile('C4');
    const { stream, reader } = pipe();
    await expect(p.readCommand(reader, { timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    stream.write(p.encodeCommand('move_home'));
    expect(await p.readCommand(reader)).toBe('move_home');
  });

  it('gen A–C: a deadline in the middle of a message says the stream is out of step', async () => {
    const p = resolveProfile('C4');
    const bytes = p.encodePosition(2.5, 'mm', { timestamp: 1 });
    const { stream, reader } = pipe();
    stream.write(bytes.subarray(0, 30));
    const err = await p.readPosition(reader, { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(MessageInterruptedError.isInstance(err)).toBe(true);
    expect((err as MessageInterruptedError).consumed).toBeGreaterThan(0);
    expect(TimeoutError.isInstance((err as Error).cause)).toBe(true);
  });

  it('gen D: a frame is read atomically, so a deadline mid-frame consumes nothing', async () => {
    const p = resolveProfile('D');
    const bytes = p.encodePosition(2.5, 'mm', { timestamp: 1 });
    const { stream, reader } = pipe();
    stream.write(bytes.subarray(0, 100));
    await expect(p.readPosition(reader, { timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    expect(reader.buffered).toBe(100);
    stream.write(bytes.subarray(100));
    expect((await p.readPosition(reader)).value).toBe(2.5);
  });

  it('an abort signal cancels a read; before the first byte nothing is consumed', async () => {
    const p = resolveProfile('B');
    const { stream, reader } = pipe();
    const ac = new AbortController();
    const pending = p.readCommand(reader, { signal: ac.signal });
    ac.abort(new Error('user'));
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    stream.write(p.encodeCommand('Quit'));
    expect(await p.readCommand(reader)).toBe('Quit');
  });

  it('one deadline covers the whole message, not each field', async () => {
    // On a fake clock, so the outcome never depends on how busy the machine is.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const p = resolveProfile('C4');
      const bytes = p.encodePosition(2.5, 'mm', { timestamp: 1 });
      const { stream, reader } = pipe();
      const read = p.readPosition(reader, { timeoutMs: 60 }).catch((e: unknown) => e);
      // 20 bytes every 25 ms: no field waits more than 25 ms for its bytes, so a deadline per field
      // would never fire; the whole 163-byte message takes 200 ms, so the 60 ms one must.
      for (let at = 0; at < bytes.length; at += 20) {
        stream.write(bytes.subarray(at, at + 20));
        await vi.advanceTimersByTimeAsync(25);
      }
      const err = await read;
      expect(MessageInterruptedError.isInstance(err)).toBe(true);
      const consumed = (err as MessageInterruptedError).consumed;
      expect(consumed).toBeGreaterThan(0);
      expect(consumed).toBeLessThanOrEqual(60);
      expect(TimeoutError.isInstance((err as MessageInterruptedError).cause)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('EOF inside a message is an EofError carrying every byte of the message that arrived', async () => {
    for (const g of ['A', 'B', 'C4', 'D'] as const) {
      const p = resolveProfile(g);
      const bytes = p.encodePosition(2.5, 'mm', { timestamp: 1 });
      const cut = bytes.length - 3;
      const err = await p.readPosition(readerOf([bytes.subarray(0, cut)])).catch((e: unknown) => e);
      expect(EofError.isInstance(err)).toBe(true);
      expect(toHex((err as EofError).partial)).toBe(toHex(bytes.subarray(0, cut)));
    }
  });

  it('EOF before a message is a plain EofError with nothing partial', async () => {
    const err = await resolveProfile('C4')
      .readCommand(readerOf([]))
      .catch((e: unknown) => e);
    expect(EofError.isInstance(err)).toBe(true);
    expect((err as EofError).partial).toHaveLength(0);
  });
});

describe('gen D: a bad frame consumes exactly one frame and the stream resynchronises', () => {
  const d = resolveProfile('D');
  const frame = (payloadHex: string) => {
    const payload = fromHex(payloadHex);
    const out = new Uint8Array(4 + payload.length);
    new DataView(out.buffer).setUint32(0, payload.length);
    out.set(payload, 4);
    return out;
  };
  const good = d.encodeCommand('move_home');
  const bad = [
    { what: 'unknown tag', bytes: frame('000000034e6f70'), error: UnknownTagError }, // tag "Nop"
    {
      what: 'substring of a tag (exact matching)',
      bytes: frame('0000000378697300000000'),
      error: UnknownTagError,
    }, // "xis"
    { what: 'trailing bytes', bytes: concatFrame(d.encodeValue('x'), 'ff'), error: PymodaqDecodeError },
    {
      what: 'value longer than its frame',
      bytes: frame('0000000373747200000010414243'),
      error: TruncatedError,
    },
    { what: 'empty frame', bytes: frame(''), error: TruncatedError },
    { what: 'wrong type for a command', bytes: d.encodeValue(3.5), error: UnexpectedValueError },
    { what: 'invalid UTF-8', bytes: frame('0000000373747200000002c328'), error: PymodaqDecodeError },
  ];

  it.each(bad)('$what', async ({ bytes, error }) => {
    const wire = concatBytes([good, bytes, good]);
    for (const chunks of [[wire], chunkEvery(wire, 3)]) {
      const r = readerOf(chunks);
      expect(await d.readCommand(r)).toBe('move_home');
      const before = r.bytesRead - r.buffered;
      const err = await d.readCommand(r).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(error);
      expect(r.bytesRead - r.buffered - before).toBe(bytes.length);
      expect(await d.readCommand(r)).toBe('move_home');
    }
  });

  it('a frame over the size limit is refused before anything is allocated or consumed', async () => {
    const r = readerOf([fromHex('ffffffff0000')]);
    await expect(d.readCommand(r)).rejects.toBeInstanceOf(LimitExceededError);
    expect(r.buffered).toBe(6);
  });

  it('MessageDecoder: the same resynchronisation when pushing chunks', () => {
    const wire = concatBytes([good, ...bad.map((b) => b.bytes), good]);
    const dec = new MessageDecoder(d, 'command');
    for (const chunk of chunkEvery(wire, 5)) dec.push(chunk);
    const out: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        const next = dec.next();
        if (next === undefined) break;
        out.push(next.value);
      } catch (e) {
        out.push((e as Error).constructor.name);
      }
    }
    expect(out).toEqual([
      'move_home',
      'UnknownTagError',
      'UnknownTagError',
      'PymodaqDecodeError',
      'TruncatedError',
      'TruncatedError',
      'UnexpectedValueError',
      'PymodaqDecodeError',
      'move_home',
    ]);
  });
});

function concatFrame(frameBytes: Uint8Array, extraHex: string): Uint8Array {
  const extra = fromHex(extraHex);
  const out = concatBytes([frameBytes, extra]);
  new DataView(out.buffer).setUint32(0, frameBytes.length - 4 + extra.length);
  return out;
}
