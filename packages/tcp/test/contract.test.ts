// Small contract points of TcpInterface that the scenario suites do not reach on their own.

import { ClosedError, fromLatin1 } from '@labwire/framing';
import { backoffDelay, TcpInterface } from '@labwire/tcp';
import { startEchoServer } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, DEFAULT_INITIAL_DELAY_MS, DEFAULT_MAX_DELAY_MS } from '../src/backoff';
import { fast } from './helpers';

describe('TcpInterface contract points', () => {
  it('a reply reader may answer synchronously; a thrown non-Error value is passed through as it is', async () => {
    await using server = await startEchoServer();
    await using tcp = new TcpInterface('127.0.0.1', server.port, fast);
    expect(await tcp.request(fromLatin1('x'), () => 42 as unknown as Promise<number>)).toBe(42);
    const thrown = await tcp
      .request(fromLatin1('y'), () => {
        throw 'not an Error';
      })
      .catch((e: unknown) => e);
    expect(thrown).toBe('not an Error');
  });

  it('connect() after close() rejects with ClosedError at once', async () => {
    await using server = await startEchoServer();
    const tcp = new TcpInterface('127.0.0.1', server.port, { ...fast, autoConnect: false });
    await tcp.close();
    await expect(tcp.connect()).rejects.toSatisfy((e: unknown) => ClosedError.isInstance(e));
    expect(tcp.state).toBe('closed');
  });

  it('backoff without options uses the documented defaults', () => {
    expect(backoffCeiling(0)).toBe(DEFAULT_INITIAL_DELAY_MS);
    expect(backoffCeiling(50)).toBe(DEFAULT_MAX_DELAY_MS);
    const d = backoffDelay(3);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(backoffCeiling(3));
  });
});

describe('backpressure on the operation path', () => {
  it('sends that fill the socket buffer wait for drain, then all arrive in order once the peer reads', async () => {
    const net = await import('node:net');
    let received = 0;
    let peer: import('node:net').Socket | undefined;
    const server = net.createServer((s) => {
      peer = s;
      s.pause(); // not reading: the kernel buffers fill and write() returns false
      s.on('data', (d: Buffer) => {
        received += d.length;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    await using tcp = new TcpInterface('127.0.0.1', port, { ...fast, timeoutMs: 10_000 });
    await tcp.connect();
    const chunk = new Uint8Array(512 * 1024).fill(7);
    const sends = Array.from({ length: 16 }, () => tcp.send(chunk));
    await new Promise((r) => setTimeout(r, 50));
    expect(tcp.pending).toBeGreaterThan(0); // held back by backpressure, not buffered without bound
    peer!.resume();
    await Promise.all(sends);
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (received >= 16 * chunk.length) {
          clearInterval(t);
          r();
        }
      }, 5);
    });
    expect(received).toBe(16 * chunk.length);
    peer!.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
