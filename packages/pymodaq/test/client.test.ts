// The client roles against a hand-driven server (a loopback socket speaking codec bytes): what they send
// and when, reconnection, hostile or unknown commands, failing handlers.

import { LimitExceededError } from '@labwire/framing';
import {
  HandlerError,
  PymodaqActuator,
  PymodaqDetector,
  parseParameterXml,
  SimulatedStage,
  UnknownCommandError,
} from '@labwire/pymodaq';
import { type Generation, resolveProfile } from '@labwire/pymodaq/codec';
import { LoopbackServer, type ServerConnection, waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { XmlError } from '../src/errors';
import { ALL, closeAfterEach, image, nextEvent } from './helpers';

const READ = { timeoutMs: 3000 };

/** A fake PyMoDAQ server that hands out its connections in accept order. */
async function fakeServer(): Promise<{ server: LoopbackServer; next(): Promise<ServerConnection> }> {
  const queue: ServerConnection[] = [];
  const server = await LoopbackServer.start((c) => {
    queue.push(c);
  });
  return {
    server,
    next: async () => {
      await waitFor(() => queue.length > 0, { timeoutMs: 3000, message: 'a connection' });
      return queue.shift()!;
    },
  };
}

const track = closeAfterEach();

/** Reads the identification: the type string, then Infos + XML. */
async function readIdentification(gen: Generation, c: ServerConnection) {
  const p = resolveProfile(gen);
  const type = await p.readCommand(c.reader, READ);
  const infos = await p.readCommand(c.reader, READ);
  const xml = await p.readString(c.reader, READ);
  return { type, infos, settings: parseParameterXml(xml) };
}

/**
 * A fake server and a client role (made by `make` for the server's port) connected to it, with the
 * identification read: `c` is the server's side of the connection.
 */
async function identifiedClient<C extends PymodaqActuator | PymodaqDetector>(
  gen: Generation,
  make: (port: number) => C,
) {
  const { server, next } = await fakeServer();
  track(server);
  const client = track(make(server.port));
  await client.connect();
  const c = await next();
  const identification = await readIdentification(gen, c);
  return { client, c, identification, next };
}

describe.each(ALL)('generation %s: client roles against a hand-driven server', (gen) => {
  const p = resolveProfile(gen);

  it('identifies (type first, then Infos with a units child) and says Quit before closing', async () => {
    const {
      client: actuator,
      c,
      identification: id,
    } = await identifiedClient(
      gen,
      (port) =>
        new PymodaqActuator({
          protocol: gen,
          port,
          units: 'µm',
          reconnect: false,
          handlers: new SimulatedStage().handlers(),
        }),
    );
    expect(id.type).toBe('ACTUATOR');
    expect(id.infos).toBe('Infos');
    const units = id.settings.children.find((x) => x.name === 'units');
    expect(units).toMatchObject({ value: 'µm', attributes: { type: 'str' } });
    await actuator.close();
    expect(await p.readCommand(c.reader, READ)).toBe('Quit');
    await expect(c.reader.readExactly(1, READ)).rejects.toMatchObject({ code: 'Eof' });
  });

  it('reconnects after the server drops it and identifies again', async () => {
    const { server, next } = await fakeServer();
    track(server);
    const detector = track(
      new PymodaqDetector({
        protocol: gen,
        port: server.port,
        reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
        handlers: { grab: () => image() },
      }),
    );
    await detector.connect();
    const first = await next();
    expect((await readIdentification(gen, first)).type).toBe('GRABBER');
    const disconnected = nextEvent(detector, 'disconnected');
    const reconnected = nextEvent(detector, 'connected');
    first.socket.destroy();
    await disconnected;
    const second = await next();
    expect((await readIdentification(gen, second)).type).toBe('GRABBER');
    await reconnected;
    expect(detector.connected).toBe(true);
    // Serves the new connection.
    second.write(p.encodeCommand('Send Data 2D'));
    expect(await p.readCommand(second.reader, READ)).toBe('Done');
    expect((await p.readDetectorData(second.reader, READ)).data[0]!.data[0]!.size).toBe(12);
  });

  it(
    gen === 'D' ? 'skips an unknown command and keeps serving' : 'drops the connection on an unknown command',
    async () => {
      const stage = new SimulatedStage({ position: 4 });
      const {
        client: actuator,
        c,
        next,
      } = await identifiedClient(
        gen,
        (port) =>
          new PymodaqActuator({
            protocol: gen,
            port,
            reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
            handlers: stage.handlers(),
          }),
      );
      const failed = nextEvent(actuator, 'error');
      // Seen as it arrives: the test server's reader is closed with the socket.
      const received: Buffer[] = [];
      c.socket.on('data', (d: Buffer) => received.push(d));
      c.write(p.encodeCommand('Bogus'));
      expect(UnknownCommandError.isInstance(await failed)).toBe(true);
      const target = gen === 'D' ? c : await next();
      if (gen !== 'D') {
        // Gen A–C cannot skip the payload of a command they do not know: Quit, then a fresh connection.
        await waitFor(() => c.socket.closed, { message: 'the connection to close' });
        expect(Buffer.concat(received).equals(Buffer.from(p.encodeCommand('Quit')))).toBe(true);
        await readIdentification(gen, target);
      }
      target.write(p.encodeCommand('get_actuator_value'));
      expect(await p.readCommand(target.reader, READ)).toBe('position_is');
      expect((await p.readPosition(target.reader, READ)).value).toBe(4);
    },
  );

  it('refuses hostile set_info XML (never expanded) and keeps serving', async () => {
    const { client: actuator, c } = await identifiedClient(
      gen,
      (port) =>
        new PymodaqActuator({
          protocol: gen,
          port,
          units: 'mm',
          reconnect: false,
          handlers: new SimulatedStage().handlers(),
        }),
    );
    const failed = nextEvent(actuator, 'error');
    const xml = '<!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/passwd">]><units type="str">&e;</units>';
    c.write(p.encodeCommand('set_info'));
    c.write(p.encodePath(['settings_client', 'units']));
    c.write(p.encodeString(xml));
    expect(XmlError.isInstance(await failed)).toBe(true);
    expect(actuator.units).toBe('mm');
    c.write(p.encodeCommand('move_abs'));
    c.write(p.encodePosition(2, 'mm'));
    expect(await p.readCommand(c.reader, READ)).toBe('move_done');
    expect((await p.readPosition(c.reader, READ)).value).toBe(2);
  });

  it('answers every move with move_done, even when the hardware fails or stop_motion drops queued moves', async () => {
    const stage = new SimulatedStage({ speed: 2 });
    let fail = true;
    const { client: actuator, c } = await identifiedClient(
      gen,
      (port) =>
        new PymodaqActuator({
          protocol: gen,
          port,
          reconnect: false,
          handlers: {
            ...stage.handlers(),
            moveAbs: (target, { signal }) => {
              if (fail) throw new Error('motor driver fault');
              return stage.moveAbs(target, { signal });
            },
          },
        }),
    );
    const failed = nextEvent(actuator, 'error');
    c.write(p.encodeCommand('move_abs'));
    c.write(p.encodePosition(1));
    const error = await failed;
    expect(HandlerError.isInstance(error)).toBe(true);
    expect((error as HandlerError).message).toMatch(/motor driver fault/);
    expect(await p.readCommand(c.reader, READ)).toBe('move_done');
    expect((await p.readPosition(c.reader, READ)).value).toBe(0);
    // Two slow moves, then stop_motion: the running one stops, the queued one is dropped; both answered.
    fail = false;
    const started = nextEvent(actuator, 'command', (e) => e.command === 'move_abs');
    c.write(p.encodeCommand('move_abs'));
    c.write(p.encodePosition(50));
    c.write(p.encodeCommand('move_abs'));
    c.write(p.encodePosition(-50));
    await started;
    await waitFor(() => stage.moving, { message: 'the stage to move' });
    c.write(p.encodeCommand('stop_motion'));
    for (let i = 0; i < 2; i++) {
      expect(await p.readCommand(c.reader, READ)).toBe('move_done');
      const position = (await p.readPosition(c.reader, READ)).value;
      expect(position).toBeLessThan(50);
      expect(position).toBeGreaterThanOrEqual(0);
    }
    expect(stage.moving).toBe(false);
  });

  it('answers moves in order however they arrive: 40 in one write, one a byte at a time, others between', async () => {
    const targets: number[] = [];
    const { client: actuator, c } = await identifiedClient(
      gen,
      (port) =>
        new PymodaqActuator({
          protocol: gen,
          port,
          units: 'mm',
          reconnect: false,
          handlers: {
            moveAbs: (target) => {
              targets.push(target);
              return target;
            },
            getActuatorValue: () => targets.at(-1) ?? 0,
          },
        }),
    );
    const move = (value: number) =>
      Buffer.concat([p.encodeCommand('move_abs'), p.encodePosition(value, 'mm')]);
    // More moves in one write than the arrival callback takes at once (the read loop takes the rest).
    c.write(Buffer.concat(Array.from({ length: 40 }, (_, i) => move(i))));
    // A move a byte at a time: never taken before it is whole.
    const split = move(40);
    for (const byte of split) {
      c.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Another command between moves, in the same write (a position query is answered while moves run,
    // so its reply may come before or after the next move's).
    c.write(
      Buffer.concat([move(41), p.encodeCommand('get_actuator_value'), move(42)].map((b) => Buffer.from(b))),
    );
    const done: number[] = [];
    const positions: number[] = [];
    for (let i = 0; i < 44; i++) {
      const command = await p.readCommand(c.reader, READ);
      const value = (await p.readPosition(c.reader, READ)).value;
      if (command === 'move_done') done.push(value);
      else {
        expect(command).toBe('position_is');
        positions.push(value);
      }
    }
    expect(done).toEqual(Array.from({ length: 43 }, (_, i) => i));
    expect(positions).toHaveLength(1);
    expect([41, 42]).toContain(positions[0]);
    expect(targets).toEqual(Array.from({ length: 43 }, (_, i) => i));
    expect(actuator.connected).toBe(true);
  });

  it('reports a failing grab and serves the next one; a server Quit is an event', async () => {
    let fail = true;
    const { client: detector, c } = await identifiedClient(
      gen,
      (port) =>
        new PymodaqDetector({
          protocol: gen,
          port,
          reconnect: false,
          handlers: {
            grab: () => {
              if (fail) throw new Error('camera not cooled');
              return image(3, 2);
            },
          },
        }),
    );
    const failed = nextEvent(detector, 'error');
    c.write(p.encodeCommand('Send Data 2D'));
    expect(HandlerError.isInstance(await failed)).toBe(true);
    fail = false;
    c.write(p.encodeCommand('Send Data 2D'));
    expect(await p.readCommand(c.reader, READ)).toBe('Done');
    expect((await p.readDetectorData(c.reader, READ)).data[0]!.data[0]!.size).toBe(6);
    const quit = nextEvent(detector, 'serverQuit');
    c.write(p.encodeCommand('Quit'));
    await quit;
  });

  it('drops a connection whose command string claims a hostile length', async () => {
    const { client: detector, c } = await identifiedClient(
      gen,
      (port) =>
        new PymodaqDetector({ protocol: gen, port, reconnect: false, handlers: { grab: () => image() } }),
    );
    const failed = nextEvent(detector, 'error');
    const disconnected = nextEvent(detector, 'disconnected');
    c.write(new Uint8Array([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
    expect(LimitExceededError.isInstance(await failed)).toBe(true);
    await disconnected;
    expect(detector.connected).toBe(false);
  });
});

describe('connection failures', () => {
  it('rejects connect() with a typed error when nothing listens, and close() settles', async () => {
    const { server } = await fakeServer();
    const port = server.port;
    await server.close();
    const detector = new PymodaqDetector({
      protocol: 'D',
      port,
      reconnect: false,
      handlers: { grab: () => image() },
    });
    await expect(detector.connect()).rejects.toMatchObject({ code: 'ConnectRefused' });
    await detector.close();
    await detector.close();
  });

  it('fails send-style calls while not connected', async () => {
    const detector = new PymodaqDetector({
      protocol: 'D',
      port: 1,
      reconnect: false,
      handlers: { grab: () => image() },
    });
    await expect(detector.push(image())).rejects.toThrow(/not connected/);
    await detector.close();
    await expect(detector.push(image())).rejects.toMatchObject({ code: 'Closed' });
  });
});
