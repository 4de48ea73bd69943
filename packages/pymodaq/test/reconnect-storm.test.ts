// Issue 10: a PyMoDAQ client pointed at a peer that accepts and then sends garbage, or another service's
// banner (an SSH server on the wrong port), reconnected 300+ times a second. Now its links never prove
// the peer (no well-formed command arrives), so every drop backs off further: with the client's default
// backoff (200 ms … 5 s, equal jitter) five retries in a row take at least 3.1 s, so at most 6
// connections can happen in the 3 s watched here, however fast or slow the machine is.
import { PymodaqDetector } from '@labwire/pymodaq';
import {
  activeResources,
  type LoopbackServer,
  resourcesLeftOver,
  startGarbagePeer,
  startSshBannerPeer,
  watchForStorm,
} from '@labwire/testkit';
import { describe, expect, it } from 'vitest';

const WATCH_MS = 3_000;
const MAX_CONNECTIONS = 6;

const CASES: { protocol: string; peer: string; start: () => Promise<LoopbackServer> }[] = [];
for (const protocol of ['4.4', '5.0']) {
  CASES.push({ protocol, peer: 'garbage', start: () => startGarbagePeer() });
  CASES.push({ protocol, peer: 'an SSH banner', start: () => startSshBannerPeer() });
}

describe.concurrent('a reconnecting PyMoDAQ client never storms a peer that speaks garbage', () => {
  it.each(CASES)(
    'protocol $protocol against $peer: at most 6 connections in 3 s, close() ends it',
    async ({ protocol, start }) => {
      const before = activeResources();
      const peer = await start();
      const client = new PymodaqDetector({
        protocol,
        port: peer.port,
        connectTimeoutMs: 1_000,
        handlers: {
          grab: () => {
            throw new Error('a peer that speaks garbage never asks for data');
          },
        },
      });
      const errors: unknown[] = [];
      client.on('error', (error) => {
        errors.push(error);
      });
      // The identification goes out (the server sends no greeting, so nothing says it failed yet).
      await client.connect({ timeoutMs: 5_000 });
      const { accepts, acceptsAfterClose, closeMs } = await watchForStorm({
        peer,
        watchMs: WATCH_MS,
        close: () => client.close(),
      });
      expect(accepts).toBeGreaterThanOrEqual(2);
      expect(accepts).toBeLessThanOrEqual(MAX_CONNECTIONS);
      // The client saw the garbage and said so, once per link at most.
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(errors.length).toBeLessThanOrEqual(accepts);
      // Ordering, not timing: nothing connected after close() and nothing is left running. The duration
      // bound is generous (a loaded machine), yet catches a close that would wait out a backoff delay.
      expect(acceptsAfterClose).toBe(accepts);
      expect(closeMs).toBeLessThan(1_000);
      await peer.close();
      expect(await resourcesLeftOver(before)).toEqual({});
    },
  );
});
