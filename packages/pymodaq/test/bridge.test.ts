// PymodaqBridge beyond the matrix: the latest-wins rule for detector data, no loss and bounded queues for
// commands, reconnects on both sides, several instruments, replies for a server link that is gone,
// rejected handshakes on both sides, translation errors, axes between A/B and C/D. Real sockets on
// loopback; every wait is event-based with a generous deadline.

import net from 'node:net';
import { ByteReader } from '@labwire/framing';
import {
  PymodaqActuator,
  PymodaqBridge,
  PymodaqDetector,
  PymodaqServer,
  parameter,
  SimulatedStage,
  TranslationError,
} from '@labwire/pymodaq';
import {
  type Axis,
  axis,
  type DataWithAxes,
  dataFromPlugins,
  dataToExport,
  dataWithAxes,
  type Generation,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { activeResources, resourcesLeftOver, sleep, waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { nextEvent, RawClient, withCleanup } from './helpers';

type Track = <U extends { close(): unknown }>(x: U) => U;

async function startBridge(
  track: Track,
  options: Omit<ConstructorParameters<typeof PymodaqBridge>[0], 'port'> & { port?: number },
): Promise<{ bridge: PymodaqBridge; port: number }> {
  const bridge = track(new PymodaqBridge({ port: 0, timeoutMs: 20_000, ...options }));
  const { port } = await bridge.listen();
  return { bridge, port };
}

async function startServer(track: Track, protocol: Generation, port = 0, role?: 'actuator' | 'detector') {
  const server = track(new PymodaqServer({ protocol, port, role, timeoutMs: 20_000, moveTimeoutMs: 20_000 }));
  const address = await server.listen();
  return { server, port: address.port };
}

/** A `width` × `height` float64 frame whose pixels all hold `id` (so a received frame names itself). */
function numbered(id: number, width: number, height: number) {
  const pixels = new Float64Array(width * height).fill(id);
  return dataToExport({
    name: 'tcp',
    data: [dataFromPlugins({ name: 'camera', data: [NdArray.fromTyped(pixels, [height, width])] })],
  });
}

/**
 * A PyMoDAQ server of generation `protocol` written by hand: it takes the first client, reads its
 * identification, and then reads nothing until `resume()` (a server slower than the instrument).
 */
async function stalledServer(protocol: Generation) {
  const profile = resolveProfile(protocol, { limits: { maxFrameBytes: 64 * 1024 * 1024 } });
  let reader: ByteReader | undefined;
  let socket: net.Socket | undefined;
  const server = net.createServer();
  const connected = new Promise<void>((resolve) => {
    server.once('connection', (s: net.Socket) => {
      socket = s;
      s.on('error', () => {});
      reader = new ByteReader(s, { maxFrame: 64 * 1024 * 1024, maxBuffer: 64 * 1024 });
      resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    profile,
    connected,
    get reader() {
      return reader!;
    },
    close: async () => {
      reader?.close();
      socket?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('detector data: latest wins when the server is slower', () => {
  it('frames arrive newest-last and in order; the ones replaced while waiting are counted', () =>
    withCleanup(async (track) => {
      const upstream = track(await stalledServer('D'));
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C4',
        serverProtocol: 'D',
        serverPort: upstream.port,
      });
      const detector = track(
        new PymodaqDetector({
          protocol: 'C4',
          port,
          reconnect: false,
          handlers: { grab: () => numbered(0, 1, 1) },
        }),
      );
      await detector.connect({ timeoutMs: 10_000 });
      await upstream.connected;
      const reader = upstream.reader;
      const p = upstream.profile;
      expect(await p.readCommand(reader, { timeoutMs: 10_000 })).toBe('GRABBER');
      expect(await p.readCommand(reader, { timeoutMs: 10_000 })).toBe('Infos');
      await p.readString(reader, { timeoutMs: 10_000 });
      // 40 frames of 1 MiB while the server reads nothing: far beyond what the sockets buffer.
      const pushed = 40;
      for (let id = 1; id <= pushed; id++) await detector.push(numbered(id, 256, 512));
      await waitFor(() => bridge.counters.framesReplaced > 0 || undefined, { timeoutMs: 20_000 });
      // The server catches up: frames written before it stalled, the one being written, then the newest.
      const got: number[] = [];
      while (got[got.length - 1] !== pushed) {
        expect(await p.readCommand(reader, { timeoutMs: 10_000 })).toBe('Done');
        const data = await p.readDetectorData(reader, { timeoutMs: 10_000 });
        got.push(Number(data.data[0]!.data[0]!.get(0)));
      }
      expect(got).toEqual([...got].sort((a, b) => a - b));
      expect(new Set(got).size).toBe(got.length);
      expect(got.length + bridge.counters.framesReplaced).toBe(pushed);
      expect(got.length).toBeLessThan(pushed);
    }));
});

describe('commands and settings are never dropped', () => {
  it('an instrument that does not read holds the server back; nothing is lost when it reads again', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'D', 0, 'detector');
      const maxQueued = 4;
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C4',
        serverProtocol: 'D',
        serverPort,
        maxQueuedMessages: maxQueued,
      });
      const c = await RawClient.connect(port, 'C4');
      track({ close: () => c.destroy() });
      c.identify('GRABBER');
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      c.socket.pause();
      // 96 set_info of 256 KiB each (24 MiB) while the instrument reads nothing: more than the sockets
      // between server, bridge and instrument buffer (with 48, the kernel's loopback buffers took 40–48
      // of them, so the server could finish while the bridge held back exactly as it should).
      const total = 96;
      const note = (i: number) => `${String(i).padStart(4, '0')}${'x'.repeat(256 * 1024)}`;
      let sent = 0;
      const sending = (async () => {
        for (let i = 0; i < total; i++) {
          await server.setInfo(['notes'], parameter('notes', { type: 'text', value: note(i) }), {
            timeoutMs: 60_000,
          });
          sent++;
        }
      })();
      await waitFor(() => (bridge.clients[0]?.queuedToClient ?? 0) >= maxQueued || undefined, {
        timeoutMs: 20_000,
      });
      await sleep(300);
      // Held back: the bridge keeps at most maxQueued for the instrument and stops reading the server.
      expect(bridge.clients[0]!.queuedToClient).toBeLessThanOrEqual(maxQueued);
      expect(sent).toBeLessThan(total);
      c.socket.resume();
      const p = c.profile;
      for (let i = 0; i < total; i++) {
        expect(await p.readCommand(c.reader, { timeoutMs: 20_000 })).toBe('set_info');
        expect(await p.readPath(c.reader, { timeoutMs: 20_000 })).toEqual(['settings_client', 'notes']);
        const xml = await p.readString(c.reader, { timeoutMs: 20_000 });
        expect(xml).toContain(`>${String(i).padStart(4, '0')}x`);
      }
      await sending;
      expect(sent).toBe(total);
    }));
});

describe('reconnects and several instruments', () => {
  it('the server restarts: the bridge identifies again with the Infos and settings, the instrument stays', () =>
    withCleanup(async (track) => {
      const first = await startServer(track, 'D', 0, 'actuator');
      const serverPort = first.port;
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'B',
        serverProtocol: 'D',
        serverPort,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      const stage = new SimulatedStage({ speed: 10_000, units: 'mm' });
      const actuator = track(
        new PymodaqActuator({
          protocol: 'B',
          port,
          units: 'mm',
          reconnect: false,
          handlers: stage.handlers(),
        }),
      );
      let instrumentDrops = 0;
      actuator.on('disconnected', () => instrumentDrops++);
      await actuator.connect({ timeoutMs: 10_000 });
      await first.server.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
      expect((await first.server.moveAbs(2)).value).toBe(2);
      await actuator.updateSetting(['speed'], parameter('speed', { type: 'float', value: 3 }));
      await waitFor(() => bridge.counters.toServer >= 2 || undefined, { timeoutMs: 10_000 });

      const relinked = nextEvent(bridge, 'serverConnected', () => true, 20_000);
      await first.server.close();
      const second = await startServer(track, 'D', serverPort, 'actuator');
      const infos = nextEvent(second.server, 'infos', () => true, 20_000);
      const setting = nextEvent(second.server, 'infoXml', () => true, 20_000);
      await relinked;
      expect((await infos).units).toBe('mm');
      expect((await setting).path).toEqual(['speed']);
      expect((await second.server.moveAbs(-1)).value).toBe(-1);
      expect(stage.position).toBe(-1);
      expect(instrumentDrops).toBe(0);
    }));

  it('a server that is not up yet: the instrument waits at the bridge, which links once the server listens', () =>
    withCleanup(async (track) => {
      // A port that was free a moment ago (nothing listens on it now).
      const probe = await startServer(track, 'D');
      const serverPort = probe.port;
      await probe.server.close();
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C3',
        serverProtocol: 'D',
        serverPort,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      const stage = new SimulatedStage({ speed: 10_000, units: 'mm' });
      const actuator = track(
        new PymodaqActuator({
          protocol: 'C3',
          port,
          units: 'mm',
          reconnect: false,
          handlers: stage.handlers(),
        }),
      );
      await actuator.connect({ timeoutMs: 10_000 });
      await sleep(500);
      expect(bridge.clients[0]!.serverLinked).toBe(false);
      const linked = nextEvent(bridge, 'serverConnected', () => true, 20_000);
      const { server } = await startServer(track, 'D', serverPort, 'actuator');
      await linked;
      await server.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
      expect(await server.moveAbs(4)).toEqual({ value: 4, units: 'mm' });
    }));

  it('an instrument that vanishes (no Quit) ends its server link with Quit; it may come back', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'C4', 0, 'detector');
      const { port } = await startBridge(track, { clientProtocol: 'D', serverProtocol: 'C4', serverPort });
      const c = await RawClient.connect(port, 'D');
      c.identify('GRABBER');
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const left = nextEvent(server, 'clientClosed', () => true, 10_000);
      c.destroy();
      expect((await left).reason).toBe('Quit');
      const again = nextEvent(server, 'client', () => true, 10_000);
      const d = await RawClient.connect(port, 'D');
      track({ close: () => d.destroy() });
      d.identify('GRABBER');
      expect((await again).type).toBe('GRABBER');
    }));

  it('several instruments: each has its own server link, and commands reach the one addressed', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'C4', 0, 'actuator');
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'D',
        serverProtocol: 'C4',
        serverPort,
      });
      const stages = [1, 2, 3].map(() => new SimulatedStage({ speed: 10_000, units: 'mm' }));
      for (const stage of stages) {
        const actuator = track(
          new PymodaqActuator({
            protocol: 'D',
            port,
            units: 'mm',
            reconnect: false,
            handlers: stage.handlers(),
          }),
        );
        const identified = nextEvent(server, 'client', () => true, 10_000);
        await actuator.connect({ timeoutMs: 10_000 });
        await identified;
      }
      const clients = server.clients;
      expect(clients).toHaveLength(3);
      expect(bridge.clients).toHaveLength(3);
      await Promise.all(clients.map((c, i) => server.moveAbs(10 * (i + 1), { client: c.id })));
      expect(stages.map((s) => s.position)).toEqual([10, 20, 30]);
    }));

  it('a move answered after its server link was lost is not handed to the next server', () =>
    withCleanup(async (track) => {
      const first = await startServer(track, 'C4', 0, 'actuator');
      const serverPort = first.port;
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C2',
        serverProtocol: 'C4',
        serverPort,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
      });
      const stage = new SimulatedStage({ speed: 2, units: 'mm' });
      const actuator = track(
        new PymodaqActuator({
          protocol: 'C2',
          port,
          units: 'mm',
          reconnect: false,
          handlers: stage.handlers(),
        }),
      );
      await actuator.connect({ timeoutMs: 10_000 });
      await first.server.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
      const moved = nextEvent(actuator, 'moveDone', () => true, 20_000);
      const move = first.server.moveAbs(1).catch((e: unknown) => e);
      await waitFor(() => stage.moving || undefined, { timeoutMs: 10_000 });
      const relinked = nextEvent(bridge, 'serverConnected', () => true, 20_000);
      await first.server.close();
      expect(await move).toMatchObject({ code: 'PeerGone' });
      const second = await startServer(track, 'C4', serverPort, 'actuator');
      const positions: unknown[] = [];
      second.server.on('position', (e) => positions.push(e));
      await relinked;
      await moved;
      await waitFor(() => bridge.counters.staleReplies === 1 || undefined, { timeoutMs: 10_000 });
      // The next query gets its own answer, not the stale move_done.
      expect((await second.server.getActuatorValue()).value).toBe(1);
      expect(positions).toHaveLength(1);
    }));
});

