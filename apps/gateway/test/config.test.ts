// The configuration file and sharding, in process.

import { DataType } from '@labwire/sparkplug/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkGatewayConfig, GatewayConfigError, parseGatewayConfig } from '../src/config';
import { devicesOf, edgeNodeIdFor, fnv1a, parseShard, shardOf } from '../src/shard';

const yaml = `
sparkplug:
  groupId: Lab
  edgeNodeId: gw-{shard}
  broker: mqtt://127.0.0.1:1883
defaults: { timeoutMs: 500, maxBlockBytes: 4096 }
devices:
  - name: press-1
    host: 127.0.0.1
    port: 2001
    groups:
      - name: fast
        periodMs: 100
        deadband: 0.05
        points:
          - { kind: analog-module, module: 2, channels: 3 }
          - { kind: digital, module: 0, channel: 3, name: Heater, writable: true }
      - name: slow
        periodMs: 1000
        report: every-scan
        points:
          - { kind: uptime }
          - { kind: f32, address: F0D82000, name: Setpoint, writable: true }
          - { kind: int32, index: 7 }
  - name: press/2
    deviceId: press-2
    shard: 2
    host: 127.0.0.1
    groups:
      - name: g
        periodMs: 50
        points: [{ kind: digital-module, module: 0, channels: 2, writable: true }]
`;

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    checkGatewayConfig(input);
  } catch (error) {
    if (GatewayConfigError.isInstance(error)) return [...error.issues];
    throw error;
  }
  throw new Error('no error');
}

const device = (extra: Record<string, unknown> = {}, point: Record<string, unknown> = {}) => ({
  name: 'd',
  host: 'h',
  groups: [{ name: 'g', periodMs: 10, points: [{ kind: 'analog', module: 0, channel: 0, ...point }] }],
  ...extra,
});

