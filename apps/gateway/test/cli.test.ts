// The labwire-gateway program as a user runs it (the built dist/main.js): help and version, exit statuses,
// configuration errors with their paths, `check`, the embedded broker, `watch`, the demo.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runApp } from '@labwire/cli-kit/testing';
import { SimulatedFleet } from '@labwire/optommp/simulator';
import { waitFor } from '@labwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, fleetConfig, GatewayProcess, main, tempDir, writeConfig } from './helpers';
import { Observer } from './observer';

const version = (
  JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { version: string }
).version;
const noStack = /\n\s+at /;
const gateway = (args: string[], env?: NodeJS.ProcessEnv) =>
  runApp(main(), args, { env: { ...process.env, COLUMNS: '100', ...env }, timeoutMs: 60_000 });

let dir: string;
let fleet: SimulatedFleet;
beforeAll(async () => {
  dir = tempDir();
  fleet = await SimulatedFleet.start({ count: 3 });
});
afterAll(async () => {
  await fleet.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

// Every test starts whole programs (several, some in sequence): on a shared, loaded machine that takes
// seconds each, so each test has a generous deadline (nothing here asserts a time).
describe('the command line', () => {
  it('--version, --help (fits 80 columns)', async () => {
    const v = await gateway(['--version']);
    expect(v).toMatchObject({ code: 0, stdout: `${version}\n` });
    const h = await gateway(['--help'], { COLUMNS: '80' });
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: labwire-gateway /);
    expect(h.stdout).toContain('--demo');
    for (const line of h.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    const r = await gateway(['run', '--help'], { COLUMNS: '80' });
    expect(r.stdout).toMatch(/--broker <url>/);
    expect(r.stdout).toMatch(/--shard <i\/n>/);
  }, 120_000);

  it('usage mistakes exit 2 without a stack, in text and in JSON', async () => {
    const none = await gateway([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^labwire-gateway: a configuration file is needed/);
    const config = writeConfig(dir, fleetConfig(fleet.ports), 'usage.json');
    const cases = [
      [config, '--shard', '3/2'],
      [config, '--bogus'],
      [config, '--broker', 'http://x'],
      [config, '--broker', 'mqtt://127.0.0.1:1', '--port', '5'],
      [config, '--host', '0.0.0.0'],
      [config, '--edge-node-id', 'a/b'],
      ['--demo', config],
    ];
    // One process each, all at once (each is a whole program start).
    const results = await Promise.all(cases.map((args) => gateway(args)));
    for (const [i, r] of results.entries()) {
      expect(r.code, cases[i]!.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(noStack);
    }
    const j = await gateway([config, '--shard', '0/2', '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stderr)).toMatchObject({ error: { kind: 'usage' } });
  }, 120_000);

  it('configuration errors exit 2 and name the bad fields by their paths', async () => {
    const bad = writeConfig(
      dir,
      [
        'sparkplug: { groupId: "a/b" }',
        'devices:',
        '  - name: epic-1',
        '    host: 127.0.0.1',
        '    groups:',
        '      - { name: g, periodMs: 0, points: [{ kind: uptime, writable: true }] }',
      ].join('\n'),
      'bad.yaml',
    );
    const r = await gateway([bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sparkplug.groupId');
    expect(r.stderr).toContain('devices[0].groups[0].periodMs');
    expect(r.stderr).toContain('devices[0].groups[0].points[0].writable: uptime is read-only');
    expect(r.stderr).not.toMatch(noStack);
    const j = await gateway([bad, '--json']);
    expect(j.code).toBe(2);
    const error = (JSON.parse(j.stderr) as { error: { code: string; issues: { path: string }[] } }).error;
    expect(error.code).toBe('GatewayConfigInvalid');
    expect(error.issues.map((i) => i.path)).toEqual([
      'sparkplug.groupId',
      'devices[0].groups[0].periodMs',
      'devices[0].groups[0].points[0].writable',
    ]);
    const missing = await gateway([path.join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml is invalid: cannot read it: no such file/);
    const check = await gateway(['check', bad]);
    expect(check.code).toBe(2);
  }, 120_000);

  it('check: the shards cover every device exactly once, each with its own edge node id', async () => {
    const ports = Array.from({ length: 12 }, (_, i) => 20_000 + i);
    const config = fleetConfig(ports, { edgeNodeId: 'gw-{shard}' });
    (config.devices as Array<Record<string, unknown>>)[5]!.shard = 1; // pinned
    const file = writeConfig(dir, config, 'shards.json');
    const all = JSON.parse((await gateway(['check', file, '--json'])).stdout) as {
      devices: { deviceId: string }[];
    };
    expect(all.devices).toHaveLength(12);
    const shards = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const r = await gateway(['check', file, '--shard', `${i}/3`, '--json']);
        expect(r.code).toBe(0);
        return JSON.parse(r.stdout) as { edgeNodeId: string; devices: { deviceId: string; shard: number }[] };
      }),
    );
    expect(shards.map((s) => s.edgeNodeId)).toEqual(['gw-1', 'gw-2', 'gw-3']);
    const ids = shards.flatMap((s) => s.devices.map((d) => d.deviceId));
    expect(ids.sort()).toEqual(all.devices.map((d) => d.deviceId).sort());
    expect(shards[0]!.devices.map((d) => d.deviceId)).toContain('epic-6');
    expect(shards.every((s, i) => s.devices.every((d) => d.shard === i + 1))).toBe(true);
    const text = await gateway(['check', file, '--shard', '2/3']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /valid; 12 devices in all\nshard 2\/3: edge node Test\/gw-2, \d+ devices?, \d+ metrics \(\d+ writable\)\n/,
    );
    expect(text.stdout).toMatch(/device\s+address\s+metrics\s+writable\s+groups/);
  }, 120_000);
});

describe('the embedded broker', () => {
  it('listens on 127.0.0.1, tells how to subscribe, serves a host that asks for a rebirth; SIGTERM: NDEATH, broker closed', async () => {
    const config = writeConfig(dir, fleetConfig(fleet.ports.slice(0, 2)), 'embedded.json');
    const gw = new GatewayProcess([config, '--port', '0']);
    try {
      const first = await gw.app.firstLine();
      const port = Number(/^listening on 127\.0\.0\.1:(\d+)$/.exec(first)?.[1]);
      expect(port).toBeGreaterThan(0);
      await waitFor(() => gw.app.stdout().includes('mosquitto_sub'), { message: 'the subscribe hints' });
      expect(gw.app.stdout()).toContain(`labwire-gateway watch --broker mqtt://127.0.0.1:${port}`);
      // A host that comes late asks for a rebirth, as Sparkplug hosts do.
      const observer = await Observer.start(`mqtt://127.0.0.1:${port}`);
      try {
        const { DataType, encodePayload } = await import('@labwire/sparkplug/codec');
        await observer.client.publishAsync(
          'spBv1.0/Test/NCMD/gw',
          Buffer.from(
            encodePayload({
              metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: true }],
            }),
          ),
        );
        await observer.waitFor('NBIRTH');
        await observer.waitFor('DBIRTH', 2);
        const r = await gw.stop('SIGTERM');
        expect(r.code).toBe(0);
        await observer.waitFor('NDEATH');
      } finally {
        await observer.close();
      }
      expect(await refused(port)).toBe(true);
      expect(gw.app.stderr()).toMatch(/device online/);
    } finally {
      await gw.stop('SIGKILL');
    }
  }, 120_000);

  it('a port in use is a failure at run time (exit 1), not a usage error', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const config = writeConfig(dir, fleetConfig(fleet.ports), 'busy.json');
      const r = await gateway([config, '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 120_000);
});

describe('watch', () => {
  it('decodes what an edge node publishes, asks a missed node for a rebirth, ends after --duration', async () => {
    const config = writeConfig(dir, fleetConfig(fleet.ports.slice(0, 1)), 'watched.json');
    const gw = new GatewayProcess([config, '--port', '0', '--json']);
    try {
      const started = await gw.waitEvent((e) => e.event === 'started', 'started');
      const url = (started.broker as { url: string }).url;
      await gw.waitEvent((e) => e.event === 'birth', 'birth');
      const r = await gateway(['watch', '--broker', url, '--rebirth', '--duration', '2', '--json']);
      expect(r.code).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ event: 'watching', broker: url });
      const types = lines.map((l) => l.type);
      expect(types).toContain('NBIRTH');
      expect(types).toContain('DBIRTH');
      expect(types).toContain('DDATA');
      const afterBirth = lines.slice(lines.findIndex((l) => l.type === 'NBIRTH'));
      expect(afterBirth.every((l) => l.problems === undefined)).toBe(true);
      const text = await gateway(['watch', '--broker', url, '--rebirth', '--duration', '1.5']);
      expect(text.stdout).toMatch(/^watching spBv1\.0\/\+\/# on mqtt:\/\/127\.0\.0\.1:\d+\n/);
      expect(text.stdout).toMatch(/\d\d:\d\d:\d\d\.\d{3} DBIRTH Test\/gw\/epic-1 seq \d+: AI\/0=/);
      for (const line of text.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    } finally {
      await gw.stop('SIGKILL');
    }
  }, 120_000);

  it('a broker that refuses: exit 1 with the reason', async () => {
    const r = await gateway(['watch', '--broker', 'mqtt://127.0.0.1:1', '--duration', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot subscribe on mqtt:\/\/127\.0\.0\.1:1: connection refused/);
  }, 120_000);
});

describe('--demo', () => {
  it('a simulated fleet, the gateway and a subscriber in one command; a clean summary', async () => {
    const r = await gateway(['--demo', '--devices', '3', '--duration', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: 'started', demo: true, devices: ['epic-1', 'epic-2', 'epic-3'] });
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ event: 'summary', ok: true, problems: 0, devices: 3, devicesBorn: 3 });
    expect((summary.counts as Record<string, number>).DDATA).toBeGreaterThan(0);
    expect((summary.counts as Record<string, number>).NDEATH).toBe(1);
    // The script's first step (a DCMD at 3 s), confirmed.
    expect(lines.find((l) => l.event === 'write')).toMatchObject({
      metric: 'Outputs/Digital/0',
      ok: true,
      confirmed: true,
    });
  }, 120_000);
});
