// The bus link's reconnects against peers that accept and then speak garbage (issue 10). A bus link never
// reconnects on its own (docs/protocols/cmd_tcp.md Q18); its desync policy replaces the line after a failed wrnrd, and the reconnect
// policy of @labwire/tcp paces that: a link that never proved the peer backs off (100 ms … 5 s, equal
// jitter: six retries in a row take at least 3.15 s), so at most 6 connections happen in 3 s.
import { TcpBus } from '@labwire/bus';
import {
  activeResources,
  type LoopbackServer,
  resourcesLeftOver,
  SSH_BANNER,
  sleep,
  startGarbagePeer,
  startSshBannerPeer,
  watchForStorm,
} from '@labwire/testkit';
import { describe, expect, it } from 'vitest';

const WATCH_MS = 3_000;
const MAX_CONNECTIONS = 6;

interface Case {
  name: string;
  peer: () => Promise<LoopbackServer>;
  conf: string;
  /** One call of the user's loop (the link timeout is 0.2 s). */
  call: (bus: TcpBus) => Promise<unknown>;
}

const CASES: Case[] = [
  {
    name: 'garbage, line query, desync=reconnect',
    peer: () => startGarbagePeer(),
    conf: ',desync=reconnect',
    call: (bus) => bus.wrnrdUntil(1, 'MEAS?\\n', '\\n'),
  },
  {
    name: 'garbage that never stops, line query, default desync (drain falls back to a new line)',
    peer: () => startGarbagePeer({ repeatMs: 20 }),
    conf: '',
    call: (bus) => bus.wrnrdUntil(1, 'MEAS?\\n', '\\n'),
  },
  {
    // No 0x0a in the query: sshd waits for a whole identification line and keeps the link open.
    name: 'an SSH banner, binary query of 32 bytes, desync=reconnect',
    peer: () => startSshBannerPeer(),
    conf: ',desync=reconnect',
    call: (bus) => bus.wrnrdBin(1, '010300100001', 32),
  },
];

describe.concurrent('a bus link against a peer that speaks garbage never storms', () => {
  it.each(CASES)('$name: at most 6 connections in 3 s; close() ends it', async ({ peer, conf, call }) => {
    const before = activeResources();
    const server = await peer();
    const bus = new TcpBus({ drainTimeoutMs: 300 });
    bus.init(1, `tcp(host=127.0.0.1,port=${server.port},timeout=0.2${conf})`);
    await bus.config(1);
    const failures = new Set<string>();
    const { calls, accepts, acceptsAfterClose, closeMs } = await watchForStorm({
      peer: server,
      watchMs: WATCH_MS,
      close: () => bus.close(),
      call: () => call(bus).catch((e: { code?: string }) => failures.add(String(e.code))),
    });
    expect(calls).toBeGreaterThan(2);
    expect(accepts).toBeGreaterThanOrEqual(2);
    expect(accepts).toBeLessThanOrEqual(MAX_CONNECTIONS);
    // Every failure is typed (the loop ends on Closed once the bus is closed).
    for (const code of failures) expect(['Timeout', 'Closed', 'NotConfigured']).toContain(code);
    // Ordering, not timing: nothing connected after close() and nothing is left running; the duration
    // bound is generous (a loaded machine), yet catches a close that would wait out a backoff delay.
    expect(acceptsAfterClose).toBe(accepts);
    expect(closeMs).toBeLessThan(1_000);
    await server.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('an SSH banner answering a line query: the peer closes, the link is broken (Q18), no reconnect', async () => {
    const server = await startSshBannerPeer();
    const bus = new TcpBus();
    try {
      bus.init(1, `tcp(host=127.0.0.1,port=${server.port},timeout=0.5,desync=reconnect)`);
      await bus.config(1);
      // The banner's first line is all a line protocol can see: it comes back as the reply.
      expect(await bus.wrnrdUntil(1, 'MEAS?\\n', '\\n')).toBe(SSH_BANNER.trim());
      // sshd refuses our line as an identification, says so and closes: the link is broken until
      // inval + config.
      expect(await bus.wrnrdUntil(1, 'MEAS?\\n', '\\n')).toBe('Invalid SSH identification string.');
      const e = await bus.wrnrdUntil(1, 'MEAS?\\n', '\\n').then(
        () => undefined,
        (error: { code: string }) => error,
      );
      expect(e?.code).toBe('Eof');
      await sleep(300);
      expect(bus.link(1).broken).toBe(true);
      expect(server.accepts).toBe(1);
    } finally {
      await bus.close();
      await server.close();
    }
  });
});
