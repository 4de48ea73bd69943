// adoptOnread: an accepted socket (net.Server) given the onread receive path, on real sockets on 127.0.0.1.

import net from 'node:net';
import { adoptOnread, ByteReader, EofError, encodeFrame, OnreadSource } from '@labwire/framing';
import { afterEach, describe, expect, it } from 'vitest';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A listening server whose accepted sockets go to `onSocket` (synchronously, as a server's listener runs). */
async function serverWith(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  cleanups.push(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

describe('adoptOnread on accepted sockets', () => {
  it('reads every byte of large frames into the one landing buffer, without data events', async () => {
    const readers: Promise<{ reader: ByteReader; adopted: boolean; source: OnreadSource }>[] = [];
    let accepted!: (v: { reader: ByteReader; adopted: boolean; source: OnreadSource }) => void;
    readers.push(new Promise((r) => (accepted = r)));
    const landings = new Set<ArrayBufferLike>();
    const port = await serverWith((socket) => {
      const source = new OnreadSource(64 * 1024);
      // Watch which memory every read lands in.
      const inner = source.onread.callback;
      const onread = {
        buffer: source.onread.buffer,
        callback: (n: number, buf: Uint8Array) => {
          landings.add(buf.buffer);
          return inner(n, buf);
        },
      };
      const adopted = adoptOnread(socket, onread);
      // A second call changes nothing (already adopted): its callback would see no read.
      expect(adoptOnread(socket, { buffer: new Uint8Array(16), callback: () => true })).toBe(false);
      let dataEvents = 0;
      socket.on('data', () => dataEvents++);
      const reader = new ByteReader(adopted ? source.attach(socket) : socket, {
        timeoutMs: 5000,
        maxFrame: 8 << 20,
      });
      cleanups.push(() => expect(dataEvents).toBe(0));
      accepted({ reader, adopted, source });
    });
    const client = await connect(port);
    const payloads = [3 << 20, 1, 70_000].map((n, k) => {
      const p = new Uint8Array(n);
      for (let i = 0; i < n; i++) p[i] = (i * 7 + k) & 0xff;
      return p;
    });
    for (const p of payloads) client.write(encodeFrame(p));
    const { reader, adopted } = await readers[0]!;
    expect(adopted).toBe(true);
    for (const p of payloads) {
      const got = await reader.readFrame({ maxBytes: 8 << 20 });
      expect(got.length).toBe(p.length);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(p))).toBe(0);
    }
    // Every read landed in the one landing buffer.
    expect([...landings]).toEqual([(await readers[0]!).source.onread.buffer.buffer]);
    client.end();
    await expect(reader.readExactly(1)).rejects.toBeInstanceOf(EofError);
    reader.close();
  });

  it('keeps flow control: a paused reader stops the socket and resumes it', async () => {
    let reader!: ByteReader;
    let adopted = false;
    const ready = new Promise<void>((resolve) => {
      void serverWith((socket) => {
        const source = new OnreadSource(16 * 1024);
        adopted = adoptOnread(socket, source.onread);
        reader = new ByteReader(source.attach(socket), { timeoutMs: 5000, maxBuffer: 64 * 1024 });
        resolve();
      }).then(async (port) => {
        const client = await connect(port);
        // Far more than the reader may buffer: it must pause the socket and resume as it is read.
        client.write(new Uint8Array(4 << 20).fill(9));
        client.end();
      });
    });
    await ready;
    expect(adopted).toBe(true);
    let total = 0;
    for (;;) {
      const chunk = await reader.readAvailable(64 * 1024).catch(() => undefined);
      if (chunk === undefined) break;
      total += chunk.length;
      if (total >= 4 << 20) break;
    }
    expect(total).toBe(4 << 20);
    reader.close();
  });

  it('refuses a socket that already read, and one that is not a socket of this Node', async () => {
    const source = new OnreadSource();
    const unconnected = new net.Socket();
    expect(adoptOnread(unconnected, source.onread)).toBe(false); // no handle yet
    unconnected.destroy();
    let verdict: boolean | undefined;
    const done = new Promise<void>((resolve) => {
      void serverWith((socket) => {
        socket.once('data', () => {
          verdict = adoptOnread(socket, source.onread);
          resolve();
        });
      }).then(async (port) => (await connect(port)).write('x'));
    });
    await done;
    expect(verdict).toBe(false);
  });
});
