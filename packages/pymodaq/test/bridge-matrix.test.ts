// The bridge matrix (issue 16): instruments of every generation, through a PymodaqBridge, to a server of
// every other generation; every command of docs/protocols/pymodaq.md §7 both ways and a 2-D image, values compared on both
// ends. One process, loopback, ephemeral ports; every wait is event-based with a generous deadline.

import {
  PymodaqActuator,
  PymodaqBridge,
  PymodaqDetector,
  PymodaqServer,
  parameter,
  SimulatedStage,
} from '@labwire/pymodaq';
import {
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  type Generation,
  NdArray,
} from '@labwire/pymodaq/codec';
import { describe, expect, it } from 'vitest';
import { ALL, nextEvent, withCleanup } from './helpers';

const PAIRS: [Generation, Generation][] = ALL.flatMap((x) =>
  ALL.filter((y) => y !== x).map((y): [Generation, Generation] => [x, y]),
);

/** Data for `Send Data <dim>`: 0-D and 1-D in float64, N-D a 2 × 3 × 4 int32 stack. */
function dataFor(dim: string, seed: number): DataToExport {
  if (dim === '2D') return frame(seed);
  const array =
    dim === '0D'
      ? NdArray.fromValues([seed + 0.5], { dtype: '<f8', shape: [1] })
      : dim === '1D'
        ? NdArray.fromValues([1, 2, 3, seed], { dtype: '<f8', shape: [4] })
        : NdArray.fromValues(
            Array.from({ length: 24 }, (_, i) => i - seed),
            { dtype: '<i4', shape: [2, 3, 4] },
          );
  return dataToExport({ name: 'tcp', data: [dataFromPlugins({ name: 'probe', data: [array] })] });
}

/** A 2-D camera image (uint16, 24 × 32) and a second channel (big-endian float64, 24 × 32). */
function frame(seed: number): DataToExport {
  const pixels = new Uint16Array(24 * 32);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + seed * 101) & 0xffff;
  const image = NdArray.fromTyped(pixels, [24, 32]);
  const big = NdArray.fromValues(
    Array.from({ length: 24 * 32 }, (_, i) => Math.sin(i + seed) * 1e3),
    { dtype: '>f8', shape: [24, 32] },
  );
  const camera = dataFromPlugins({ name: 'camera', data: [image], timestamp: 1_700_000_000 + seed });
  const phase = dataFromPlugins({ name: 'phase', data: [big], timestamp: 1_700_000_000 + seed });
  return dataToExport({ name: 'tcp', data: [camera, phase], timestamp: 1_700_000_000 + seed });
}

/** The arrays of a DataToExport, in order: what every generation carries (A/B carry nothing else). */
function arrays(data: DataToExport): { dtype: string; shape: readonly number[]; hex: string }[] {
  return data.data.flatMap((dwa) =>
    dwa.data.map((a) => ({ dtype: a.dtype, shape: a.shape, hex: Buffer.from(a.data).toString('hex') })),
  );
}

describe.concurrent('bridge matrix: every instrument generation to every other server generation', () => {
  it.each(PAIRS)('%s instruments -> %s server', (x, y) =>
    withCleanup(async (track) => {
      const server = track(
        new PymodaqServer({ protocol: y, port: 0, moveTimeoutMs: 20_000, timeoutMs: 20_000 }),
      );
      const { port: serverPort } = await server.listen();
      const bridge = track(
        new PymodaqBridge({ clientProtocol: x, serverProtocol: y, port: 0, serverPort, timeoutMs: 20_000 }),
      );
      const { port } = await bridge.listen();

      const stage = new SimulatedStage({ speed: 10_000, units: 'mm' });
      const actuator = track(
        new PymodaqActuator({ protocol: x, port, units: 'mm', reconnect: false, handlers: stage.handlers() }),
      );
      const grabbed: DataToExport[] = [];
      const detector = track(
        new PymodaqDetector({
          protocol: x,
          port,
          reconnect: false,
          handlers: {
            grab: (dim) => {
              const data = dataFor(dim, grabbed.length);
              grabbed.push(data);
              return data;
            },
          },
        }),
      );

      // Identification and Infos reach the server through the bridge (the actuator's unit with them).
      const actuatorInfos = nextEvent(server, 'infos', (e) => e.client.type === 'ACTUATOR', 20_000);
      await Promise.all([actuator.connect({ timeoutMs: 20_000 }), detector.connect({ timeoutMs: 20_000 })]);
      expect((await actuatorInfos).units).toBe('mm');
      await server.waitForClient('GRABBER', { timeoutMs: 20_000 });

      // Moves and positions, with units (C4 and D carry them; the others take the unit from Infos).
      expect(await server.moveAbs(1.5)).toEqual({ value: 1.5, units: 'mm' });
      expect(await server.moveRel(0.25)).toEqual({ value: 1.75, units: 'mm' });
      expect((await server.getActuatorValue()).value).toBe(1.75);
      expect(await server.moveHome()).toEqual({ value: 0, units: 'mm' });
      expect(stage.position).toBe(0);
      const stopped = nextEvent(actuator, 'command', (e) => e.command === 'stop_motion', 20_000);
      await server.stopMotion();
      await stopped;

      // set_info (server -> instrument), Info and Info_xml (instrument -> server).
      const setInfo = nextEvent(detector, 'setInfo', () => true, 20_000);
      await server.setInfo(['exposure'], parameter('exposure', { type: 'float', value: 0.25 }), {
        type: 'GRABBER',
      });
      const applied = await setInfo;
      expect(applied.path).toEqual(['exposure']);
      expect(applied.parameter.value).toBe('0.25');
      const info = nextEvent(server, 'info', () => true, 20_000);
      await actuator.sendInfo('temperature', 21.5);
      const got = await info;
      expect(got.name).toBe('temperature');
      expect(Number(got.value)).toBe(21.5);
      const infoXml = nextEvent(server, 'infoXml', () => true, 20_000);
      await detector.updateSetting(['exposure'], parameter('exposure', { type: 'float', value: 0.5 }));
      const changed = await infoXml;
      expect(changed.path).toEqual(['exposure']);
      expect(changed.parameter.value).toBe('0.5');

      // A 2-D image with two channels, asked for and pushed: the same arrays on both ends.
      const image = await server.grab('2D');
      expect(arrays(image)).toEqual(arrays(grabbed[0]!));
      expect(image.data[0]!.data[0]!.toNumbers()).toEqual(grabbed[0]!.data[0]!.data[0]!.toNumbers());
      // The other dimensions (ND needs both ends beyond gen A, which has no Send Data ND nor 3-D arrays).
      for (const dim of x === 'A' || y === 'A' ? ['0D', '1D'] : ['0D', '1D', 'ND']) {
        const got = await server.grab(dim as '0D' | '1D' | 'ND');
        const values = (d: DataToExport) => d.data.flatMap((w) => w.data.map((a) => a.toNumbers()));
        expect(values(got)).toEqual(values(grabbed[grabbed.length - 1]!));
      }
      const pushed = nextEvent(server, 'data', (e) => !e.solicited, 20_000);
      const sent = frame(99);
      await detector.push(sent);
      expect(arrays((await pushed).data)).toEqual(arrays(sent));
      expect(bridge.counters.translationErrors).toBe(
        // Only what A/B cannot carry is reported: nothing here (no units, axes or attributes on the data).
        0,
      );

      // Quit: the instrument leaves, and the bridge says Quit to the server for it.
      const left = nextEvent(server, 'clientClosed', (e) => e.client.type === 'ACTUATOR', 20_000);
      await actuator.close();
      expect((await left).reason).toBe('Quit');
    }),
  );
});
