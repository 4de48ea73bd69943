// The actuator and detector clients against the server, over loopback, for every wire generation and
// every command of docs/protocols/pymodaq.md §7.

import {
  GaussianDetector,
  PymodaqActuator,
  PymodaqDetector,
  type PymodaqServer,
  parameter,
  SimulatedStage,
} from '@labwire/pymodaq';
import { type DataToExport, dataFromPlugins, dataToExport, NdArray } from '@labwire/pymodaq/codec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL, image, nextEvent, startServer } from './helpers';

const UNITS_ON_WIRE = new Set(['C4', 'D']);

/** Deterministic data per dimension, so what arrives can be compared byte for byte. */
function dataFor(dim: string): DataToExport {
  const camera = new GaussianDetector({ width: 6, height: 4, seed: 7 });
  return camera.grab(dim as '0D' | '1D' | '2D' | 'ND');
}

describe.each(ALL)('generation %s: clients against the server', (gen) => {
  let server: PymodaqServer;
  let stage: SimulatedStage;
  let actuator: PymodaqActuator;
  let detector: PymodaqDetector;
  const sent = new Map<string, DataToExport>();

  beforeEach(async () => {
    const started = await startServer(gen, { moveTimeoutMs: 10_000 });
    server = started.server;
    stage = new SimulatedStage({ speed: 500, units: 'mm' });
    actuator = new PymodaqActuator({
      protocol: gen,
      port: started.port,
      units: 'mm',
      reconnect: false,
      handlers: stage.handlers(),
    });
    detector = new PymodaqDetector({
      protocol: gen,
      port: started.port,
      reconnect: false,
      handlers: {
        grab: (dim) => {
          const data = dataFor(dim);
          sent.set(dim, data);
          return data;
        },
      },
    });
    const infos = nextEvent(server, 'infos', (e) => e.client.type === 'ACTUATOR');
    await Promise.all([actuator.connect(), detector.connect()]);
    await infos;
    await server.waitForClient('GRABBER');
  });

  afterEach(async () => {
    await Promise.all([actuator.close(), detector.close()]);
    await server.close();
  });

  it('identifies both clients; Infos carries the actuator unit in a units child', () => {
    const clients = server.clients;
    expect(clients.map((c) => c.type).sort()).toEqual(['ACTUATOR', 'GRABBER']);
    const act = clients.find((c) => c.type === 'ACTUATOR')!;
    expect(act.units).toBe('mm');
    expect(act.settings?.children.find((c) => c.name === 'units')?.attributes.type).toBe('str');
  });

  it('move_abs, move_rel and move_home answer move_done with the position reached', async () => {
    const abs = await server.moveAbs(1.5);
    expect(abs.value).toBe(1.5);
    expect(abs.units).toBe('mm');
    // move_rel: the client computes the new absolute position (docs/protocols/pymodaq.md §8.2).
    const rel = await server.moveRel(0.5);
    expect(rel.value).toBe(2);
    expect(stage.position).toBe(2);
    const home = await server.moveHome();
    expect(home.value).toBe(0);
    expect(stage.position).toBe(0);
  });

  it(`answers ${gen === 'A' ? 'check_position' : 'get_actuator_value'} with position_is`, async () => {
    const command = nextEvent(actuator, 'command');
    await server.moveAbs(-3.25);
    expect((await command).command).toBe('move_abs');
    const seen = nextEvent(actuator, 'command');
    const position = await server.getActuatorValue();
    expect(position.value).toBe(-3.25);
    expect((await seen).command).toBe(gen === 'A' ? 'check_position' : 'get_actuator_value');
  });

  it('stop_motion stops a running move, which still ends with move_done where the stage stopped', async () => {
    // A slow stage (5 mm/s) replaces the fast one, so the move is still running when stop_motion comes.
    const slow = new SimulatedStage({ speed: 5 });
    await actuator.close();
    const started = nextEvent(server, 'client', (c) => c.type === 'ACTUATOR');
    actuator = new PymodaqActuator({
      protocol: gen,
      port: server.address!.port,
      units: 'mm',
      reconnect: false,
      handlers: slow.handlers(),
    });
    await actuator.connect();
    await started;
    const move = server.moveAbs(100);
    await nextEvent(actuator, 'command', (e) => e.command === 'move_abs');
    await server.stopMotion();
    const stopped = await move;
    expect(slow.moving).toBe(false);
    expect(stopped.value).toBeLessThan(100);
    expect(stopped.value).toBe(slow.position);
    // The next move works as usual.
    expect((await server.moveAbs(stopped.value)).value).toBe(stopped.value);
  });

  it('set_info changes a client parameter; the first path element is a root name both sides drop', async () => {
    const applied = nextEvent(actuator, 'setInfo');
    await server.setInfo(['units'], parameter('units', { type: 'str', value: 'um' }), { type: 'ACTUATOR' });
    const event = await applied;
    expect(event.path).toEqual(['units']);
    expect(actuator.units).toBe('um');
    const position = await server.moveAbs(4);
    if (UNITS_ON_WIRE.has(gen)) expect(position.units).toBe('um');
    const onDetector = nextEvent(detector, 'setInfo');
    await server.setInfo(
      ['exposure'],
      parameter('exposure', { type: 'float', value: 0.25, title: 'Exposure' }),
      {
        type: 'GRABBER',
      },
    );
    expect((await onDetector).parameter.value).toBe('0.25');
    expect(detector.settings.children.find((c) => c.name === 'exposure')?.value).toBe('0.25');
  });

  const dims = gen === 'A' ? (['0D', '1D', '2D'] as const) : (['0D', '1D', '2D', 'ND'] as const);
  it.each(dims)('Send Data %s answers Done with the data', async (dim) => {
    const data = await server.grab(dim);
    const original = sent.get(dim)!.data[0]!.data[0]!;
    const got = data.data[0]!.data[0]!;
    expect(got.dtype).toBe(original.dtype);
    expect(got.size).toBe(original.size);
    expect(Buffer.from(got.data).equals(Buffer.from(original.data))).toBe(true);
    // A/B squeeze (a single value arrives 0-d); C/D apply atleast_1d (docs/protocols/pymodaq.md §2).
    if (dim === '0D') expect(got.shape).toEqual(gen === 'A' || gen === 'B' ? [] : [1]);
    else expect(got.shape).toEqual(original.shape);
    if (gen !== 'A' && gen !== 'B') expect(data.data[0]!.dim).toBe(`Data${dim}`);
  });

  it('pushes Done without being asked; Info and Info_xml reach the server', async () => {
    const data = nextEvent(server, 'data');
    await detector.push(image(5, 2));
    const pushed = await data;
    expect(pushed.solicited).toBe(false);
    expect(pushed.data.data[0]!.data[0]!.size).toBe(10);

    const info = nextEvent(server, 'info');
    await actuator.sendInfo('temperature', 21.5);
    const got = await info;
    expect(got.name).toBe('temperature');
    expect(Number(got.value)).toBe(21.5);

    const infoXml = nextEvent(server, 'infoXml');
    await detector.updateSetting(['exposure'], parameter('exposure', { type: 'float', value: 0.5 }));
    const xml = await infoXml;
    expect(xml.path).toEqual(['exposure']);
    expect(xml.parameter.value).toBe('0.5');
    expect(xml.parameter.attributes.type).toBe('float');
  });

  it('close() sends Quit: the server drops the client as a clean goodbye', async () => {
    const closed = nextEvent(server, 'clientClosed', (e) => e.client.type === 'GRABBER');
    await detector.close();
    expect((await closed).reason).toBe('Quit');
    expect(server.clients.map((c) => c.type)).toEqual(['ACTUATOR']);
  });
});

