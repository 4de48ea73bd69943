// The server against hand-driven clients (plain sockets speaking codec bytes): wrong types, silent and
// half-finished clients, hostile lengths and XML, unknown commands. Each is a clear typed error on that
// one connection; the server keeps serving the others (docs/protocols/pymodaq.md §9 a, d, e, f, g, i).

import { concatBytes, EofError, encodeFrameHeader, LimitExceededError, TimeoutError } from '@labwire/framing';
import {
  ClientTypeError,
  PymodaqActuator,
  type PymodaqServer,
  SimulatedStage,
  UnknownCommandError,
} from '@labwire/pymodaq';
import { describe, expect, it } from 'vitest';
import { NoClientError, PeerGoneError, ProtocolError, XmlError } from '../src/errors';
import { ALL, closeAfterEach, nextEvent, RawClient, startServer } from './helpers';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<settings><units type="str">&lol3;</units></settings>`;
const EXTERNAL_ENTITY = `<?xml version="1.0"?>
<!DOCTYPE settings [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<settings><units type="str">&xxe;</units></settings>`;

const track = closeAfterEach();

/** A real actuator client on a fast simulated stage, to prove the server still serves. */
async function healthyActuator(server: PymodaqServer, gen: string, port: number): Promise<PymodaqActuator> {
  const stage = new SimulatedStage({ speed: 1000 });
  const actuator = track(
    new PymodaqActuator({ protocol: gen, port, units: 'mm', reconnect: false, handlers: stage.handlers() }),
  );
  const seen = nextEvent(server, 'client', (c) => c.type === 'ACTUATOR');
  await actuator.connect();
  await seen;
  return actuator;
}

async function stillServes(server: PymodaqServer, target = 0.75): Promise<void> {
  expect((await server.moveAbs(target)).value).toBe(target);
}

describe.each(ALL)('generation %s: server robustness', (gen) => {
  it('rejects a client of the wrong type and logs what it sent; others are served', async () => {
    const { server, port } = await startServer(gen, { role: 'actuator' });
    track(server);
    await healthyActuator(server, gen, port);
    for (const type of ['GRABBER', 'DAQ2D', 'actuator']) {
      const raw = await RawClient.connect(port, gen);
      const rejected = nextEvent(server, 'rejected');
      raw.identify(type);
      const { error } = await rejected;
      expect(ClientTypeError.isInstance(error)).toBe(true);
      expect((error as ClientTypeError).received).toBe(type);
      await raw.closed();
      raw.destroy();
    }
    await stillServes(server);
  });

  it('drops a client that never identifies (handshake deadline)', async () => {
    const { server, port } = await startServer(gen, { handshakeTimeoutMs: 100 });
    track(server);
    await healthyActuator(server, gen, port);
    const raw = await RawClient.connect(port, gen);
    const { error } = await nextEvent(server, 'rejected');
    expect(TimeoutError.isInstance(error)).toBe(true);
    await raw.closed();
    raw.destroy();
    await stillServes(server);
  });

  it('treats a silent disconnect as a disconnect (no spin) and fails the call waiting on it', async () => {
    const { server, port } = await startServer(gen);
    track(server);
    await healthyActuator(server, gen, port);
    const raw = await RawClient.connect(port, gen);
    const joined = nextEvent(server, 'client', (c) => c.type === 'ACTUATOR');
    raw.identify('ACTUATOR');
    const client = await joined;
    const pending = server.moveAbs(1, { client: client.id });
    // The move reaches the raw client, which vanishes without Quit.
    expect(await raw.profile.readCommand(raw.reader)).toBe('move_abs');
    const left = nextEvent(server, 'clientClosed', (e) => e.client.id === client.id);
    raw.destroy();
    await expect(pending).rejects.toSatisfy((e) => PeerGoneError.isInstance(e));
    expect((await left).reason).toMatch(/without Quit|connection lost/);
    await stillServes(server);
  });

  it('settles replies that arrive together or split, in order, and reports each position', async () => {
    const { server, port } = await startServer(gen);
    track(server);
    const raw = await RawClient.connect(port, gen);
    const joined = nextEvent(server, 'client', (c) => c.type === 'ACTUATOR');
    raw.identify('ACTUATOR');
    const client = await joined;
    const seen: { value: number; solicited: boolean }[] = [];
    server.on('position', (e) => seen.push({ value: e.position.value, solicited: e.solicited }));
    const moves = [1.5, -2.25, 3].map((v) => server.moveAbs(v, { client: client.id }));
    const asked = async () => {
      expect(await raw.profile.readCommand(raw.reader)).toBe('move_abs');
      return (await raw.profile.readPosition(raw.reader)).value;
    };
    for (const v of [1.5, -2.25, 3]) expect(await asked()).toBe(v);
    const reply = (v: number) => concatBytes([raw.command('move_done'), raw.profile.encodePosition(v)]);
    const third = reply(3);
    // Two whole replies and part of the third in one write, the rest of the third later.
    raw.write(reply(1.5), reply(-2.25), third.subarray(0, 7));
    expect((await moves[0]!).value).toBe(1.5);
    expect((await moves[1]!).value).toBe(-2.25);
    raw.write(third.subarray(7));
    expect((await moves[2]!).value).toBe(3);
    // A reply nobody asked for is reported as unsolicited, and the next call still gets its own.
    const unsolicited = nextEvent(server, 'position', (e) => !e.solicited);
    raw.write(reply(9));
    expect((await unsolicited).position.value).toBe(9);
    const next = server.moveAbs(4, { client: client.id });
    expect(await asked()).toBe(4);
    raw.write(reply(4));
    expect((await next).value).toBe(4);
    expect(seen).toEqual([
      { value: 1.5, solicited: true },
      { value: -2.25, solicited: true },
      { value: 3, solicited: true },
      { value: 9, solicited: false },
      { value: 4, solicited: true },
    ]);
    raw.destroy();
  });

  it('reports a message cut short by EOF with the bytes that arrived', async () => {
    const { server, port } = await startServer(gen);
    track(server);
    await healthyActuator(server, gen, port);
    const raw = await RawClient.connect(port, gen);
    raw.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const data = raw.profile.encodeValue('a string that will be cut');
    const failed = nextEvent(server, 'clientError', (e) => e.client.type === 'GRABBER');
    raw.write(raw.command('Infos'), data.subarray(0, data.length - 5));
    raw.socket.end();
    const { error } = await failed;
    expect(EofError.isInstance(error)).toBe(true);
    expect((error as EofError).partial.length).toBeGreaterThan(0);
    raw.destroy();
    await stillServes(server);
  });

  it('refuses a hostile length before allocating and closes that client', async () => {
    const { server, port } = await startServer(gen, { maxMessageBytes: 1024 * 1024 });
    track(server);
    await healthyActuator(server, gen, port);
    const raw = await RawClient.connect(port, gen);
    raw.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const failed = nextEvent(server, 'clientError', (e) => e.client.type === 'GRABBER');
    // D: a frame claiming 4 GiB. A–C: an Infos string claiming 4 GiB.
    if (gen === 'D') raw.write(encodeFrameHeader(0xffff_ffff), new Uint8Array(16));
    else raw.write(raw.command('Infos'), encodeFrameHeader(0xffff_fff0), new Uint8Array(16));
    const { error } = await failed;
    expect(LimitExceededError.isInstance(error)).toBe(true);
    await raw.closed();
    raw.destroy();
    await stillServes(server);
  });

  it.each([
    ['billion laughs', BILLION_LAUGHS],
    ['external entity', EXTERNAL_ENTITY],
  ])('refuses %s XML in Infos without expanding it, and keeps the client', async (_, xml) => {
    const { server, port } = await startServer(gen);
    track(server);
    const raw = await RawClient.connect(port, gen);
    raw.identify('ACTUATOR');
    const client = await server.waitForClient('ACTUATOR');
    const failed = nextEvent(server, 'clientError');
    raw.write(raw.command('Infos'), raw.profile.encodeString(xml));
    const { error } = await failed;
    expect(XmlError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/DOCTYPE/);
    expect(server.clients.find((c) => c.id === client.id)?.settings).toBeUndefined();
    // The message was consumed whole: the same connection goes on.
    const infos = nextEvent(server, 'infos');
    raw.write(
      raw.command('Infos'),
      raw.profile.encodeString('<settings><units type="str">nm</units></settings>'),
    );
    expect((await infos).units).toBe('nm');
    raw.destroy();
  });

  it(
    gen === 'D'
      ? 'skips the frame of an unknown command and goes on'
      : 'closes a client that sends an unknown command',
    async () => {
      const { server, port } = await startServer(gen);
      track(server);
      await healthyActuator(server, gen, port);
      const raw = await RawClient.connect(port, gen);
      raw.identify('GRABBER');
      const client = await server.waitForClient('GRABBER');
      const failed = nextEvent(server, 'clientError', (e) => e.client.id === client.id);
      raw.write(raw.command('Bogus'), raw.profile.encodeValue('payload of an unknown command'));
      const { error } = await failed;
      expect(UnknownCommandError.isInstance(error)).toBe(true);
      expect((error as UnknownCommandError).command).toBe('Bogus');
      if (gen === 'D') {
        // The payload frame is not a command either; then the stream is back in step.
        const info = nextEvent(server, 'info');
        raw.write(raw.command('Info'), raw.profile.encodeInfo('still', 'here'));
        expect((await info).name).toBe('still');
        expect(server.clients.some((c) => c.id === client.id)).toBe(true);
      } else {
        await raw.closed();
      }
      raw.destroy();
      await stillServes(server);
    },
  );

  it('keeps every call bounded: no client, wrong type, timeout, and a late reply never answers the next call', async () => {
    const { server, port } = await startServer(gen);
    track(server);
    await expect(server.moveAbs(1)).rejects.toSatisfy((e) => NoClientError.isInstance(e));
    const raw = await RawClient.connect(port, gen);
    raw.identify('ACTUATOR');
    const client = await server.waitForClient('ACTUATOR');
    await expect(server.grab('0D')).rejects.toSatisfy((e) => NoClientError.isInstance(e));
    await expect(server.moveAbs(1, { client: 'c999' })).rejects.toSatisfy((e) => NoClientError.isInstance(e));
    // The raw client does not answer in time.
    await expect(server.getActuatorValue({ timeoutMs: 50 })).rejects.toSatisfy((e) =>
      TimeoutError.isInstance(e),
    );
    // Its late answer arrives now; then the next call gets its own answer, not the late one.
    const p = raw.profile;
    const late = nextEvent(server, 'position', (e) => !e.solicited);
    raw.write(raw.command('position_is'), p.encodePosition(111, 'mm'));
    expect((await late).position.value).toBe(111);
    const next = server.getActuatorValue();
    await raw.profile.readCommand(raw.reader); // the late query
    await raw.profile.readCommand(raw.reader); // this one
    raw.write(raw.command('position_is'), p.encodePosition(222, 'mm'));
    expect((await next).value).toBe(222);
    const aborted = new AbortController();
    const call = server.moveAbs(5, { signal: aborted.signal, client: client.id });
    aborted.abort();
    await expect(call).rejects.toMatchObject({ code: 'Aborted' });
    raw.destroy();
  });

  it('close() says Quit to every client, fails pending calls and stops listening', async () => {
    const { server, port } = await startServer(gen);
    const raw = await RawClient.connect(port, gen);
    raw.identify('ACTUATOR');
    await server.waitForClient('ACTUATOR');
    const pending = server.moveHome();
    expect(await raw.profile.readCommand(raw.reader)).toBe('move_home');
    const closing = server.close();
    await expect(pending).rejects.toSatisfy((e) => PeerGoneError.isInstance(e));
    expect(await raw.profile.readCommand(raw.reader)).toBe('Quit');
    await raw.closed();
    await closing;
    await expect(RawClient.connect(port, gen)).rejects.toThrow();
    raw.destroy();
  });
});

describe('x_axis / y_axis', () => {
  it.each(['A', 'B'] as const)('generation %s: accepted as an axis event', async (gen) => {
    const { server, port } = await startServer(gen);
    track(server);
    const raw = await RawClient.connect(port, gen);
    raw.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const axis = nextEvent(server, 'axis');
    const p = raw.profile;
    const { NdArray } = await import('@labwire/pymodaq/codec');
    raw.write(
      raw.command('x_axis'),
      p.encodeValue(NdArray.fromTyped(Float64Array.of(1, 2, 3))),
      p.encodeString('wavelength'),
      p.encodeString('nm'),
    );
    const got = await axis;
    expect(got.which).toBe('x_axis');
    expect(got.label).toBe('wavelength');
    expect(got.units).toBe('nm');
    raw.destroy();
  });

  it.each(['C1', 'C4'] as const)('generation %s: refused (PyMoDAQ 4.1+ drops such a client)', async (gen) => {
    const { server, port } = await startServer(gen);
    track(server);
    const raw = await RawClient.connect(port, gen);
    raw.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const failed = nextEvent(server, 'clientError');
    raw.write(raw.command('x_axis'));
    expect(ProtocolError.isInstance((await failed).error)).toBe(true);
    await raw.closed();
    raw.destroy();
  });
});

describe('several clients', () => {
  it('addresses the last client of each type by default, any one by id', async () => {
    const { server, port } = await startServer('C4');
    track(server);
    const stages = [new SimulatedStage({ speed: 1000 }), new SimulatedStage({ speed: 1000 })];
    const ids: string[] = [];
    for (const stage of stages) {
      const actuator = track(
        new PymodaqActuator({
          protocol: 'C4',
          port,
          units: 'mm',
          reconnect: false,
          handlers: stage.handlers(),
        }),
      );
      const joined = nextEvent(server, 'client');
      await actuator.connect();
      ids.push((await joined).id);
    }
    await server.moveAbs(7);
    expect(stages.map((s) => s.position)).toEqual([0, 7]);
    await server.moveAbs(3, { client: ids[0] });
    expect(stages.map((s) => s.position)).toEqual([3, 7]);
    // Concurrent calls to different clients run side by side.
    const both = await Promise.all([
      server.moveAbs(1, { client: ids[0] }),
      server.moveAbs(2, { client: ids[1] }),
    ]);
    expect(both.map((p) => p.value)).toEqual([1, 2]);
  });

  it('at maxClients, refuses a newcomer while every identified client is busy', async () => {
    const { server, port } = await startServer('D', { maxClients: 1 });
    track(server);
    const first = await RawClient.connect(port, 'D');
    first.identify('GRABBER');
    await server.waitForClient('GRABBER');
    // A grab waiting for its reply keeps the first client busy.
    const grab = server.grab('2D', { timeoutMs: 5000 }).catch((e: unknown) => e);
    const rejected = nextEvent(server, 'rejected');
    const second = await RawClient.connect(port, 'D');
    second.identify('GRABBER');
    expect(NoClientError.isInstance((await rejected).error)).toBe(true);
    await second.closed();
    expect(server.clients.map((c) => c.id)).toHaveLength(1);
    first.destroy();
    second.destroy();
    await grab;
  });

  it('at maxClients, a newcomer takes the slot of the client quiet the longest', async () => {
    const { server, port } = await startServer('D', { maxClients: 1 });
    track(server);
    const first = await RawClient.connect(port, 'D');
    first.identify('GRABBER');
    const firstClient = await server.waitForClient('GRABBER');
    const evicted = nextEvent(server, 'clientClosed');
    const second = await RawClient.connect(port, 'D');
    second.identify('GRABBER');
    const gone = await evicted;
    expect(gone.client.id).toBe(firstClient.id);
    expect(gone.reason).toMatch(/evicted/);
    await first.closed();
    expect(server.clients.map((c) => c.id)).not.toContain(firstClient.id);
    expect(server.clients).toHaveLength(1);
    first.destroy();
    second.destroy();
  });
});
