// The one validator (docs/protocols/optommp.md §2.11) at its two entry points: a header as it arrives (checkResponseHeader, used
// by the pull reader before any data is read) and a decoded packet (checkResponse). Both must give the same
// verdict for every response and expectation; the pull reader with an expectation must read a matching
// response whatever the chunking and stop at the header when it does not match.

import { ByteReader, LabwireError, toHex } from '@labwire/framing';
import {
  checkResponse,
  DeviceError,
  decodePacket,
  encodePacket,
  encodeRequest,
  offsetOf,
  type RequestInit,
  ResponseMismatchError,
  readPacket,
} from '@labwire/optommp/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeReadBlockResponse,
  encodeReadQuadletResponse,
  encodeRequestWith,
  encodeWriteResponse,
  requestBytes,
} from '../src/codec/encode';
import type { OptoMmpResponse } from '../src/codec/packet';
import { type ReadProgress, takeResponseAtHand } from '../src/codec/read-packet';
import { checkResponseHeader, expectationFor, responseAtHand } from '../src/codec/validate';
import { cut } from './arbitraries';

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

const u16 = fc.integer({ min: 0, max: 0xffff });
const small = fc.integer({ min: 0, max: 3 });
/** Responses near an expectation: labels, source IDs and lengths drawn from a few values so they collide. */
const responseArb: fc.Arbitrary<OptoMmpResponse> = fc
  .oneof(
    fc.record({ tcode: fc.constant(2 as const), tl: small, sourceId: small, rcode: small }),
    fc.record({
      tcode: fc.constant(6 as const),
      tl: small,
      sourceId: small,
      rcode: small,
      data: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    }),
    fc.record({
      tcode: fc.constant(7 as const),
      tl: small,
      sourceId: small,
      rcode: small,
      data: fc.uint8Array({ maxLength: 6 }),
    }),
  )
  .map((r) => ({ destinationId: 0, rt: 0, pri: 0, extendedTcode: 0, ...r }) as OptoMmpResponse);
const requestArb: fc.Arbitrary<RequestInit> = fc.oneof(
  fc.record({
    tcode: fc.constant(0 as const),
    tl: small,
    sourceId: small,
    offset: u16,
    data: fc.constant(new Uint8Array(4)),
  }),
  fc.record({
    tcode: fc.constant(1 as const),
    tl: small,
    sourceId: small,
    offset: u16,
    data: fc.uint8Array({ maxLength: 4 }),
  }),
  fc.record({ tcode: fc.constant(4 as const), tl: small, sourceId: small, offset: u16 }),
  fc.record({
    tcode: fc.constant(5 as const),
    tl: small,
    sourceId: small,
    offset: u16,
    dataLength: fc.integer({ min: 0, max: 6 }),
  }),
);

function verdict(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (ResponseMismatchError.isInstance(e)) return `mismatch ${e.field} ${e.expected} ${e.actual}`;
    if (DeviceError.isInstance(e)) return 'nak';
    throw e;
  }
}

