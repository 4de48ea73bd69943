// The shared V vectors replayed against the labwire simulator configured as vectors/README.md describes:
// every recorded response must come back byte for byte, over TCP (and the PUC sequence over UDP too).

import { concatBytes, fromHex, toHex } from '@labwire/framing';
import {
  addressOf,
  decodePacket,
  encodeReadBlockRequest,
  offsetOf,
  type ReadBlockRequest,
} from '@labwire/optommp/codec';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeReadQuadletRequest } from '../src/codec/encode';
import { RawTcpPeer, udpExchange } from './raw-client';
import { type Vector, vectors } from './vectors';

const numberOf = (v: Vector) => Number(/^V(\d+)/.exec(v.name)?.[1] ?? Number.NaN);
const session = (from: number, to: number) => vectors.filter((v) => numberOf(v) >= from && numberOf(v) <= to);

/** Steps of the recorded python session that this copy of the vector file may not list. */
const IMPLIED: Record<string, string> = {
  // V18 = SetScratchPadIntegerArea(3, 200); V19 reads its result back.
  V18: '000000100000fffff0d8100c00040000000000c8',
};

/** A controllable clock: the replay sets uptime to the value each vector recorded. */
function manualClock() {
  let now = 0;
  return { clock: () => now, set: (ms: number) => (now = ms) };
}

/** When the request reads F030010C, the uptime in the recorded response. */
function recordedUptime(v: Vector): number | undefined {
  if (v.response_hex === null) return undefined;
  const req = decodePacket(fromHex(v.request_hex), { undefinedTcodes: 'header' });
  if (!('offset' in req) || (req.tcode !== 4 && req.tcode !== 5)) return undefined;
  const start = addressOf(req.offset);
  const length = req.tcode === 4 ? 4 : (req as ReadBlockRequest).dataLength;
  if (start > 0xf030010c || start + length < 0xf0300110) return undefined;
  const res = fromHex(v.response_hex);
  if (res[6]! >> 4 !== 0) return undefined;
  const at = (req.tcode === 4 ? 12 : 16) + (0xf030010c - start);
  return new DataView(res.buffer).getUint32(at);
}

let open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.reverse()) await o.close();
  open = [];
});

async function replay(list: Vector[], puc: boolean): Promise<void> {
  const time = manualClock();
  const sim = await EpicSimulator.start(vectorDeviceOptions({ clock: time.clock, powerupClearPending: puc }));
  open.push(sim);
  const peer = await RawTcpPeer.connect(sim.port);
  open.push(peer);
  const present = new Set(list.map((v) => v.name.split('-')[0]));
  for (const v of list) {
    const n = numberOf(v);
    for (const [name, hex] of Object.entries(IMPLIED)) {
      if (Number(name.slice(1)) === n - 1 && !present.has(name)) await peer.exchange(fromHex(hex));
    }
    if (v.response_hex === null) continue; // the python package failed before sending: nothing to replay
    const uptime = recordedUptime(v);
    if (uptime !== undefined) time.set(uptime);
    const got = await peer.exchange(fromHex(v.request_hex));
    expect(toHex(got), v.name).toBe(v.response_hex);
  }
}

describe('V vectors replayed against the simulator (TCP)', () => {
  it('V01–V32: the python session, in order, on one connection', async () => {
    const list = session(1, 32);
    expect(list.length).toBeGreaterThan(10);
    await replay(list, false);
  });

  it('V33–V35: the python calls with a Powerup Clear pending', async () => {
    await replay(session(33, 35), true);
  });

  it('V36–V46: raw packets on one connection, starting with a Powerup Clear pending', async () => {
    await replay(session(36, 46), true);
  });

  it('V36–V46 also over UDP, one datagram each', async () => {
    const time = manualClock();
    const sim = await EpicSimulator.start(
      vectorDeviceOptions({ clock: time.clock, powerupClearPending: true, tcp: false, udp: true }),
    );
    open.push(sim);
    for (const v of session(36, 46)) {
      const uptime = recordedUptime(v);
      if (uptime !== undefined) time.set(uptime);
      expect(toHex(await udpExchange(sim.port, fromHex(v.request_hex))), v.name).toBe(v.response_hex);
    }
  });
});

describe('real-device captures reproduced', () => {
  it('R2/R3/R5/R6: a B3000-ENET map (status area ends at F030007C) records the failing address', async () => {
    const sim = await EpicSimulator.start(
      vectorDeviceOptions({ unmapped: [{ from: 0xf0300080, to: 0xf030024f }] }),
    );
    open.push(sim);
    const peer = await RawTcpPeer.connect(sim.port);
    open.push(peer);
    // R1: a quadlet read of F030024C (firmware revision), NAKed.
    const r1 = await peer.exchange(encodeReadQuadletRequest({ tl: 1, offset: offsetOf(0xf030024c) }));
    expect(toHex(r1)).toBe('00000460000050000000000000000000');
    for (const name of ['R2', 'R3']) {
      const v = vectors.find((x) => x.name.startsWith(`${name}-`))!;
      expect(toHex(await peer.exchange(fromHex(v.request_hex))), name).toBe(v.response_hex);
    }
    // R4: a block read of the whole status area, NAKed: a bare 16-byte header; last error address = block start.
    const r4 = await peer.exchange(
      encodeReadBlockRequest({ tl: 1, offset: offsetOf(0xf0300000), dataLength: 0x250 }),
    );
    expect(toHex(r4)).toBe('00000470000050000000000000000000');
    for (const name of ['R5', 'R6']) {
      const v = vectors.find((x) => x.name.startsWith(`${name}-`))!;
      expect(toHex(await peer.exchange(fromHex(v.request_hex))), name).toBe(v.response_hex);
    }
  });

  it('A2: a SNAP digital bank counter read with tl 16', async () => {
    const sim = await EpicSimulator.start(vectorDeviceOptions());
    open.push(sim);
    sim.device.poke(0xf0400108, fromHex('0007a7c3'));
    const peer = await RawTcpPeer.connect(sim.port);
    open.push(peer);
    const v = vectors.find((x) => x.name.startsWith('A2-'))!;
    expect(toHex(await peer.exchange(fromHex(v.request_hex)))).toBe(v.response_hex);
  });

  it('answers requests that arrive byte by byte and back to back', async () => {
    const sim = await EpicSimulator.start(vectorDeviceOptions());
    open.push(sim);
    const peer = await RawTcpPeer.connect(sim.port);
    open.push(peer);
    const list = session(1, 17).filter((v) => v.response_hex !== null && !v.request_hex.includes('f030010c'));
    const stream = concatBytes(list.map((v) => fromHex(v.request_hex)));
    for (let i = 0; i < stream.length; i++) peer.write(stream.subarray(i, i + 1));
    for (const v of list) expect(toHex(await peer.readRaw()), v.name).toBe(v.response_hex);
  });
});
