// Scale-out: two gateway processes share one configuration, each publishing its shard of the devices as an
// edge node of its own. On one broker (aedes, Mosquitto) and on a two-broker cluster (two Mosquittos
// bridged on spBv1.0/#, one gateway on each): an independent MQTT.js subscriber sees both edge nodes born,
// every device born exactly once under exactly one of them, data from both; a DCMD sent anywhere reaches
// the gateway that owns the device.

import { SimulatedFleet } from '@labwire/optommp/simulator';
import { DataType, encodePayload } from '@labwire/sparkplug/codec';
import { mosquittoAvailable, startMosquitto, waitFor } from '@labwire/testkit';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../src/broker';
import { fleetConfig, GatewayProcess, tempDir, writeConfig } from './helpers';
import { Observer } from './observer';

const DEVICES = 6;

interface Cluster {
  /** Where gateway i connects (the same URL twice for one broker). */
  gatewayUrls: [string, string];
  /** Where the observer connects. */
  observerUrl: string;
  close(): Promise<void>;
}

async function oneAedes(): Promise<Cluster> {
  const b = await startEmbeddedBroker({ port: 0 });
  return { gatewayUrls: [b.url, b.url], observerUrl: b.url, close: () => b.close() };
}

async function oneMosquitto(): Promise<Cluster> {
  const b = await startMosquitto();
  return { gatewayUrls: [b.url, b.url], observerUrl: b.url, close: () => b.close() };
}

/** Broker B bridges spBv1.0/# both ways to broker A, as a cluster of two does; ready once a probe crosses. */
async function bridgedMosquittos(): Promise<Cluster> {
  const a = await startMosquitto();
  const b = await startMosquitto({
    extraConfig: [
      'connection to-a',
      `address 127.0.0.1:${a.port}`,
      'topic spBv1.0/# both 1',
      'topic labwire-probe/# out 0',
      'cleansession true',
      'restart_timeout 1',
    ],
  });
  const probe = await mqtt.connectAsync(a.url, { reconnectPeriod: 0, connectTimeout: 5_000 });
  const sender = await mqtt.connectAsync(b.url, { reconnectPeriod: 0, connectTimeout: 5_000 });
  try {
    let crossed = false;
    probe.on('message', () => {
      crossed = true;
    });
    await probe.subscribeAsync('labwire-probe/#', { qos: 0 });
    await waitFor(
      async () => {
        await sender.publishAsync('labwire-probe/x', 'ping');
        await new Promise((r) => setTimeout(r, 50));
        return crossed;
      },
      { timeoutMs: 20_000, message: 'the bridge from B to A' },
    );
  } finally {
    await probe.endAsync(true);
    await sender.endAsync(true);
  }
  return {
    gatewayUrls: [a.url, b.url],
    observerUrl: a.url,
    async close() {
      await b.close();
      await a.close();
    },
  };
}

const clusters: Array<[string, () => Promise<Cluster>]> = [['one aedes broker', oneAedes]];
if (mosquittoAvailable())
  clusters.push(
    ['one Mosquitto', oneMosquitto],
    ['two bridged Mosquittos, one gateway on each', bridgedMosquittos],
  );

describe.each(clusters)('two gateways, %s', (_name, start) => {
  let cluster: Cluster;
  let fleet: SimulatedFleet;
  let observer: Observer;
  let gateways: GatewayProcess[] = [];

  beforeEach(async () => {
    cluster = await start();
    fleet = await SimulatedFleet.start({ count: DEVICES });
    observer = await Observer.start(cluster.observerUrl);
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
    gateways = [];
    await observer.close();
    await fleet.close();
    await cluster.close();
  });

  it('both edge nodes are born; every device is covered exactly once; a DCMD reaches its owner', async () => {
    const config = writeConfig(
      tempDir(),
      fleetConfig(fleet.ports, { edgeNodeId: 'gw-{shard}', periodMs: 200 }),
    );
    for (const [i, shard] of ['1/2', '2/2'].entries())
      gateways.push(
        new GatewayProcess([config, '--broker', cluster.gatewayUrls[i]!, '--shard', shard, '--json']),
      );
    await waitFor(() => new Set(observer.of('NBIRTH').map((m) => m.edgeNodeId)).size === 2, {
      timeoutMs: 30_000,
      message: 'two NBIRTHs',
    });
    const births = await observer.waitFor('DBIRTH', DEVICES, { timeoutMs: 30_000 });
    // Each edge node publishes its births before any DATA: once both send DDATA, every birth is in.
    await waitFor(() => new Set(observer.of('DDATA').map((m) => m.edgeNodeId)).size === 2, {
      timeoutMs: 30_000,
      message: 'DDATA from both edge nodes',
    });
    expect(observer.of('DBIRTH')).toHaveLength(DEVICES);
    const byDevice = new Map<string, string>();
    for (const m of births) {
      expect(byDevice.has(m.deviceId!), `${m.deviceId} born twice`).toBe(false);
      byDevice.set(m.deviceId!, m.edgeNodeId);
    }
    expect([...byDevice.keys()].sort()).toEqual(
      Array.from({ length: DEVICES }, (_, i) => `epic-${i + 1}`).sort(),
    );
    expect(new Set(byDevice.values())).toEqual(new Set(['gw-1', 'gw-2']));
    // What each process says it owns is what it published.
    for (const [i, g] of gateways.entries()) {
      const started = await g.waitEvent((e) => e.event === 'started', 'started');
      expect(started.edgeNodeId).toBe(`gw-${i + 1}`);
      expect((started.devices as string[]).sort()).toEqual(
        [...byDevice]
          .filter(([, node]) => node === `gw-${i + 1}`)
          .map(([id]) => id)
          .sort(),
      );
    }
    // A write to a device of the second gateway, sent where the observer is: the owner applies it,
    // the other never sees a command for a device it does not have.
    const [target] = [...byDevice].find(([, node]) => node === 'gw-2')!;
    const index = Number(target.slice('epic-'.length)) - 1;
    expect(fleet.device(index)!.device.getDigital(0, 3)).toBe(0);
    await observer.client.publishAsync(
      `spBv1.0/Test/DCMD/gw-2/${target}`,
      Buffer.from(encodePayload({ metrics: [{ name: 'DO/3', datatype: DataType.Boolean, value: true }] })),
      { qos: 1 },
    );
    const write = await gateways[1]!.waitEvent((e) => e.event === 'write', 'the write', 30_000);
    expect(write).toMatchObject({ deviceId: target, metric: 'DO/3', ok: true, confirmed: true });
    expect(fleet.device(index)!.device.getDigital(0, 3)).toBe(1);
    expect(gateways[0]!.events().filter((e) => e.event === 'write' || e.event === 'command-error')).toEqual(
      [],
    );

    for (const g of gateways) expect((await g.stop('SIGTERM')).code).toBe(0);
    await waitFor(() => new Set(observer.of('NDEATH').map((m) => m.edgeNodeId)).size === 2, {
      timeoutMs: 30_000,
      message: 'both NDEATHs',
    });
  }, 120_000);
});