describe('the configuration file', () => {
  it('is a fleet file plus a sparkplug section: metric names, datatypes, writable points, defaults', () => {
    const config = parseGatewayConfig(yaml);
    expect(config.sparkplug).toMatchObject({
      groupId: 'Lab',
      edgeNodeId: 'gw-{shard}',
      broker: ['mqtt://127.0.0.1:1883'],
    });
    const [press1, press2] = config.devices;
    expect(press1!.deviceId).toBe('press-1');
    expect(press1!.scan).toMatchObject({
      name: 'press-1',
      host: '127.0.0.1',
      port: 2001,
      timeoutMs: 500,
      maxBlockBytes: 4096,
    });
    // The scanner reports every scan; report by exception is the gateway's.
    expect(press1!.scan.groups.map((g) => g.report)).toEqual(['every-scan', 'every-scan']);
    const fast = press1!.groups[0]!;
    expect(fast).toMatchObject({ name: 'fast', report: 'on-change', deadband: 0.05 });
    expect(fast.metrics.map((m) => [m.name, m.datatype, m.writable])).toEqual([
      ['analog 2/0', DataType.Float, false],
      ['analog 2/1', DataType.Float, false],
      ['analog 2/2', DataType.Float, false],
      ['Heater', DataType.Boolean, true],
    ]);
    const slow = press1!.groups[1]!;
    expect(slow.report).toBe('every-scan');
    expect(slow.metrics.map((m) => [m.name, m.datatype, m.writable])).toEqual([
      ['uptime', DataType.UInt32, false],
      ['Setpoint', DataType.Float, true],
      ['int32[7]', DataType.Int32, false],
    ]);
    expect(press2).toMatchObject({ deviceId: 'press-2', shard: 2, index: 1 });
    expect(press2!.groups[0]!.metrics.map((m) => [m.name, m.writable])).toEqual([
      ['digital 0/0', true],
      ['digital 0/1', true],
    ]);
  });

  it('names every bad field by its path, the fleet file’s and the gateway’s alike', () => {
    expect(
      issuesOf({
        sparkplug: { groupId: 'a/b', broker: 'http://x', protocolVersion: 3, color: 'red' },
        devices: [
          device({}, { writable: 'yes' }),
          {
            ...device({ name: 'e' }),
            groups: [{ name: 'g', periodMs: 0, points: [{ kind: 'uptime', writable: true }] }],
          },
          device({ name: 'f', deviceId: 'x+y', shard: 0 }),
        ],
      }).map((i) => i.path),
    ).toEqual([
      'sparkplug.groupId',
      'sparkplug.broker',
      'sparkplug.protocolVersion',
      'sparkplug.color',
      'devices[1].groups[0].periodMs',
      'devices[0].groups[0].points[0].writable',
      'devices[1].groups[0].points[0].writable',
      'devices[2].deviceId',
      'devices[2].shard',
    ]);
    expect(
      issuesOf({
        devices: [
          device({}, { writable: 'yes' }),
          {
            ...device({ name: 'e' }),
            groups: [{ name: 'g', periodMs: 0, points: [{ kind: 'uptime', writable: true }] }],
          },
          device({ name: 'f', deviceId: 'x+y', shard: 0 }),
        ],
      }),
    ).toEqual([
      { path: 'devices[1].groups[0].periodMs', message: expect.stringMatching(/>=1/) },
      { path: 'devices[0].groups[0].points[0].writable', message: 'expected a boolean, got string' },
      { path: 'devices[1].groups[0].points[0].writable', message: 'uptime is read-only' },
      { path: 'devices[2].deviceId', message: "a Sparkplug id must not contain '+', '/' or '#'" },
      { path: 'devices[2].shard', message: expect.stringMatching(/>=1/) },
    ]);
  });

  it('refuses names a Sparkplug host could not tell apart', () => {
    expect(
      issuesOf({
        devices: [
          device({ name: 'a/b' }),
          device({ name: 'x' }),
          device({ name: 'y', deviceId: 'x' }),
          {
            name: 'z',
            host: 'h',
            groups: [
              { name: 'g1', periodMs: 10, points: [{ kind: 'analog', module: 0, channel: 1 }] },
              {
                name: 'g2',
                periodMs: 10,
                points: [
                  { kind: 'analog-module', module: 0, channels: 2 },
                  { kind: 'uptime', name: 'bdSeq' },
                ],
              },
            ],
          },
        ],
      }),
    ).toEqual([
      { path: 'devices[0].name', message: expect.stringContaining('give the device a deviceId') },
      { path: 'devices[2].deviceId', message: 'device id "x" is used twice (also devices[1])' },
      {
        path: 'devices[3].groups[1].points[0]',
        message: expect.stringContaining(
          'metric name "analog 0/1" is used twice in device "z" (also devices[3].groups[0].points[0])',
        ),
      },
      { path: 'devices[3].groups[1].points[1]', message: 'metric name "bdSeq" is reserved by Sparkplug' },
    ]);
  });

  it('a syntax error is an issue with no path; unknown top-level keys are refused', () => {
    const e = (() => {
      try {
        parseGatewayConfig('devices: [ {', { source: 'x.yaml' });
      } catch (error) {
        return error as GatewayConfigError;
      }
    })();
    expect(GatewayConfigError.isInstance(e)).toBe(true);
    expect(e!.issues[0]!.path).toBe('');
    expect(e!.message).toMatch(/^configuration x\.yaml is invalid: /);
    expect(issuesOf({ devices: [device()], device: [] }).map((i) => i.path)).toEqual(['device']);
    expect(issuesOf({}).map((i) => i.path)).toEqual(['devices']);
  });

  it('any input either resolves or throws GatewayConfigError (never another error)', () => {
    const point = fc.record(
      {
        kind: fc.constantFrom('analog', 'digital', 'uptime', 'analog-module', 'int32', 'f32', 'bogus'),
        module: fc.oneof(fc.integer({ min: -1, max: 70 }), fc.string()),
        channel: fc.integer({ min: -1, max: 70 }),
        index: fc.integer({ min: -1, max: 20_000 }),
        address: fc.oneof(fc.constant('F0D82000'), fc.integer()),
        name: fc.oneof(fc.string(), fc.constant('bdSeq')),
        writable: fc.oneof(fc.boolean(), fc.string()),
        channels: fc.integer({ min: 0, max: 70 }),
      },
      { requiredKeys: ['kind'] },
    );
    const dev = fc.record(
      {
        name: fc.oneof(fc.constantFrom('a', 'b', 'a/b'), fc.string()),
        host: fc.string(),
        deviceId: fc.oneof(fc.constantFrom('a', 'x+y'), fc.anything()),
        shard: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.anything()),
        groups: fc.oneof(
          fc.array(
            fc.record({
              name: fc.constantFrom('g', 'h'),
              periodMs: fc.integer({ min: -1, max: 100 }),
              points: fc.array(point, { maxLength: 4 }),
            }),
            { maxLength: 3 },
          ),
          fc.anything(),
        ),
      },
      { requiredKeys: ['name', 'host'] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              devices: fc.array(dev, { maxLength: 4 }),
              sparkplug: fc.oneof(fc.anything(), fc.record({ groupId: fc.string() })),
            },
            { requiredKeys: ['devices'] },
          ),
        ),
        (input) => {
          try {
            const config = checkGatewayConfig(input);
            expect(config.devices.length).toBeGreaterThan(0);
          } catch (error) {
            if (!GatewayConfigError.isInstance(error)) throw error;
            expect(error.issues.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('sharding', () => {
  it('--shard i/n', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/2', '3/2', '1', '1/0', 'a/b', '1/2000', '-1/2'])
      expect(() => parseShard(bad)).toThrow(/i\/n/);
  });

  it('edge node ids: {shard} replaced, else -i appended when there are several shards', () => {
    expect(edgeNodeIdFor('gw-{shard}', { index: 2, count: 3 })).toBe('gw-2');
    expect(edgeNodeIdFor('gw', { index: 2, count: 3 })).toBe('gw-2');
    expect(edgeNodeIdFor('gw', { index: 1, count: 1 })).toBe('gw');
  });

  it('FNV-1a, 32-bit (published test values)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('every device in exactly one shard, and adding devices never moves another', () => {
    const ids = fc.uniqueArray(
      fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[+/#]/.test(s)),
      {
        minLength: 1,
        maxLength: 40,
      },
    );
    fc.assert(
      fc.property(ids, ids, fc.integer({ min: 1, max: 8 }), (a, b, count) => {
        const config = (names: string[]) =>
          checkGatewayConfig({ devices: names.map((name) => device({ name })) });
        const before = config(a);
        const shards = Array.from({ length: count }, (_, i) => devicesOf(before, { index: i + 1, count }));
        const all = shards.flat().map((d) => d.deviceId);
        expect(all.sort()).toEqual([...a].sort());
        const after = config([...new Set([...b, ...a])]);
        for (const d of before.devices) {
          const moved = after.devices.find((x) => x.deviceId === d.deviceId)!;
          expect(shardOf(moved, count)).toBe(shardOf(d, count));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a device pinned above n is a configuration error with its path', () => {
    const config = checkGatewayConfig({ devices: [device({ name: 'a' }), device({ name: 'b', shard: 3 })] });
    expect(devicesOf(config, { index: 3, count: 3 }).map((d) => d.deviceId)).toContain('b');
    expect(() => devicesOf(config, { index: 1, count: 2 })).toThrow(
      /devices\[1\]\.shard: shard 3 but the gateway runs 2 shards/,
    );
  });
});
