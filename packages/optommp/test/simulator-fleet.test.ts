// SimulatedFleet: many devices in one process, each with inputs of its own, on consecutive or free
// ports; a device that is stopped drops its connections and comes back freshly booted on the same port.

import net from 'node:net';
import { OptoMmpClient } from '@labwire/optommp';
import { SimulatedFleet } from '@labwire/optommp/simulator';
import { activeResources, resourcesLeftOver } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function client(port: number): OptoMmpClient {
  const c = new OptoMmpClient({ host: '127.0.0.1', port, timeoutMs: 3_000 });
  cleanup.push(() => c.close());
  return c;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('SimulatedFleet', () => {
  it('starts N devices on free ports, each with inputs of its own', async () => {
    const before = activeResources();
    const fleet = await SimulatedFleet.start({ count: 6 });
    expect(fleet.size).toBe(6);
    expect(new Set(fleet.ports).size).toBe(6);
    const values = await Promise.all(fleet.ports.map((p) => client(p).getAnalogPointValue(2, 0)));
    // The same rack, but not in lockstep: six different readings.
    expect(new Set(values).size).toBe(6);
    for (const c of cleanup.splice(0).reverse()) await c();
    await fleet.close();
    expect(await resourcesLeftOver(before)).toEqual({});
  });

  it('puts device i on basePort + i, and takes options per device', async () => {
    let fleet: SimulatedFleet | undefined;
    // A free range of four: found by trying (another program may take a port between probe and bind).
    for (let attempt = 0; attempt < 10 && fleet === undefined; attempt++) {
      const base = await freePort();
      if (base > 65_000) continue;
      fleet = await SimulatedFleet.start({
        count: 4,
        basePort: base,
        perDevice: (i) => ({ identity: { partNumber: `GRV-EPIC-PR${i}` } }),
      }).catch(() => undefined);
    }
    expect(fleet).toBeDefined();
    cleanup.push(() => fleet!.close());
    const base = fleet!.ports[0]!;
    expect(fleet!.ports).toEqual([base, base + 1, base + 2, base + 3]);
    expect(await client(base + 3).unitDescription()).toBe('GRV-EPIC-PR3');
  });

  it('a stopped device drops its connections; started again it answers on the same port, freshly booted', async () => {
    const fleet = await SimulatedFleet.start({ count: 3 });
    cleanup.push(() => fleet.close());
    const c = client(fleet.ports[1]!);
    await new Promise((r) => setTimeout(r, 500));
    const before = await c.uptime();
    expect(before).toBeGreaterThanOrEqual(500);
    await fleet.stop(1);
    expect(fleet.running(1)).toBe(false);
    await expect(c.uptime()).rejects.toMatchObject({ name: expect.stringMatching(/Connection|Connect/) });
    await fleet.start(1);
    expect(fleet.running(1)).toBe(true);
    expect(await c.uptime()).toBeLessThan(before);
    // The others never noticed.
    expect(typeof (await client(fleet.ports[0]!).uptime())).toBe('number');
  });

  it('refuses nonsense', async () => {
    await expect(SimulatedFleet.start({ count: 0 })).rejects.toThrow(RangeError);
    await expect(SimulatedFleet.start({ count: 2, basePort: 65_535 })).rejects.toThrow(RangeError);
  });
});
