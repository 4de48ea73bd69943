// Bytes a device sends just before it closes reach the caller, even when no call was reading then.

import net from 'node:net';
import { LinkEofError, TcpBus } from '@labwire/bus';
import { latin1 } from '@labwire/framing';
import { expect, it } from 'vitest';

it('the first call after the peer closed gets the bytes it sent before closing, once', async () => {
  const srv = net.createServer((s) => s.end('bye\r\n'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await using bus = new TcpBus();
  bus.init('1', `tcp(host=127.0.0.1,port=${port},timeout=1)`);
  await bus.config('1');
  // Let the bytes and the FIN arrive while nothing is reading.
  await new Promise((r) => setTimeout(r, 100));
  const first = await bus.read('1', 10).catch((e: unknown) => e);
  expect(LinkEofError.isInstance(first)).toBe(true);
  expect(latin1((first as LinkEofError).partial)).toBe('bye\r\n');
  const second = await bus.read('1', 10).catch((e: unknown) => e);
  expect(LinkEofError.isInstance(second)).toBe(true);
  expect((second as LinkEofError).partial.length).toBe(0);
  await new Promise<void>((r) => srv.close(() => r()));
});
