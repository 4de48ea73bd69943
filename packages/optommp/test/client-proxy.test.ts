// The client through the testkit fault proxy: responses sliced into pieces of 1–3 bytes (every partial
// arrival of the one-read-per-response path), requests sliced on the way in, a connection cut after a
// few bytes, and a device that goes away between calls.

import { EofError, LabwireError } from '@labwire/framing';
import { OptoMmpClient } from '@labwire/optommp';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { ConnectionLostError } from '@labwire/tcp';
import { FaultProxy, type FaultProxyOptions } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function proxied(settings: Omit<FaultProxyOptions, 'target'> = {}) {
  const sim = await EpicSimulator.start(vectorDeviceOptions());
  const proxy = await FaultProxy.start({ target: { port: sim.port }, ...settings });
  const client = new OptoMmpClient({ host: '127.0.0.1', port: proxy.port, timeoutMs: 3000 });
  cleanup.push(
    () => sim.close(),
    () => proxy.close(),
    () => client.close(),
  );
  return { sim, proxy, client };
}

describe('through the fault proxy', () => {
  it('responses and requests in 1–3 byte pieces give the same answers', async () => {
    const { client } = await proxied({
      downstream: { sliceMax: 3, sliceDelayMs: 0 },
      upstream: { sliceMax: 5, sliceDelayMs: 0 },
    });
    expect(await client.getScratchPadIntegerArea(3)).toBe(4242);
    expect(await client.firmwareVersion()).toBe('R4.1c');
    expect(await client.readQuadlet(0xf0300000)).toEqual(Uint8Array.of(0, 0, 0, 7));
    await client.setScratchPadStringArea(9, 'sliced');
    expect(await client.getScratchPadStringArea(9)).toBe('sliced');
    const data = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    await client.writeBlock(0xf0da0000, data);
    expect(await client.readBlock(0xf0da0000, 600)).toEqual(data);
    await expect(client.readBlock(0xf0f0f000, 8)).rejects.toMatchObject({ deviceCode: 0xe005 });
    await expect(client.readQuadlet(0xf0f0f000)).rejects.toMatchObject({ deviceCode: 0xe005 });
    expect(await client.getAnalogPointValue(2, 0)).toBe(12.5);
  });

  it('a connection cut inside a response is a typed error carrying the bytes that came', async () => {
    const { client } = await proxied({ downstream: { limitBytes: 6 } });
    const e = await client.setScratchPadIntegerArea(0, 1).catch((x: unknown) => x);
    expect(ConnectionLostError.isInstance(e)).toBe(true);
    const cause = (e as Error).cause;
    expect(EofError.isInstance(cause)).toBe(true);
    expect((cause as EofError).partial).toEqual(Uint8Array.of(0, 0, 4, 0x20, 0, 0)); // 6 bytes of the write response
  });

  it('a device that goes away between calls: a typed error, then a typed error again', async () => {
    const { client, sim } = await proxied();
    expect(await client.getScratchPadIntegerArea(3)).toBe(4242);
    await sim.close();
    const first = await client.uptime().catch((x: unknown) => x);
    const second = await client.uptime().catch((x: unknown) => x);
    expect(LabwireError.isInstance(first)).toBe(true);
    expect(LabwireError.isInstance(second)).toBe(true);
  });
});
