import net from 'node:net';
import { ByteReader, concatBytes } from '@labwire/framing';
import {
  activeResources,
  FaultProxy,
  resourcesLeftOver,
  settle,
  startEchoServer,
  startTaggingServer,
  taggedRequest,
  tagOf,
  waitFor,
} from '@labwire/testkit';
import { describe, expect, it } from 'vitest';

function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
}

describe('FaultProxy', () => {
  it('forwards both ways and counts accepts', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({ target: { port: echo.port } });
    const s = await connect(proxy.port);
    const reader = new ByteReader(s, { timeoutMs: 2000 });
    s.write(bytes(100));
    expect(await reader.readExactly(100)).toEqual(bytes(100));
    expect(proxy.accepts).toBe(1);
    expect(echo.accepts).toBe(1);
    s.destroy();
  });

  it('slices into 1..k-byte pieces that the client receives as separate chunks', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({ target: { port: echo.port }, downstream: { sliceMax: 3 } });
    const s = await connect(proxy.port);
    const chunks: Uint8Array[] = [];
    s.on('data', (c: Uint8Array) => chunks.push(c));
    s.write(bytes(60));
    await waitFor(() => concatBytes(chunks).length === 60);
    expect(concatBytes(chunks)).toEqual(bytes(60));
    expect(chunks.length).toBeGreaterThan(1);
    s.destroy();
  });

  it('blackholes: bytes vanish, the connection stays open', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({ target: { port: echo.port } });
    proxy.blackhole();
    const s = await connect(proxy.port);
    const reader = new ByteReader(s, { timeoutMs: 60 });
    s.write(bytes(4));
    const r = await settle(reader.readExactly(4));
    expect(r.ok).toBe(false);
    expect((r as { error: { code: string } }).error.code).toBe('Timeout');
    expect(s.destroyed).toBe(false);
    proxy.blackhole(false);
    s.write(bytes(4));
    expect(await reader.readExactly(4, { timeoutMs: 2000 })).toEqual(bytes(4));
    s.destroy();
  });

  it('resets with RST: the client sees ECONNRESET', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({ target: { port: echo.port } });
    const s = await connect(proxy.port);
    const error = new Promise<NodeJS.ErrnoException>((resolve) => s.once('error', resolve));
    await waitFor(() => proxy.open === 1);
    proxy.resetAll();
    expect((await error).code).toBe('ECONNRESET');
  });

  it('closes after N bytes (limit) and resets after N bytes', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({
      target: { port: echo.port },
      downstream: { limitBytes: 5 },
    });
    const s = await connect(proxy.port);
    const reader = new ByteReader(s, { timeoutMs: 2000 });
    s.write(bytes(10));
    const r = await settle(reader.readExactly(10));
    expect((r as { error: { code: string; partial: Uint8Array } }).error.code).toBe('Eof');
    expect((r as { error: { partial: Uint8Array } }).error.partial).toEqual(bytes(5));

    proxy.set({ upstream: { resetAfterBytes: 3 }, downstream: {} });
    const t = await connect(proxy.port);
    const error = new Promise<NodeJS.ErrnoException>((resolve) => t.once('error', resolve));
    t.write(bytes(10));
    expect((await error).code).toBe('ECONNRESET');
  });

  it('delays replies (latency) and keeps their order', async () => {
    await using server = await startTaggingServer();
    await using proxy = await FaultProxy.start({
      target: { port: server.port },
      downstream: { latencyMs: 20 },
    });
    const s = await connect(proxy.port);
    const reader = new ByteReader(s, { timeoutMs: 2000 });
    s.write(concatBytes([taggedRequest(1), taggedRequest(2)]));
    expect(await settle(reader.readExactly(24, { timeoutMs: 5 }))).toMatchObject({ ok: false });
    expect(tagOf(await reader.readExactly(24))).toBe(1);
    expect(tagOf(await reader.readExactly(24))).toBe(2);
    s.destroy();
  });

  it('stops (connects refused) and restarts on the same port', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({ target: { port: echo.port } });
    const port = proxy.port;
    await proxy.stop();
    const refused = await settle(connect(port));
    expect((refused as { error: NodeJS.ErrnoException }).error.code).toBe('ECONNREFUSED');
    await proxy.restart();
    expect(proxy.port).toBe(port);
    const s = await connect(port);
    s.destroy();
  });

  it('leaves no socket or timer behind after close', async () => {
    const before = activeResources();
    const echo = await startEchoServer();
    const proxy = await FaultProxy.start({ target: { port: echo.port }, downstream: { latencyMs: 50 } });
    const s = await connect(proxy.port);
    s.write(bytes(3));
    await proxy.close();
    await echo.close();
    s.destroy();
    expect(await resourcesLeftOver(before)).toEqual({});
  });
});

describe('FaultProxy slow close', () => {
  it('delays the close towards the client by closeDelayMs', async () => {
    await using echo = await startEchoServer();
    await using proxy = await FaultProxy.start({
      target: { port: echo.port },
      downstream: { closeDelayMs: 60 },
    });
    const s = await connect(proxy.port);
    await waitFor(() => echo.open === 1);
    let ended = false;
    s.on('end', () => {
      ended = true;
    });
    s.on('error', () => {});
    await echo.dropConnections();
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    await waitFor(() => ended);
    s.destroy();
  });
});