describe('handshakes refused on either side', () => {
  it('the server refuses the bridge (wrong server generation): said once, then backoff', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'C4', 0, 'actuator');
      let refused = 0;
      server.on('rejected', () => refused++);
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C4',
        serverProtocol: 'D',
        serverPort,
      });
      const said: unknown[] = [];
      bridge.on('handshakeRejected', (e) => said.push(e.error));
      const actuator = track(
        new PymodaqActuator({
          protocol: 'C4',
          port,
          reconnect: false,
          handlers: { moveAbs: (x) => x, getActuatorValue: () => 0 },
        }),
      );
      await actuator.connect({ timeoutMs: 10_000 });
      await sleep(3000);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatchObject({
        code: 'HandshakeRejected',
        suggestedGenerations: ['C4', 'C3', 'C2', 'C1', 'B', 'A'],
      });
      expect(refused).toBeGreaterThanOrEqual(2);
      expect(refused).toBeLessThanOrEqual(6);
    }));

  it.each([
    ['C4', 'D', ['D']],
    ['D', 'C4', ['C4', 'C3', 'C2', 'C1', 'B', 'A']],
  ] as [Generation, Generation, Generation[]][])(
    'a bridge listening for %s refuses a %s instrument and names its generation',
    (listening, instrument, suggested) =>
      withCleanup(async (track) => {
        const { port: serverPort } = await startServer(track, 'D');
        const { bridge, port } = await startBridge(track, {
          clientProtocol: listening,
          serverProtocol: 'D',
          serverPort,
        });
        const rejected = nextEvent(bridge, 'rejected', () => true, 10_000);
        const c = await RawClient.connect(port, instrument);
        track({ close: () => c.destroy() });
        c.identify('GRABBER');
        expect((await rejected).suggestedGenerations).toEqual(suggested);
      }),
  );
});

