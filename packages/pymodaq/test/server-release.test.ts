// PymodaqServer.release: the user of a server hands the memory of received detector data back, and the
// client's next frames are received into it (a long-running viewer without garbage or page faults per
// frame). Real detector clients of every generation on loopback sockets.

import { PymodaqDetector, type PymodaqServer } from '@labwire/pymodaq';
import { type DataToExport, dataFromPlugins, dataToExport, NdArray } from '@labwire/pymodaq/codec';
import { describe, expect, it } from 'vitest';
import { ALL, closeAfterEach, nextEvent, startServer } from './helpers';

const track = closeAfterEach();

const ROWS = 512;
const COLS = 256;

/** A 512×256 float64 image (1 MiB) whose every pixel is `k`, and its bytes. */
function frame(k: number, rows = ROWS): { data: DataToExport; bytes: Uint8Array } {
  const pixels = new Float64Array(rows * COLS).fill(k);
  const camera = dataFromPlugins({ name: 'camera', data: [NdArray.fromTyped(pixels, [rows, COLS])] });
  return { data: dataToExport({ name: 'camera', data: [camera] }), bytes: new Uint8Array(pixels.buffer) };
}

/** The bytes of the first array of received data. */
function arrayBytes(data: DataToExport): Uint8Array {
  return data.data[0]!.data[0]!.data;
}

async function detectorOn(server: PymodaqServer, gen: string, port: number): Promise<PymodaqDetector> {
  const detector = track(
    new PymodaqDetector({
      protocol: gen,
      port,
      reconnect: false,
      handlers: { grab: () => frame(99).data },
    }),
  );
  const seen = nextEvent(server, 'client');
  await detector.connect();
  await seen;
  return detector;
}

/** Pushes `k`'s frame and resolves with the data the server emitted for it. */
async function pushed(server: PymodaqServer, detector: PymodaqDetector, k: number, rows = ROWS) {
  const sent = frame(k, rows);
  const arrived = nextEvent(server, 'data');
  await detector.push(sent.data);
  const { data } = await arrived;
  return { data, sent: sent.bytes };
}

describe.each(ALL)('generation %s: PymodaqServer.release', (gen) => {
  it('frames handed back are received into the memory of the frames before them, each one intact', async () => {
    const { server, port } = await startServer(gen, { role: 'detector' });
    track(server);
    const detector = await detectorOn(server, gen, port);
    const memory = new Set<ArrayBufferLike>();
    for (let k = 1; k <= 4; k++) {
      const { data, sent } = await pushed(server, detector, k);
      expect(Buffer.compare(arrayBytes(data), sent)).toBe(0);
      memory.add(arrayBytes(data).buffer);
      expect(server.release(data)).toBe(true);
      // Twice is harmless: the memory is taken once, so no two frames can ever be received into it.
      expect(server.release(data)).toBe(false);
    }
    // The first frame arrived in fresh memory; every later one in that same memory.
    expect(memory.size).toBe(1);
  });

  it('frames not handed back each keep memory of their own, untouched by the frames after them', async () => {
    const { server, port } = await startServer(gen, { role: 'detector' });
    track(server);
    const detector = await detectorOn(server, gen, port);
    const kept: { data: DataToExport; sent: Uint8Array }[] = [];
    for (let k = 1; k <= 4; k++) kept.push(await pushed(server, detector, k));
    expect(new Set(kept.map((f) => arrayBytes(f.data).buffer)).size).toBe(4);
    for (const f of kept) expect(Buffer.compare(arrayBytes(f.data), f.sent)).toBe(0);
  });

  it('a handed-back buffer too small for the next frame is skipped: the larger frame arrives whole', async () => {
    const { server, port } = await startServer(gen, { role: 'detector' });
    track(server);
    const detector = await detectorOn(server, gen, port);
    const first = await pushed(server, detector, 1);
    expect(server.release(first.data)).toBe(true);
    const larger = await pushed(server, detector, 2, 2 * ROWS);
    expect(Buffer.compare(arrayBytes(larger.data), larger.sent)).toBe(0);
    expect(arrayBytes(larger.data).buffer).not.toBe(arrayBytes(first.data).buffer);
    // And the stream of the new size runs on handed-back memory again.
    expect(server.release(larger.data)).toBe(true);
    const next = await pushed(server, detector, 3, 2 * ROWS);
    expect(Buffer.compare(arrayBytes(next.data), next.sent)).toBe(0);
    expect(arrayBytes(next.data).buffer).toBe(arrayBytes(larger.data).buffer);
  });
});

describe('PymodaqServer.release', () => {
  it('takes back what grab() resolved with', async () => {
    const { server, port } = await startServer('D', { role: 'detector' });
    track(server);
    await detectorOn(server, 'D', port);
    const first = await server.grab('2D');
    expect(Buffer.compare(arrayBytes(first), frame(99).bytes)).toBe(0);
    expect(server.release(first)).toBe(true);
    const second = await server.grab('2D');
    expect(arrayBytes(second).buffer).toBe(arrayBytes(first).buffer);
    expect(Buffer.compare(arrayBytes(second), frame(99).bytes)).toBe(0);
  });

  it('refuses data it did not receive, small data and data of another server (false, nothing kept)', async () => {
    const a = track((await startServer('D', { role: 'detector' })).server);
    const { server: b, port: portB } = await startServer('D', { role: 'detector' });
    track(b);
    const detector = await detectorOn(b, 'D', portB);
    expect(a.release(frame(1).data)).toBe(false);
    const { data } = await pushed(b, detector, 1);
    expect(a.release(data)).toBe(false);
    // A small frame lives in the reader's own memory: nothing to take back.
    const small = await pushed(b, detector, 2, 4);
    expect(b.release(small.data)).toBe(false);
    // The data refused by `a` is still b's to take back.
    expect(b.release(data)).toBe(true);
  });

  it('is harmless once the client has left or the server is closed', async () => {
    const { server, port } = await startServer('C4', { role: 'detector' });
    track(server);
    const detector = await detectorOn(server, 'C4', port);
    const { data } = await pushed(server, detector, 1);
    const gone = nextEvent(server, 'clientClosed');
    await detector.close();
    await gone;
    expect(server.release(data)).toBe(false);
    await server.close();
    expect(server.release(data)).toBe(false);
    // The data itself was never touched.
    expect(Buffer.compare(arrayBytes(data), frame(1).bytes)).toBe(0);
  });
});
