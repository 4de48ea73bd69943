// Links to the same resolved address and port share one connection, reference-counted (docs/protocols/cmd_tcp.md §5,
// Q2–Q4): the server counts accepts.

import { TcpBus } from '@labwire/bus';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimeoutMismatchError } from '../src/errors';
import { type Device, lineEcho, pause, rejection, startDevice } from './helpers';

let device: Device;
let bus: TcpBus;

beforeEach(async () => {
  device = await startDevice(lineEcho());
  bus = new TcpBus();
});

afterEach(async () => {
  await bus.close();
  await device.close();
});

describe('shared connections', () => {
  it('links that resolve to one address and port share one connection (Q4, kept)', async () => {
    bus.init(1, `tcp(host=127.0.0.1,port=${device.port})`);
    bus.init(2, `tcp(host=localhost,port=${device.port})`); // another spelling, same canonical key
    bus.init(3, `tcp(host=127.0.0.1,port=${device.port},ignored=yes)`);
    const keys = await Promise.all([bus.config(1), bus.config(2), bus.config(3)]);
    expect(new Set(keys)).toEqual(new Set([`127.0.0.1,${device.port}`]));
    expect(device.accepts).toBe(1);
    expect(bus.link(2).sharedBy).toBe(3);
    expect(await bus.wrnrdUntil(2, 'via two\\n', '\\n')).toBe('R:via two');
  });

  it('reference counting: the connection stays while a user is left and closes with the last inval (Q3)', async () => {
    const opened: string[] = [];
    const closed: string[] = [];
    bus.on('connectionOpened', (e) => opened.push(e.canonical));
    bus.on('connectionClosed', (e) => closed.push(e.canonical));
    bus.init(1, `tcp(host=127.0.0.1,port=${device.port})`);
    bus.init(2, `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config(1);
    await bus.config(2);
    const conn = await device.connection(0);
    let ended = false;
    void conn.ended.then(() => {
      ended = true;
    });

    expect(await bus.inval(1)).toBe(true);
    await pause(30);
    expect(ended).toBe(false);
    expect(bus.link(2).sharedBy).toBe(1);
    expect(await bus.wrnrdUntil(2, 'still here\\n', '\\n')).toBe('R:still here');

    expect(await bus.deinit(2)).toBe(true);
    await conn.ended;
    expect(closed).toEqual([`127.0.0.1,${device.port}`]);
    expect(opened).toEqual([`127.0.0.1,${device.port}`]);

    // Configured again: a fresh connection.
    await bus.config(1);
    expect(device.accepts).toBe(2);
    expect(bus.link(1).sharedBy).toBe(1);
  });

  it("the canonical key is computed per link (Q2: Pyrame fills other entries with this link's port)", async () => {
    const other = await startDevice(lineEcho('O'));
    try {
      bus.init(1, `tcp(host=localhost,port=${device.port})`);
      bus.init(2, `tcp(host=localhost,port=${other.port})`);
      expect(await bus.config(2)).toBe(`127.0.0.1,${other.port}`);
      expect(await bus.config(1)).toBe(`127.0.0.1,${device.port}`);
      expect(device.accepts).toBe(1);
      expect(other.accepts).toBe(1);
      expect(await bus.wrnrdUntil(1, 'a\\n', '\\n')).toBe('R:a');
      expect(await bus.wrnrdUntil(2, 'b\\n', '\\n')).toBe('O:b');
    } finally {
      await bus.close();
      await other.close();
    }
  });

  it("a second link with a different timeout is refused with Pyrame's message (Q4, kept)", async () => {
    bus.init(1, `tcp(host=127.0.0.1,port=${device.port},timeout=2)`);
    bus.init(2, `tcp(host=127.0.0.1,port=${device.port},timeout=3)`);
    await bus.config(1);
    const e = await rejection(bus.config(2));
    expect(TimeoutMismatchError.isInstance(e)).toBe(true);
    expect(e.pyrameMessage).toBe('Existing socket found but with different timeout setting');
    expect(bus.link(2).state).toBe('initialised');
    expect(bus.link(1).sharedBy).toBe(1);
    expect(device.accepts).toBe(1);
  });

  it('a broken connection is not shared with a link configured afterwards', async () => {
    bus.init(1, `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config(1);
    await device.server.dropConnections();
    await expect(bus.read(1, 1, 5)).rejects.toMatchObject({ code: 'Eof' });
    bus.init(2, `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config(2);
    expect(device.accepts).toBe(2);
    expect(bus.link(1).broken).toBe(true);
    expect(bus.link(2).broken).toBe(false);
    expect(await bus.wrnrdUntil(2, 'fresh\\n', '\\n')).toBe('R:fresh');
    // The broken link leaves its own connection without touching the new one.
    expect(await bus.inval(1)).toBe(true);
    expect(await bus.wrnrdUntil(2, 'again\\n', '\\n')).toBe('R:again');
  });
});
