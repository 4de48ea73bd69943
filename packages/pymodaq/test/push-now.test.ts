// The data-frame write (client-role sendNow): a pushed frame goes out whole and at once while the link is
// idle (small runs joined, large arrays by reference, one cork), else it queues behind the writes under
// way; either way frames and commands arrive whole and in call order. Its deadline drops the link, and a
// connection that dies under it rejects the push.

import { TimeoutError } from '@labwire/framing';
import { PymodaqDetector } from '@labwire/pymodaq';
import {
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  type Generation,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { ConnectionLostError } from '@labwire/tcp';
import { LoopbackServer, type ServerConnection, waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { closeAfterEach, nextEvent } from './helpers';

const READ = { timeoutMs: 5000 };
const track = closeAfterEach();

/** A frame of `width` x 256 float64 pixels whose values and timestamp name it (`index`). */
function frame(index: number, width = 512): DataToExport {
  const pixels = new Float64Array(width * 256);
  for (let i = 0; i < pixels.length; i += 997) pixels[i] = index * 1000 + i;
  pixels[pixels.length - 1] = index;
  const camera = dataFromPlugins({
    name: 'camera',
    timestamp: index,
    data: [NdArray.fromTyped(pixels, [256, width])],
  });
  return dataToExport({ name: 'camera', timestamp: index, data: [camera] });
}

/** A detector connected to a hand-driven server whose identification was read: `c` is the server's side. */
async function connected(gen: Generation, timeoutMs = 10_000) {
  const queue: ServerConnection[] = [];
  const server = track(await LoopbackServer.start((c) => void queue.push(c)));
  const detector = track(
    new PymodaqDetector({
      protocol: gen,
      port: server.port,
      reconnect: false,
      timeoutMs,
      handlers: { grab: () => frame(0) },
    }),
  );
  await detector.connect();
  await waitFor(() => queue.length > 0, { timeoutMs: 3000, message: 'a connection' });
  const c = queue.shift()!;
  const p = resolveProfile(gen);
  await p.readCommand(c.reader, READ);
  await p.readCommand(c.reader, READ);
  await p.readString(c.reader, READ);
  return { detector, c, p };
}

/**
 * Pushes frames to a server that reads nothing until one stays pending, twice in a row (the kernel's
 * buffers are full; a slow machine may take a while for a push that does go out): that push, settled to
 * 'sent' or its error (wrapped: an async function would wait for it). At most 256 frames.
 */
async function pushUntilPending(detector: PymodaqDetector): Promise<{ push: Promise<unknown> } | undefined> {
  for (let i = 0; i < 256; i++) {
    const push = detector.push(frame(i)).then(
      () => 'sent',
      (e: unknown) => e,
    );
    const still = (ms: number) =>
      Promise.race([push, new Promise((r) => setTimeout(() => r('pending'), ms))]);
    if ((await still(200)) === 'pending' && (await still(500)) === 'pending') return { push };
  }
  return undefined;
}

describe.each(['C4', 'D'] as const)('generation %s: pushed frames', (gen) => {
  it('arrive whole and in call order, idle link or not, with commands between them', async () => {
    const { detector, c, p } = await connected(gen);
    const sent: Promise<void>[] = [];
    // One awaited push on an idle link (written at once), then a burst that finds the link busy (queued),
    // an array of more than one write slice (always queued: sendAll slices it), and commands between.
    await detector.push(frame(0));
    for (let i = 1; i <= 4; i++) {
      sent.push(detector.push(frame(i)));
      sent.push(detector.sendInfo(`after ${i}`, i));
    }
    sent.push(detector.push(frame(5, 1536)));
    sent.push(detector.sendInfo('last', 5));
    const seen: string[] = [];
    for (let k = 0; k < 11; k++) {
      const command = await p.readCommand(c.reader, READ);
      if (command === 'Done') {
        const data = await p.readDetectorData(c.reader, READ);
        const index = data.timestamp;
        const expected = frame(index, index === 5 ? 1536 : 512).data[0]!.data[0]!;
        const got = data.data[0]!.data[0]!;
        expect(got.shape).toEqual(expected.shape);
        expect(Buffer.from(got.data).equals(Buffer.from(expected.data))).toBe(true);
        seen.push(`frame ${index}`);
      } else {
        expect(command).toBe('Info');
        const info = await p.readInfo(c.reader, READ);
        seen.push(info.name);
      }
    }
    await Promise.all(sent);
    expect(seen).toEqual([
      'frame 0',
      'frame 1',
      'after 1',
      'frame 2',
      'after 2',
      'frame 3',
      'after 3',
      'frame 4',
      'after 4',
      'frame 5',
      'last',
    ]);
    expect(detector.connected).toBe(true);
  });

  it('a push the server never reads fails at its deadline and drops the link (part of it may be out)', async () => {
    const { detector } = await connected(gen);
    const disconnected = nextEvent(detector, 'disconnected', () => true, 10_000);
    // Each push waits for the one before, so each finds the link idle; the kernel's buffers take a few
    // MiB, then one push stays in the socket until its deadline.
    let failure: unknown;
    for (let i = 0; i < 256 && failure === undefined; i++) {
      await detector.push(frame(i), { timeoutMs: 300 }).catch((e: unknown) => {
        failure = e;
      });
    }
    expect(TimeoutError.isInstance(failure)).toBe(true);
    await disconnected;
    expect(detector.connected).toBe(false);
    await expect(detector.push(frame(0))).rejects.toThrow(/not connected/);
  });

  it('close() settles a push that the server is not reading', async () => {
    const { detector } = await connected(gen, 60_000);
    const pending = (await pushUntilPending(detector))?.push;
    expect(pending).toBeDefined();
    const started = Date.now();
    await detector.close();
    const settled = await Promise.race([pending, new Promise((r) => setTimeout(() => r('open'), 5000))]);
    expect(settled).not.toBe('open');
    expect(settled).not.toBe('sent');
    // Long before the push's own 60 s deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a connection that dies under a push rejects it with ConnectionLostError', async () => {
    const { detector, c } = await connected(gen, 60_000);
    const pending = (await pushUntilPending(detector))?.push;
    expect(pending).toBeDefined();
    c.socket.destroy();
    const failure = await pending;
    expect(ConnectionLostError.isInstance(failure)).toBe(true);
  });
});