describe('one validator, two entry points', () => {
  it('the header check and the packet check agree on every response', () => {
    fc.assert(
      fc.property(responseArb, requestArb, fc.boolean(), (response, request, checkSource) => {
        const expectation = expectationFor(request, checkSource);
        const bytes = encodePacket(response);
        const whole = verdict(() => checkResponse(response, expectation));
        const header = verdict(() => checkResponseHeader(bytes, 0, expectation));
        if (whole.startsWith('mismatch')) expect(header).toBe(whole);
        else expect(header).toBe('ok');
        // The header check never needs more than the 16-byte header (no data).
        expect(
          verdict(() => checkResponseHeader(bytes.subarray(0, Math.min(16, bytes.length)), 0, expectation)),
        ).toBe(header);
      }),
      { numRuns: 2000 },
    );
  });

  it('a NAKed block read stating more data than was asked for is a mismatch, not a NAK', () => {
    const expectation = expectationFor({ tcode: 5, tl: 3, offset: offsetOf(0xf0300000), dataLength: 4 });
    const nak = encodeReadBlockResponse({ tl: 3, rcode: 5, data: new Uint8Array(8) });
    expect(() => checkResponseHeader(nak, 0, expectation)).toThrowError(
      expect.objectContaining({ code: 'LengthMismatch', expected: 0, actual: 8 }),
    );
    const bare = encodeReadBlockResponse({ tl: 3, rcode: 5, data: new Uint8Array(0) });
    expect(() => checkResponse(decodePacket(bare), expectation)).toThrowError(
      expect.objectContaining({ code: 'DeviceNak', deviceCode: 0xe005, address: 0xf0300000 }),
    );
  });

  it('encodeRequestWith writes every byte of the packet encodeRequest builds, into the memory it is given', () => {
    fc.assert(
      fc.property(requestArb, fc.integer({ min: 0, max: 255 }), (request, garbage) => {
        let given: Uint8Array | undefined;
        const bytes = encodeRequestWith(request, (size) => {
          given = new Uint8Array(size).fill(garbage);
          return given;
        });
        expect(bytes).toBe(given);
        expect(bytes.length).toBe(requestBytes(request));
        expect(toHex(bytes)).toBe(toHex(encodeRequest(request)));
      }),
    );
    // A block too long for data_length is refused before anything is allocated.
    let allocated = 0;
    const tooLong = { tcode: 1 as const, offset: offsetOf(0xf0d81000), data: new Uint8Array(0x10000) };
    expect(() =>
      encodeRequestWith(tooLong, (size) => {
        allocated++;
        return new Uint8Array(size);
      }),
    ).toThrow(RangeError);
    expect(allocated).toBe(0);
  });

  it('encodeRequest builds each request packet as its own encoder does', () => {
    fc.assert(
      fc.property(requestArb, (request) => {
        const bytes = encodeRequest(request);
        const decoded = decodePacket(bytes);
        expect(decoded.tcode).toBe(request.tcode);
        expect(toHex(encodePacket(decoded))).toBe(toHex(bytes));
      }),
    );
  });
});

describe('the fast variant: a response at hand (responseAtHand, takeResponseAtHand)', () => {
  it('accepts exactly the whole ACKs the checked path accepts, and the same data', () => {
    fc.assert(
      fc.property(responseArb, requestArb, fc.boolean(), (response, request, checkSource) => {
        const expectation = expectationFor(request, checkSource);
        const bytes = encodePacket(response);
        const whole = verdict(() => checkResponse(response, expectation));
        const n = responseAtHand(bytes, 0, bytes.length, expectation);
        if (whole === 'ok') {
          expect(n).toBe(bytes.length);
        } else {
          // A mismatch or a NAK is never taken: the checked path reads and reports it.
          expect(n).toBe(-1);
        }
        // Every prefix of an accepted response waits; of anything else it waits or hands over.
        for (let k = 0; k < bytes.length; k++) {
          const p = responseAtHand(bytes, 0, k, expectation);
          if (whole === 'ok') expect(p).toBe(0);
          else expect(p).toBeLessThanOrEqual(0);
        }
        // Bytes beyond the response: the checked path takes it (and reports the surplus).
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        expect(responseAtHand(longer, 0, longer.length, expectation)).toBe(-1);
      }),
      { numRuns: 2000 },
    );
  });

  it('takeResponseAtHand: whole ACKs taken with their data; anything else left in place', async () => {
    await fc.assert(
      fc.asyncProperty(responseArb, requestArb, fc.nat(), async (response, request, cutAt) => {
        const expectation = expectationFor(request);
        const bytes = encodePacket(response);
        const k = cutAt % (bytes.length + 1);
        const reader = new ByteReader(chunks(bytes.subarray(0, k)));
        await new Promise((resolve) => setImmediate(resolve));
        const out = { value: '' };
        const result = takeResponseAtHand(reader, expectation, (data) => toHex(data), out);
        const whole = verdict(() => checkResponse(response, expectation));
        if (result === 'taken') {
          expect(k).toBe(bytes.length);
          expect(whole).toBe('ok');
          expect(out.value).toBe(toHex(checkResponse(response, expectation)));
          expect(reader.buffered).toBe(0);
        } else {
          expect(reader.buffered).toBe(k);
          if (whole === 'ok') expect(result).toBe(k === bytes.length ? 'taken' : 'wait');
        }
        reader.close();
      }),
      { numRuns: 500 },
    );
  });

  it('what decode throws is thrown, and the response is consumed (the line stays in step)', async () => {
    const expectation = expectationFor({ tcode: 4, tl: 2, offset: offsetOf(0) });
    const q = encodeReadQuadletResponse({ tl: 2, rcode: 0, data: Uint8Array.of(1, 2, 3, 4) });
    const reader = new ByteReader(chunks(q));
    await new Promise((resolve) => setImmediate(resolve));
    const out = { value: 0 };
    expect(() =>
      takeResponseAtHand(
        reader,
        expectation,
        () => {
          throw new RangeError('bad value');
        },
        out,
      ),
    ).toThrow(RangeError);
    expect(reader.buffered).toBe(0);
    reader.close();
  });
});

