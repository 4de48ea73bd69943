// The scanner's building blocks: coalescing points into block reads, the lateness histogram, and the
// fleet file (JSON and YAML, every mistake reported with the path of the field).

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  checkFleetConfig,
  FleetFileError,
  fleetFileIssues,
  loadFleetFile,
  parseFleetFile,
  type ScanPoint,
} from '@labwire/optommp';
import { epicAnalogReadAddress, epicDigitalReadAddress } from '@labwire/optommp/codec';
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  EPIC_CHANNEL_STRIDE,
  scratchPadFloat32Address,
  scratchPadInt32Address,
} from '../src/codec/addresses';
import { Histogram } from '../src/scanner/histogram';
import { locate, planBlocks } from '../src/scanner/plan';

const analog = (module: number, channel: number): ScanPoint => ({ kind: 'analog', module, channel });

describe('planBlocks', () => {
  it('reads a whole module of channel values in one block when the limit allows, else in limit-sized blocks', () => {
    const points = Array.from({ length: 64 }, (_, c) => analog(2, c));
    const one = planBlocks(points, 4096);
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({
      address: epicAnalogReadAddress(2, 0),
      length: 63 * EPIC_CHANNEL_STRIDE + 4,
    });
    const chunked = planBlocks(points, 1024);
    expect(chunked).toHaveLength(4);
    for (const b of chunked) expect(b.length).toBeLessThanOrEqual(1024);
    expect(chunked.flatMap((b) => b.reads.map((r) => r.index)).sort((a, b) => a - b)).toEqual(
      points.map((_, i) => i),
    );
  });

  it('keeps far-apart points in separate blocks and adjacent ones together, in any order given', () => {
    const points: ScanPoint[] = [
      { kind: 'float32', index: 1 },
      { kind: 'int32', index: 5 },
      { kind: 'int32', index: 4 },
      { kind: 'digital', module: 1, channel: 0 },
      { kind: 'int32', index: 3 },
    ];
    const blocks = planBlocks(points, 1024);
    const byAddress = Object.fromEntries(blocks.map((b) => [b.address, b]));
    expect(byAddress[scratchPadInt32Address(3)]).toMatchObject({ length: 12 });
    expect(byAddress[scratchPadFloat32Address(1)]).toMatchObject({ length: 4 });
    expect(byAddress[epicDigitalReadAddress(1, 0)]!.reads).toEqual([{ index: 3, offset: 0, type: 'bool' }]);
    expect(blocks).toHaveLength(3);
  });

  it('every point lands in exactly one block, at its address, within the limit (property)', () => {
    const point = fc.oneof(
      fc.record({ kind: fc.constant('analog' as const), module: fc.nat(63), channel: fc.nat(63) }),
      fc.record({ kind: fc.constant('int32' as const), index: fc.nat(10_239) }),
      fc.record({
        kind: fc.constant('u32' as const),
        address: fc.integer({ min: 0xf030_0000, max: 0xf030_0400 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 4, max: 4096 }),
        (points, max) => {
          const blocks = planBlocks(points, max, 64);
          const seen = new Map<number, number>();
          for (const b of blocks) {
            expect(b.length).toBeLessThanOrEqual(Math.max(max, 4));
            for (const r of b.reads) {
              seen.set(r.index, (seen.get(r.index) ?? 0) + 1);
              expect(b.address + r.offset).toBe(locate(points[r.index]!).address);
              expect(r.offset + 4).toBeLessThanOrEqual(b.length);
            }
          }
          expect(seen.size).toBe(points.length);
          for (const n of seen.values()) expect(n).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Histogram', () => {
  it('gives quantiles to the resolution of its buckets and the exact maximum', () => {
    const h = new Histogram();
    for (let i = 1; i <= 100; i++) h.record(i / 10); // 0.1 … 10 ms
    const s = h.summary();
    expect(s.count).toBe(100);
    // Upper edges of 0.05 ms buckets.
    expect(s.p50).toBeGreaterThanOrEqual(5);
    expect(s.p50).toBeLessThanOrEqual(5.05 + 1e-9);
    expect(s.p99).toBeGreaterThanOrEqual(9.9);
    expect(s.p99).toBeLessThanOrEqual(9.95 + 1e-9);
    expect(s.max).toBe(10);
    h.record(5000);
    expect(h.summary().max).toBe(5000);
    expect(new Histogram().summary()).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});

describe('fleet file', () => {
  const yaml = `
defaults:
  port: 2001
  timeoutMs: 500
devices:
  - name: press-1
    host: 127.0.0.1
    window: 4
    groups:
      - name: fast
        periodMs: 50
        report: on-change
        deadband: 0.25
        points:
          - { kind: analog-module, module: 2, channels: 3 }
          - { kind: digital, module: 1, channel: 7, name: door }
  - name: press-2
    host: 127.0.0.2
    port: 2002
    groups:
      - name: slow
        periodMs: 1000
        points:
          - { kind: f32, address: F0D82000 }
          - { kind: u32, address: 0xF030010C }
          - { kind: uptime }
`;

  it('reads YAML (and JSON), expands module shorthands and applies the defaults', () => {
    const fleet = parseFleetFile(yaml);
    expect(fleet.devices.map((d) => [d.name, d.port, d.timeoutMs, d.window])).toEqual([
      ['press-1', 2001, 500, 4],
      ['press-2', 2002, 500, undefined],
    ]);
    expect(fleet.devices[0]!.groups[0]!.points.map((p) => p.name)).toEqual([
      'analog 2/0',
      'analog 2/1',
      'analog 2/2',
      'door',
    ]);
    expect(fleet.devices[1]!.groups[0]!.points).toEqual([
      { kind: 'f32', address: 0xf0d82000 },
      { kind: 'u32', address: 0xf030010c },
      { kind: 'uptime' },
    ]);
    expect(
      parseFleetFile(JSON.stringify(checkFleetConfig(parseFleetFile(yaml))), { format: 'json' }),
    ).toEqual(fleet);
  });

  const issuesOf = (text: string) => {
    try {
      parseFleetFile(text);
    } catch (e) {
      expect(FleetFileError.isInstance(e)).toBe(true);
      return (e as FleetFileError).issues;
    }
    throw new Error('no error');
  };

  it('names the path of every bad field', () => {
    const issues = issuesOf(`
devices:
  - name: a
    host: h
    groups:
      - name: g
        periodMs: 0
        points:
          - { kind: analog, module: 2, channel: 70 }
          - { kind: thermocouple, module: 1, channel: 1 }
          - { kind: f32, address: nothex }
`);
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('devices[0].groups[0].periodMs');
    expect(paths).toContain('devices[0].groups[0].points[0].channel');
    expect(paths).toContain('devices[0].groups[0].points[1].kind');
    expect(paths.some((p) => p.startsWith('devices[0].groups[0].points[2].address'))).toBe(true);
    expect(issues.find((i) => i.path.endsWith('periodMs'))!.message).toMatch(/>=1/);
  });

  it('refuses unknown fields, missing fields, duplicate names and broken syntax', () => {
    expect(
      issuesOf(
        'devices: [{ name: a, host: h, colour: red, groups: [{ name: g, periodMs: 10, points: [{ kind: uptime }] }] }]',
      ).map((i) => i.path),
    ).toContain('devices[0].colour');
    expect(issuesOf('devices: [{ name: a, groups: [] }]').map((i) => i.path)).toEqual(
      expect.arrayContaining(['devices[0].host', 'devices[0].groups']),
    );
    const dup =
      'devices: [{ name: a, host: h, groups: [{ name: g, periodMs: 10, points: [{ kind: uptime }] }] }, { name: a, host: h, groups: [{ name: g, periodMs: 10, points: [{ kind: uptime }] }] }]';
    expect(issuesOf(dup)).toEqual([{ path: 'devices[1].name', message: 'device name "a" is used twice' }]);
    const broken = issuesOf('devices:\n  - name: a\n   host: [');
    expect(broken[0]!.path).toBe('');
    expect(broken[0]!.message).toMatch(/line|Line|at/);
    expect(() => parseFleetFile('{', { format: 'json' })).toThrow(FleetFileError);
  });

  it('reads a file; a file that cannot be read is a FleetFileError too, with the cause', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labwire-fleet-'));
    try {
      const file = path.join(dir, 'fleet.json');
      await fs.writeFile(
        file,
        JSON.stringify({
          devices: [
            { name: 'a', host: 'h', groups: [{ name: 'g', periodMs: 10, points: [{ kind: 'uptime' }] }] },
          ],
        }),
      );
      expect((await loadFleetFile(file)).devices.map((d) => d.name)).toEqual(['a']);
      const missing = path.join(dir, 'missing.yaml');
      const error = await loadFleetFile(missing).catch((e: unknown) => e);
      expect(FleetFileError.isInstance(error)).toBe(true);
      expect((error as FleetFileError).issues).toEqual([
        { path: '', message: 'cannot read it: no such file' },
      ]);
      expect((error as FleetFileError).message).toContain(missing);
      expect(((error as FleetFileError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a program with sections of its own checks the parsed value itself, its issues said the same way', () => {
    const seen: [unknown, string | undefined][] = [];
    const out = parseFleetFile('extra: 1\ndevices: []', {
      source: 'x.yaml',
      check: (input, source) => {
        seen.push([input, source]);
        return 'checked';
      },
    });
    expect(out).toBe('checked');
    expect(seen).toEqual([[{ extra: 1, devices: [] }, 'x.yaml']]);
    // Syntax errors are still the fleet file's.
    expect(() => parseFleetFile('{', { format: 'json', check: () => 0 })).toThrow(FleetFileError);
    const section = v.strictObject({ groupId: v.pipe(v.string(), v.minLength(1)), port: v.number() });
    const result = v.safeParse(section, { groupId: '', port: 'x', colour: 1 });
    expect(result.success).toBe(false);
    expect(fleetFileIssues(result.issues!, 'sparkplug')).toEqual([
      { path: 'sparkplug.groupId', message: expect.stringMatching(/>=1/) },
      { path: 'sparkplug.port', message: 'expected number, got "x"' },
      { path: 'sparkplug.colour', message: 'expected never, got "colour"' },
    ]);
  });
});
