// Every packet of the shared vectors cut at every split point: the push decoder and the pull reader must
// give the same packets whatever the chunking.

import { ByteReader, concatBytes, EofError, toHex } from '@labwire/framing';
import { decodePacket, encodePacket, PacketDecoder, readPacket } from '@labwire/optommp/codec';
import { describe, expect, it } from 'vitest';
import { bytesOf, vectors } from './vectors';

const packets = vectors
  .flatMap((v) => [v.request_hex, ...(v.response_hex ? [v.response_hex] : [])])
  .map(bytesOf);

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

describe('PacketDecoder (push)', () => {
  it('decodes every packet cut at every split point', () => {
    for (const bytes of packets) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const d = new PacketDecoder({ undefinedTcodes: 'header' });
        const first = d.push(bytes.subarray(0, cut));
        if (cut < bytes.length) {
          expect(first).toEqual([]);
          expect(d.needed).toBeGreaterThan(0);
        }
        const second = d.push(bytes.subarray(cut));
        const all = [...first, ...second];
        expect(all).toHaveLength(1);
        expect(toHex(encodePacket(all[0]!))).toBe(toHex(bytes));
        expect(d.buffered).toBe(0);
        d.end();
      }
    }
  });

  it('decodes the whole vector stream byte by byte and in one piece', () => {
    const stream = concatBytes(packets);
    const one = new PacketDecoder({ undefinedTcodes: 'header' }).push(stream);
    expect(one.map((p) => toHex(encodePacket(p)))).toEqual(packets.map((p) => toHex(p)));
    const d = new PacketDecoder({ undefinedTcodes: 'header' });
    const got = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
    expect(got.map((p) => toHex(encodePacket(p)))).toEqual(packets.map((p) => toHex(p)));
  });

  it('reports how many bytes the next packet still needs', () => {
    const d = new PacketDecoder();
    d.push(bytesOf('00000070')); // read block response: needs the data_length at 12–13
    expect(d.needed).toBe(10);
    d.push(bytesOf('0000000000000000000a')); // 14 bytes: data_length 10 known -> 26 in all
    expect(d.needed).toBe(12);
  });

  it('end() raises EofError with the partial packet', () => {
    const d = new PacketDecoder();
    d.push(bytesOf('0000007000000000'));
    let err: unknown;
    try {
      d.end();
    } catch (e) {
      err = e;
    }
    expect(EofError.isInstance(err)).toBe(true);
    expect(toHex((err as EofError).partial)).toBe('0000007000000000');
  });

  it('keeps a bad header in place and returns the packets before it first', () => {
    const good = bytesOf('000000200000000000000000');
    const bad = bytesOf('000028300000fffff0300000'); // tcode 3
    const d = new PacketDecoder();
    const out = d.push(concatBytes([good, bad]));
    expect(out).toHaveLength(1);
    expect(() => d.push(new Uint8Array(0))).toThrowError(expect.objectContaining({ code: 'UndefinedTcode' }));
    expect(d.buffered).toBe(12);
    d.skip(12);
    expect(d.push(good)).toHaveLength(1);
  });
});

describe('readPacket (pull over ByteReader)', () => {
  it('reads every packet cut at every split point', async () => {
    for (const bytes of packets) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const reader = new ByteReader(chunks(bytes.subarray(0, cut), bytes.subarray(cut)));
        const p = await readPacket(reader, { undefinedTcodes: 'header', timeoutMs: 1000 });
        expect(toHex(encodePacket(p))).toBe(toHex(bytes));
        reader.close();
      }
    }
  });

  it('EOF inside a packet raises EofError with every byte that arrived', async () => {
    const bytes = bytesOf(vectors.find((v) => v.name.startsWith('V27b'))!.response_hex!);
    for (let cut = 1; cut < bytes.length; cut++) {
      const reader = new ByteReader(chunks(bytes.subarray(0, cut)));
      const err = await readPacket(reader, { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(EofError.isInstance(err)).toBe(true);
      expect(toHex((err as EofError).partial)).toBe(toHex(bytes.subarray(0, cut)));
      reader.close();
    }
  });

  it('rejects a data_length above the limit before reading the data', async () => {
    const reader = new ByteReader(chunks(bytesOf('00000070000000000000000010000000')));
    await expect(readPacket(reader, { maxDataLength: 1024, timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'LimitExceeded',
      limit: 1024,
      actual: 0x1000,
    });
    reader.close();
  });

  it('gives the same packets as decodePacket', async () => {
    const reader = new ByteReader(chunks(...packets));
    for (const bytes of packets) {
      const p = await readPacket(reader, { undefinedTcodes: 'header', timeoutMs: 1000 });
      expect(p).toEqual(decodePacket(bytes, { undefinedTcodes: 'header' }));
    }
    reader.close();
  });
});