describe('readPacket with an expectation', () => {
  const request = { tcode: 5 as const, tl: 9, offset: offsetOf(0xf0260000), dataLength: 64 };
  const expectation = expectationFor(request);
  const response = encodeReadBlockResponse({
    tl: 9,
    rcode: 0,
    data: Uint8Array.from({ length: 64 }, (_, i) => i),
  });

  it('reads a matching response cut anywhere, consuming nothing after it', async () => {
    const next = encodeWriteResponse({ tl: 10, rcode: 0 });
    for (let at = 0; at <= response.length; at++) {
      for (const extra of [false, true]) {
        const parts = [response.subarray(0, at), response.subarray(at)];
        // Bytes after the response arrive only in a later chunk (one request in flight).
        const reader = new ByteReader(chunks(...parts, ...(extra ? [next] : [])));
        const progress: ReadProgress = { received: new Uint8Array(0), surplus: 0 };
        const packet = await readPacket(reader, { expect: expectation, progress, timeoutMs: 1000 });
        expect(toHex(checkResponse(packet, expectation))).toBe(toHex(response.subarray(16)));
        expect(progress.surplus).toBe(0);
        expect(progress.received).toHaveLength(response.length);
        if (extra) expect(toHex(await reader.readExactly(12, { timeoutMs: 1000 }))).toBe(toHex(next));
        reader.close();
      }
    }
  });

  it('checks the header before reading data: a wrong data_length never waits for data', async () => {
    const bad = Uint8Array.from(response.subarray(0, 16));
    bad[13] = 200;
    // The stream stays open after the header: a reader that waited for data would time out instead.
    const reader = new ByteReader(
      (async function* () {
        yield bad;
        await new Promise((r) => setTimeout(r, 5_000).unref());
      })(),
    );
    await expect(readPacket(reader, { expect: expectation, timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'LengthMismatch',
      expected: 64,
      actual: 200,
    });
    reader.close();
  });

  it('a NAK followed by stray bytes in the same read: the NAK, and the stray bytes reported as surplus', async () => {
    const nak = encodeReadBlockResponse({ tl: 9, rcode: 5, data: new Uint8Array(0) });
    const reader = new ByteReader(chunks(Uint8Array.of(...nak, 1, 2, 3, 4)));
    const progress: ReadProgress = { received: new Uint8Array(0), surplus: 0 };
    const packet = await readPacket(reader, { expect: expectation, progress, timeoutMs: 1000 });
    expect(progress.surplus).toBe(4);
    expect(() => checkResponse(packet, expectation)).toThrowError(expect.objectContaining({ rcode: 5 }));
    reader.close();
  });

  it('any response bytes, cut anywhere, settle with a packet or a typed error', async () => {
    await fc.assert(
      fc.asyncProperty(
        responseArb,
        requestArb,
        fc.array(fc.nat(), { maxLength: 3 }),
        async (res, req, points) => {
          const reader = new ByteReader(chunks(...cut(encodePacket(res), points)));
          const e = expectationFor(req);
          try {
            checkResponse(await readPacket(reader, { expect: e, timeoutMs: 1000 }), e);
          } catch (error) {
            expect(LabwireError.isInstance(error)).toBe(true);
          }
          reader.close();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('quadlet and write responses take one read each', async () => {
    const q = encodeReadQuadletResponse({ tl: 4, rcode: 0, data: Uint8Array.of(1, 2, 3, 4) });
    const w = encodeWriteResponse({ tl: 5, rcode: 0 });
    const reader = new ByteReader(chunks(q, w));
    const qe = expectationFor({ tcode: 4, tl: 4, offset: offsetOf(0) });
    const we = expectationFor({ tcode: 1, tl: 5, offset: offsetOf(0), data: new Uint8Array(2) });
    expect(checkResponse(await readPacket(reader, { expect: qe, timeoutMs: 1000 }), qe)).toEqual(
      Uint8Array.of(1, 2, 3, 4),
    );
    expect(checkResponse(await readPacket(reader, { expect: we, timeoutMs: 1000 }), we)).toHaveLength(0);
    reader.close();
  });
});