describe('what a generation cannot carry', () => {
  it('Send Data ND for a gen A instrument is not forwarded; the server call ends on its deadline', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'B', 0, 'detector');
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'A',
        serverProtocol: 'B',
        serverPort,
      });
      const detector = track(
        new PymodaqDetector({
          protocol: 'A',
          port,
          reconnect: false,
          handlers: { grab: () => numbered(1, 2, 2) },
        }),
      );
      await detector.connect({ timeoutMs: 10_000 });
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const reported = nextEvent(bridge, 'translationError', () => true, 10_000);
      await expect(server.grab('ND', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'Timeout' });
      const { error } = await reported;
      expect(TranslationError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ command: 'Send Data ND', forwarded: false, from: 'B', to: 'A' });
      // The instrument is still served (a push: the timed-out grab keeps the next reply of its kind, as the
      // server documents for late replies).
      const pushed = nextEvent(server, 'data', () => true, 10_000);
      await detector.push(numbered(2, 2, 2));
      expect((await pushed).data.data[0]!.data[0]!.shape).toEqual([2, 2]);
    }));

  it('a move in another unit for an instrument whose generation carries none is refused', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'D', 0, 'actuator');
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'B',
        serverProtocol: 'D',
        serverPort,
      });
      const stage = new SimulatedStage({ speed: 10_000, units: 'mm' });
      const actuator = track(
        new PymodaqActuator({
          protocol: 'B',
          port,
          units: 'mm',
          reconnect: false,
          handlers: stage.handlers(),
        }),
      );
      await actuator.connect({ timeoutMs: 10_000 });
      await nextEvent(server, 'infos', () => true, 10_000);
      const reported = nextEvent(bridge, 'translationError', () => true, 10_000);
      await expect(server.moveAbs(5, { units: 'um', timeoutMs: 1000 })).rejects.toMatchObject({
        code: 'Timeout',
      });
      expect((await reported).error.lost[0]).toMatch(/um .* mm/);
      expect(stage.position).toBe(0);
      expect(await server.getActuatorValue()).toEqual({ value: 0, units: 'mm' });
    }));

  it('Info text for a gen A server is refused; a number goes', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'A', 0, 'actuator');
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C4',
        serverProtocol: 'A',
        serverPort,
      });
      const actuator = track(
        new PymodaqActuator({
          protocol: 'C4',
          port,
          reconnect: false,
          handlers: { moveAbs: (x) => x, getActuatorValue: () => 0 },
        }),
      );
      await actuator.connect({ timeoutMs: 10_000 });
      await server.waitForClient('ACTUATOR', { timeoutMs: 10_000 });
      const reported = nextEvent(bridge, 'translationError', () => true, 10_000);
      const info = nextEvent(server, 'info', () => true, 10_000);
      await actuator.sendInfo('mode', 'fast');
      await actuator.sendInfo('temperature', '21.5');
      expect((await reported).error).toMatchObject({ command: 'Info', forwarded: false });
      expect(await info).toMatchObject({ name: 'temperature', value: 21.5 });
    }));

  it('D data for a gen A server: the arrays that fit go, the rest is reported once and counted', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'A', 0, 'detector');
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'D',
        serverProtocol: 'A',
        serverPort,
      });
      const detector = track(
        new PymodaqDetector({
          protocol: 'D',
          port,
          reconnect: false,
          handlers: { grab: () => numbered(0, 1, 1) },
        }),
      );
      await detector.connect({ timeoutMs: 10_000 });
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const reports: TranslationError[] = [];
      bridge.on('translationError', (e) => reports.push(e.error));
      const image = NdArray.fromValues([1, 2, 3, 4, 5, 6], { dtype: '<i2', shape: [2, 3] });
      const cube = NdArray.fromValues(
        Array.from({ length: 8 }, (_, i) => i),
        { dtype: '<f4', shape: [2, 2, 2] },
      );
      const data = dataToExport({
        name: 'tcp',
        data: [dataFromPlugins({ name: 'camera', units: 'V', data: [image, cube], labels: ['img', 'cube'] })],
      });
      for (let i = 0; i < 2; i++) {
        const got = nextEvent(server, 'data', () => true, 10_000);
        await detector.push(data);
        const arrays = (await got).data.data.flatMap((d: DataWithAxes) => d.data);
        expect(arrays.map((a: NdArray) => a.toNumbers())).toEqual([[1, 2, 3, 4, 5, 6]]);
      }
      expect(bridge.counters.translationErrors).toBe(2);
      expect(reports).toHaveLength(1);
      expect(reports[0]!.forwarded).toBe(true);
      expect(reports[0]!.lost.join('; ')).toMatch(/units of "camera" \(V\).*3-D array cube/);
    }));
});

