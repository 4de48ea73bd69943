// Resource hygiene and settling (docs/protocols/tcpinterface.md G7, G14): close/deinit settle every pending call, leave no
// socket or timer behind, and nothing ends up as an unhandled rejection.

import { TcpBus } from '@labwire/bus';
import { activeResources, installProcessGuard, type ProcessGuard, resourcesLeftOver } from '@labwire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineEcho, startDevice, until } from './helpers';

let guard: ProcessGuard;

beforeEach(() => {
  guard = installProcessGuard();
});

afterEach(() => {
  guard.dispose();
});

describe('hygiene', () => {
  it('close() settles every pending call and leaves no socket or timer', async () => {
    const before = activeResources();
    const device = await startDevice(() => {}); // silent: every read waits
    const bus = new TcpBus();
    bus.init(1, `tcp(host=127.0.0.1,port=${device.port})`);
    bus.init(2, `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config(1);
    await bus.config(2);
    const pending = [
      bus.read(1, 10),
      bus.readUntil(2, '\\n'),
      bus.wrnrd(1, 'Q', 4),
      bus.wrnrdUntil(2, 'Q\\n', '\\n'),
      bus.expect(1, 'OK'),
      ...Array.from({ length: 50 }, (_, i) => bus.wrnrdUntil(1 + (i % 2), `${i}\\n`, '\\n')),
    ];
    await bus.close();
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toHaveProperty('code');
    await device.close();
    expect(await resourcesLeftOver(before)).toEqual({});
    expect(guard.take()).toEqual([]);
  });

  it('deinit of the last user settles its pending calls', async () => {
    const device = await startDevice(() => {});
    const bus = new TcpBus();
    try {
      bus.init(1, `tcp(host=127.0.0.1,port=${device.port})`);
      await bus.config(1);
      const pending = [bus.read(1, 1), bus.wrnrd(1, 'x', 1)];
      await bus.deinit(1);
      const results = await Promise.allSettled(pending);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      await bus.close();
      await device.close();
    }
  });

  it('a peer that dies with calls queued: each settles, nothing unhandled, no reconnect (Q18)', async () => {
    const before = activeResources();
    const device = await startDevice(lineEcho());
    const bus = new TcpBus();
    bus.init(1, `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config(1);
    const calls = Array.from({ length: 20 }, (_, i) => bus.wrnrdUntil(1, `${i}\\n`, 'never'));
    await until(() => device.accepts === 1);
    await device.server.dropConnections();
    const results = await Promise.allSettled(calls);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(bus.link(1).broken).toBe(true);
    expect(device.accepts).toBe(1);
    await bus.close();
    await device.close();
    expect(await resourcesLeftOver(before)).toEqual({});
    expect(guard.take()).toEqual([]);
  });
});