describe('data arrays of several channels and dtypes', () => {
  it.each(ALL)('generation %s keeps dtype, shape and bytes', async (gen) => {
    const { server, port } = await startServer(gen, { role: 'detector' });
    const arrays = [
      NdArray.fromTyped(Int32Array.from([1, -2, 3, -4, 5, 6]), [2, 3]),
      NdArray.fromTyped(Uint16Array.from([7, 8, 9]), [3]),
    ];
    const detector = new PymodaqDetector({
      protocol: gen,
      port,
      reconnect: false,
      handlers: {
        grab: () =>
          dataToExport({
            name: 'multi',
            data: [
              dataFromPlugins({ name: 'a', dim: 'Data2D', data: [arrays[0]!] }),
              dataFromPlugins({ name: 'b', dim: 'Data1D', data: [arrays[1]!] }),
            ],
          }),
      },
    });
    try {
      await detector.connect();
      await server.waitForClient('GRABBER');
      const data = await server.grab('2D');
      const got = data.data.flatMap((c) => c.data);
      expect(got.map((a) => a.dtype)).toEqual(['<i4', '<u2']);
      expect(got.map((a) => [...a.shape])).toEqual([[2, 3], [3]]);
      expect(got.map((a) => a.toNumbers())).toEqual([
        [1, -2, 3, -4, 5, 6],
        [7, 8, 9],
      ]);
    } finally {
      await detector.close();
      await server.close();
    }
  });
});