describe('axes between the generations', () => {
  it('C4 data with axes to a gen B server: x_axis / y_axis once, then the data', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'B', 0, 'detector');
      const { port } = await startBridge(track, { clientProtocol: 'C4', serverProtocol: 'B', serverPort });
      const detector = track(
        new PymodaqDetector({
          protocol: 'C4',
          port,
          reconnect: false,
          handlers: { grab: () => numbered(0, 1, 1) },
        }),
      );
      await detector.connect({ timeoutMs: 10_000 });
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const axes: { which: string; label: string; units: string; values: number[] }[] = [];
      server.on('axis', (e) =>
        axes.push({
          which: e.which,
          label: e.label,
          units: e.units,
          values: (e.values as NdArray).toNumbers(),
        }),
      );
      const image = NdArray.fromValues([1, 2, 3, 4, 5, 6], { dtype: '<f8', shape: [2, 3] });
      const camera = dataFromPlugins({
        name: 'camera',
        data: [image],
        axes: [
          axis({ label: 'x', units: 'um', data: [10, 20, 30], index: 1 }),
          axis({ label: 'y', units: 'um', data: [-1, 1], index: 0 }),
        ],
      });
      for (let i = 0; i < 2; i++) {
        const got = nextEvent(server, 'data', () => true, 10_000);
        await detector.push(dataToExport({ name: 'tcp', data: [camera] }));
        await got;
      }
      expect(axes).toEqual([
        { which: 'x_axis', label: 'x', units: 'um', values: [10, 20, 30] },
        { which: 'y_axis', label: 'y', units: 'um', values: [-1, 1] },
      ]);
    }));

  it('a gen B instrument with x_axis / y_axis to a gen D server: the axes come with the data', () =>
    withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'D', 0, 'detector');
      const { port } = await startBridge(track, { clientProtocol: 'B', serverProtocol: 'D', serverPort });
      const c = await RawClient.connect(port, 'B');
      track({ close: () => c.destroy() });
      c.identify('GRABBER');
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const p = c.profile;
      const values = (xs: number[]) => NdArray.fromValues(xs, { dtype: '<f8', shape: [xs.length] });
      c.write(
        c.command('x_axis'),
        p.encodeValue(values([0, 0.5, 1])),
        p.encodeString('x'),
        p.encodeString('mm'),
      );
      c.write(c.command('y_axis'), p.encodeValue(values([5, 6])), p.encodeString('y'), p.encodeString('mm'));
      const got = nextEvent(server, 'data', () => true, 10_000);
      const image = NdArray.fromValues([1, 2, 3, 4, 5, 6], { dtype: '<u2', shape: [2, 3] });
      c.write(
        c.command('Done'),
        p.encodeDetectorData(
          dataToExport({ name: '', data: [dataWithAxes('DataRaw', { name: 'a', data: [image] })] }),
        ),
      );
      const dwa = (await got).data.data[0]!;
      expect(dwa.axes.map((a: Axis) => [a.label, a.units, a.index, a.data.toNumbers()])).toEqual([
        ['y', 'mm', 0, [5, 6]],
        ['x', 'mm', 1, [0, 0.5, 1]],
      ]);
    }));
});

describe('close', () => {
  it('says Quit on both sides and leaves nothing running', async () => {
    const before = activeResources();
    await withCleanup(async (track) => {
      const { server, port: serverPort } = await startServer(track, 'D', 0, 'detector');
      const { bridge, port } = await startBridge(track, {
        clientProtocol: 'C3',
        serverProtocol: 'D',
        serverPort,
      });
      const detector = track(
        new PymodaqDetector({
          protocol: 'C3',
          port,
          reconnect: false,
          handlers: { grab: () => numbered(3, 2, 2) },
        }),
      );
      const quit = nextEvent(detector, 'serverQuit', () => true, 10_000);
      await detector.connect({ timeoutMs: 10_000 });
      await server.waitForClient('GRABBER', { timeoutMs: 10_000 });
      const left = nextEvent(server, 'clientClosed', () => true, 10_000);
      await bridge.close();
      await quit;
      expect((await left).reason).toBe('Quit');
    });
    expect(await resourcesLeftOver(before)).toEqual({});
  });
});
