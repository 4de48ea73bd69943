// The bridge's move path on real sockets, with both peers written by hand so the bytes on each side can
// be cut and joined at will: moves and their replies are translated in the socket's read callback when
// they arrive whole (a fast path) and through the read loop otherwise. Either way the instrument must
// get exactly what the general encoder writes for the server's move (timestamp carried over), and the
// server exactly what it writes for the instrument's reply, in order, none lost.

import net from 'node:net';
import { ByteReader, concatBytes, toHex } from '@labwire/framing';
import { PymodaqBridge } from '@labwire/pymodaq';
import { type Generation, resolveProfile } from '@labwire/pymodaq/codec';
import { sleep, waitFor } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { RawClient, withCleanup } from './helpers';

type Track = <U extends { close(): unknown }>(x: U) => U;

const T_SERVER = 1_700_000_123.25;
const T_INSTRUMENT = 1_700_000_456.5;

/** A PyMoDAQ server of `protocol` written by hand: takes the first client and reads what it sends. */
async function rawServer(track: Track, protocol: Generation) {
  const profile = resolveProfile(protocol);
  const server = net.createServer();
  let reader: ByteReader | undefined;
  let socket: net.Socket | undefined;
  const connected = new Promise<void>((resolve) => {
    server.once('connection', (s: net.Socket) => {
      socket = s;
      s.setNoDelay(true);
      s.on('error', () => {});
      reader = new ByteReader(s, { timeoutMs: 10_000, maxFrame: 1024 * 1024 });
      resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track({
    close: async () => {
      reader?.close();
      socket?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    profile,
    connected,
    get reader() {
      return reader!;
    },
    write(bytes: Uint8Array) {
      socket!.write(bytes);
    },
  };
}

/** Writes `bytes` one byte at a time, each after a timer (so each tends to arrive on its own). */
async function byteByByte(write: (b: Uint8Array) => void, bytes: Uint8Array): Promise<void> {
  for (let i = 0; i < bytes.length; i++) {
    write(bytes.subarray(i, i + 1));
    await sleep(i % 16 === 0 ? 1 : 0);
  }
}

const join = (parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/** Server (gen `serverGen`, by hand) ⇄ bridge ⇄ instrument (gen `clientGen`, by hand), identified. */
async function chain(track: Track, clientGen: Generation, serverGen: Generation) {
  const server = await rawServer(track, serverGen);
  const bridge = track(
    new PymodaqBridge({
      clientProtocol: clientGen,
      serverProtocol: serverGen,
      serverPort: server.port,
      port: 0,
      timeoutMs: 20_000,
    }),
  );
  const { port } = await bridge.listen();
  const instrument = await RawClient.connect(port, clientGen);
  track({ close: () => instrument.destroy() });
  instrument.identify('ACTUATOR');
  await server.connected;
  expect(await server.profile.readCommand(server.reader, { timeoutMs: 10_000 })).toBe('ACTUATOR');
  await waitFor(() => bridge.clients[0]?.serverLinked || undefined, { timeoutMs: 10_000 });
  const x = resolveProfile(clientGen);
  const y = resolveProfile(serverGen);
  return {
    server,
    bridge,
    instrument,
    x,
    y,
    /** What the server writes for a move (or reply) as the general encoder writes it. */
    serverMove: (command: string, value: number, units = 'mm') =>
      y.encodeCommandPosition(command, value, units, { timestamp: T_SERVER }),
    instrumentReply: (command: string, value: number, units = 'mm') =>
      x.encodeCommandPosition(command, value, units, { timestamp: T_INSTRUMENT }),
    /** The next `bytes.length` bytes the instrument receives, as hex. */
    instrumentGets: async (n: number) => toHex(await instrument.reader.readExactly(n, { timeoutMs: 10_000 })),
    serverGets: async (n: number) => toHex(await server.reader.readExactly(n, { timeoutMs: 10_000 })),
  };
}

describe('bridge moves: byte-exact both ways, however the bytes arrive', () => {
  it('C4 instrument, D server: moves and replies cut at every byte, timestamps carried over', () =>
    withCleanup(async (track) => {
      const c = await chain(track, 'C4', 'D');
      for (const value of [1.5, -2.25, 1e-9]) {
        await byteByByte((b) => c.server.write(b), c.serverMove('move_abs', value));
        const want = c.x.encodeCommandPosition('move_abs', value, 'mm', { timestamp: T_SERVER });
        expect(await c.instrumentGets(want.length)).toBe(toHex(want));
        await byteByByte((b) => c.instrument.write(b), c.instrumentReply('move_done', value));
        const back = c.y.encodeCommandPosition('move_done', value, 'mm', { timestamp: T_INSTRUMENT });
        expect(await c.serverGets(back.length)).toBe(toHex(back));
      }
      expect(c.bridge.counters.translationErrors).toBe(0);
    }));

  it('moves back to back in one write, a query and a unit change between: all in order, none lost', () =>
    withCleanup(async (track) => {
      const c = await chain(track, 'C4', 'D');
      const values = Array.from({ length: 40 }, (_, i) => i * 0.5 - 3);
      // A query and a move in another unit (which matches no template yet: the general path) in the middle.
      const sent = values.map((v, i) =>
        i === 20
          ? join([c.y.encodeCommand('get_actuator_value'), c.serverMove('move_rel', v, 'um')])
          : c.serverMove('move_abs', v),
      );
      c.server.write(join(sent));
      const want = join(
        values.map((v, i) =>
          i === 20
            ? join([
                c.x.encodeCommand('get_actuator_value'),
                c.x.encodeCommandPosition('move_rel', v, 'um', { timestamp: T_SERVER }),
              ])
            : c.x.encodeCommandPosition('move_abs', v, 'mm', { timestamp: T_SERVER }),
        ),
      );
      expect(await c.instrumentGets(want.length)).toBe(toHex(want));
      // The replies, all in one write: the position first (the query), then a move_done per move.
      const replies = [
        c.instrumentReply('position_is', 7),
        ...values.map((v) => c.instrumentReply('move_done', v)),
      ];
      c.instrument.write(join(replies));
      const back = join([
        c.y.encodeCommandPosition('position_is', 7, 'mm', { timestamp: T_INSTRUMENT }),
        ...values.map((v) => c.y.encodeCommandPosition('move_done', v, 'mm', { timestamp: T_INSTRUMENT })),
      ]);
      expect(await c.serverGets(back.length)).toBe(toHex(back));
      expect(c.bridge.counters.staleReplies).toBe(0);
    }));

  it(
    'an instrument that stops reading: moves wait, and arrive later intact and in order',
    () =>
      withCleanup(async (track) => {
        const c = await chain(track, 'C4', 'D');
        c.instrument.socket.pause();
        // Far more than one write can take at once: the bridge's writes go pending (their bytes must not be
        // reused while they wait) and then the bridge stops reading the server. Sent in bursts until that
        // happens: the kernel's loopback buffers take a varying amount first (some 4 MB, 25,000 moves, here).
        const burstOf = 10_000;
        const one = c.serverMove('move_abs', 0).length;
        const before = c.bridge.counters.toClients;
        const queued = () => (c.bridge.clients[0]?.queuedToClient ?? 0) > 0;
        let count = 0;
        while (!queued() && count < 400_000) {
          const burst = new Uint8Array(one * burstOf);
          for (let i = 0; i < burstOf; i++) burst.set(c.serverMove('move_abs', count + i), i * one);
          c.server.write(burst);
          count += burstOf;
          // Until the bridge queues (the instrument's socket is full), or has passed on every move so far.
          await waitFor(() => queued() || c.bridge.counters.toClients - before === count || undefined, {
            timeoutMs: 20_000,
          });
        }
        expect(queued()).toBe(true);
        c.instrument.socket.resume();
        const p = c.x;
        for (let i = 0; i < count; i++) {
          expect(await p.readCommand(c.instrument.reader, { timeoutMs: 10_000 })).toBe('move_abs');
          const position = await p.readPosition(c.instrument.reader, { timeoutMs: 10_000 });
          if (position.value !== i || position.data?.timestamp !== T_SERVER) {
            expect({ i, value: position.value, timestamp: position.data?.timestamp }).toEqual({
              i,
              value: i,
              timestamp: T_SERVER,
            });
          }
        }
      }),
    60_000,
  );

  it(
    'an instrument that floods replies while the server reads nothing is held back: the queue stays bounded',
    () =>
      withCleanup(async (track) => {
        // A server that reads the type string and then nothing (its socket paused): a slow PyMoDAQ.
        const tcp = net.createServer();
        let serverSocket: net.Socket | undefined;
        const identified = new Promise<void>((resolve) => {
          tcp.once('connection', (s: net.Socket) => {
            serverSocket = s;
            s.on('error', () => {});
            s.once('data', () => {
              s.pause();
              resolve();
            });
          });
        });
        await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
        track({
          close: async () => {
            serverSocket?.destroy();
            await new Promise<void>((resolve) => tcp.close(() => resolve()));
          },
        });
        const maxQueuedMessages = 4;
        const bridge = track(
          new PymodaqBridge({
            clientProtocol: 'C4',
            serverProtocol: 'D',
            serverPort: (tcp.address() as net.AddressInfo).port,
            port: 0,
            timeoutMs: 20_000,
            maxQueuedMessages,
          }),
        );
        const { port } = await bridge.listen();
        const instrument = await RawClient.connect(port, 'C4');
        track({ close: () => instrument.destroy() });
        instrument.identify('ACTUATOR');
        await identified;
        await waitFor(() => bridge.clients[0]?.serverLinked || undefined, { timeoutMs: 10_000 });
        const x = resolveProfile('C4');
        const one = x.encodeCommandPosition('move_done', 0, 'mm').length;
        const burstOf = 10_000;
        const before = bridge.counters.toServer;
        let count = 0;
        const flood = () => {
          const bytes = new Uint8Array(one * burstOf);
          for (let i = 0; i < burstOf; i++)
            bytes.set(x.encodeCommandPosition('move_done', count + i, 'mm'), i * one);
          instrument.socket.write(bytes);
          count += burstOf;
        };
        let most = 0;
        const full = () => {
          most = Math.max(most, bridge.clients[0]?.queuedToServer ?? 0);
          return most === maxQueuedMessages;
        };
        // Replies in bursts until the bridge's queue towards the server is full: the kernel's loopback
        // buffers between bridge and server take a varying amount first (some 4 MB, 15,000 replies, here).
        while (!full() && count < 400_000) {
          flood();
          await waitFor(() => full() || bridge.counters.toServer - before === count || undefined, {
            timeoutMs: 20_000,
            intervalMs: 1,
          });
        }
        // Two more bursts (some 6 MB) while the queue is full: the bridge stays held back.
        flood();
        flood();
        for (let i = 0; i < 100; i++) {
          most = Math.max(most, bridge.clients[0]?.queuedToServer ?? 0);
          await sleep(2);
        }
        expect(most).toBe(maxQueuedMessages);
        // The instrument's bytes wait in the kernel: the bridge took far from all of them.
        expect(bridge.counters.toServer - before).toBeLessThan(count);
      }),
    60_000,
  );

  it.each([
    ['B', 'D'],
    ['D', 'C4'],
    ['A', 'C2'],
  ] as const)('%s instrument, %s server: moves one at a time and in one write come through whole', (cg, sg) =>
    withCleanup(async (track) => {
      const c = await chain(track, cg, sg);
      // Generations without units take the value in their own unit: the server sends none.
      const units = c.x.generation === 'C4' || c.x.generation === 'D' ? 'mm' : '';
      const serverUnits = c.y.generation === 'C4' || c.y.generation === 'D' ? units : '';
      const move = (v: number) =>
        c.y.encodeCommandPosition('move_abs', v, serverUnits, { timestamp: T_SERVER });
      const expected = (v: number) => {
        const ts = c.y.generation === 'A' || c.y.generation === 'B' ? undefined : T_SERVER;
        return c.x.encodeCommandPosition(
          'move_abs',
          v,
          serverUnits,
          ts === undefined ? {} : { timestamp: ts },
        );
      };
      const values = [0.125, 3, -7.5, 11];
      await byteByByte((b) => c.server.write(b), move(values[0]!));
      c.server.write(join(values.slice(1).map(move)));
      // The server's moves carry a timestamp (or the instrument's generation has none): byte-exact.
      const want = join(values.map(expected));
      expect(await c.instrumentGets(want.length)).toBe(toHex(want));
      // Replies: byte by byte, then the rest in one write.
      const reply = (v: number) =>
        c.x.encodeCommandPosition('move_done', v, units, { timestamp: T_INSTRUMENT });
      await byteByByte((b) => c.instrument.write(b), reply(values[0]!));
      c.instrument.write(join(values.slice(1).map(reply)));
      for (const v of values) {
        expect(await c.y.readCommand(c.server.reader, { timeoutMs: 10_000 })).toBe('move_done');
        expect((await c.y.readPosition(c.server.reader, { timeoutMs: 10_000 })).value).toBe(v);
      }
    }),
  );
});
