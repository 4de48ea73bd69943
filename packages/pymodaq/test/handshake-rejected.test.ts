// Issue 16: a client of the wrong generation used to print `connected`, then `disconnected (reset);
// reconnecting` forever. A PyMoDAQ server that does not take the type string closes at once without a
// word (docs/protocols/pymodaq.md §8.5, §9 f), so a link that ends right after the identification with nothing received is a
// rejected handshake: said once (HandshakeRejectedError, with the generations to try), then the client
// backs off per the reconnect policy.

import { HandshakeRejectedError, PymodaqActuator, PymodaqDetector } from '@labwire/pymodaq';
import { type Generation, resolveProfile } from '@labwire/pymodaq/codec';
import { LoopbackServer, sleep } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { nextEvent, startServer, withCleanup } from './helpers';

/**
 * What PyMoDAQ 4.4.5's TCPServer does with a new connection (docs/protocols/pymodaq.md §8.5): read one `str`; a type it does
 * not take is logged ("… is not a valid type") and the socket closed. The client's Infos is still unread
 * then, so the kernel answers with a reset; `end: 'fin'` closes cleanly instead.
 */
async function pymodaq44Server(accepts: string, end: 'reset' | 'fin' = 'reset') {
  const log: string[] = [];
  const server = await LoopbackServer.start(({ socket }) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const n = buffered.readUInt32BE(0);
      if (buffered.length < 4 + n) return;
      socket.off('data', onData);
      const type = buffered.subarray(4, 4 + n).toString('latin1');
      if (type === accepts) return;
      log.push(`${JSON.stringify(type)} is not a valid type`);
      if (end === 'reset') socket.resetAndDestroy();
      else socket.end();
    };
    socket.on('data', onData);
  });
  return { server, log };
}

describe('a rejected handshake', () => {
  it('D client at a 4.4-style server: one HandshakeRejectedError naming 4.x, then backoff', () =>
    withCleanup(async (track) => {
      const { server, log } = await pymodaq44Server('ACTUATOR');
      track(server);
      const client = track(
        new PymodaqActuator({
          protocol: 'D',
          port: server.port,
          handlers: { moveAbs: (x) => x, getActuatorValue: () => 0 },
        }),
      );
      const errors: unknown[] = [];
      const rejections: HandshakeRejectedError[] = [];
      client.on('error', (e) => errors.push(e));
      client.on('handshakeRejected', (e) => rejections.push(e));
      await client.connect({ timeoutMs: 5000 });
      await sleep(3000);
      const accepts = server.accepts;
      expect(log.length).toBe(accepts);
      expect(log[0]).toContain('ACTUATOR');
      // Said once, however many links the server refused; the same error went to `error`.
      expect(rejections).toHaveLength(1);
      expect(errors.filter((e) => HandshakeRejectedError.isInstance(e))).toEqual(rejections);
      const [error] = rejections;
      expect(error!.code).toBe('HandshakeRejected');
      expect(error!.generation).toBe('D');
      expect(error!.clientType).toBe('ACTUATOR');
      expect(error!.suggestedGenerations[0]).toBe('C4');
      expect(error!.closedBy).toBe('reset');
      expect(error!.message).toMatch(/rejected the handshake/);
      expect(error!.message).toMatch(/try C4 \(PyMoDAQ 4\.4\)/);
      // Backoff 200 ms … 5 s with equal jitter: at most 6 connections in 3 s, whatever the draws.
      expect(accepts).toBeGreaterThanOrEqual(2);
      expect(accepts).toBeLessThanOrEqual(6);
    }));

  it.each([
    ['C4', 'D', ['D']],
    ['B', 'D', ['D']],
    ['D', 'C4', ['C4', 'C3', 'C2', 'C1', 'B', 'A']],
  ] as [Generation, Generation, Generation[]][])(
    '%s client at a labwire %s server: rejected, suggests %j',
    (clientGen, serverGen, suggested) =>
      withCleanup(async (track) => {
        const { server, port } = await startServer(serverGen, { role: 'detector' });
        track(server);
        const rejected = nextEvent(server, 'rejected', () => true, 10_000);
        const client = track(
          new PymodaqDetector({ protocol: clientGen, port, handlers: { grab: () => never() } }),
        );
        const said = nextEvent(client, 'handshakeRejected', () => true, 10_000);
        await client.connect({ timeoutMs: 5000 });
        await rejected;
        const error = await said;
        expect(error.suggestedGenerations).toEqual(suggested);
        expect(error.clientType).toBe('GRABBER');
        expect(error.message).toMatch(/or it is an actuator \(DAQ_Move\) server/);
      }),
  );

  it('a GRABBER at an actuator server of its own generation is rejected too (the role)', () =>
    withCleanup(async (track) => {
      const { server, port } = await startServer('C4', { role: 'actuator' });
      track(server);
      const client = track(new PymodaqDetector({ protocol: 'C4', port, handlers: { grab: () => never() } }));
      const said = nextEvent(client, 'handshakeRejected', () => true, 10_000);
      await client.connect({ timeoutMs: 5000 });
      expect((await said).closedBy).toBe('eof');
    }));

  it('a server that sent a command, or that stayed quiet past the window, did not reject anything', () =>
    withCleanup(async (track) => {
      const p = resolveProfile('C4');
      let connections = 0;
      const server = track(
        await LoopbackServer.start(({ socket }) => {
          connections++;
          if (connections === 1) {
            // Takes the client, asks for its position, then leaves.
            socket.write(p.encodeCommand('get_actuator_value'));
            setTimeout(() => socket.end(), 100);
          } else {
            // Takes the client, says nothing, and leaves well after the window.
            setTimeout(() => socket.end(), 2000);
          }
        }),
      );
      const client = track(
        new PymodaqActuator({
          protocol: 'C4',
          port: server.port,
          handshakeRejectWindowMs: 200,
          reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
          handlers: { moveAbs: (x) => x, getActuatorValue: () => 0 },
        }),
      );
      const rejections: unknown[] = [];
      client.on('handshakeRejected', (e) => rejections.push(e));
      client.on('error', () => {});
      await client.connect({ timeoutMs: 5000 });
      await nextEvent(client, 'disconnected', () => true, 10_000);
      await nextEvent(client, 'disconnected', () => true, 10_000);
      expect(connections).toBeGreaterThanOrEqual(2);
      expect(rejections).toEqual([]);
    }));
});

function never(): never {
  throw new Error('this server never asks for data');
}
