// Whatever bytes a client sends after identifying, the server ends that client's session with a typed
// error (or serves it), never crashes, never leaves a promise unhandled, and keeps serving the others.
// Afterwards nothing is left behind.

import { LabwireError } from '@labwire/framing';
import { PymodaqActuator, SimulatedStage } from '@labwire/pymodaq';
import { activeResources, installProcessGuard, resourcesLeftOver } from '@labwire/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL, image, nextEvent, RawClient, startServer } from './helpers';

describe.each(ALL)('generation %s: fuzzed client bytes', (gen) => {
  it('end one session with a typed error at most; the server keeps serving', async () => {
    const guard = installProcessGuard();
    const before = activeResources();
    const { server, port } = await startServer(gen, { readTimeoutMs: 200 });
    const stage = new SimulatedStage({ speed: 1e6 });
    const actuator = new PymodaqActuator({
      protocol: gen,
      port,
      reconnect: false,
      handlers: stage.handlers(),
    });
    const errors: unknown[] = [];
    server.on('clientError', ({ error }) => errors.push(error));
    try {
      await actuator.connect();
      await server.waitForClient('ACTUATOR');
      const p = (await import('@labwire/pymodaq/codec')).resolveProfile(gen);
      // Valid messages, cut and corrupted, and plain noise.
      const valid = [
        [p.encodeCommand('Done'), p.encodeDetectorData(image(2, 2))],
        [p.encodeCommand('Info'), p.encodeInfo('name', 1.5)],
        [p.encodeCommand('Infos'), p.encodeString('<s><units>mm</units></s>')],
        [p.encodeCommand('Info_xml'), p.encodePath(['s', 'a']), p.encodeString('<a>1</a>')],
      ].map((parts) => Buffer.concat(parts));
      const mutated = fc
        .tuple(fc.constantFrom(...valid), fc.nat(), fc.nat(255), fc.boolean())
        .map(([bytes, at, value, cut]) => {
          const copy = Uint8Array.from(bytes);
          const i = at % copy.length;
          if (cut) return copy.subarray(0, i);
          copy[i] = value;
          return copy;
        });
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 })), async (bytes) => {
          const raw = await RawClient.connect(port, gen);
          const joined = nextEvent(server, 'client', (c) => c.type === 'GRABBER');
          raw.identify('GRABBER');
          const client = await joined;
          const gone = nextEvent(server, 'clientClosed', (e) => e.client.id === client.id);
          raw.write(bytes);
          raw.socket.end();
          await gone;
          raw.destroy();
          expect((await server.moveAbs(1.25)).value).toBe(1.25);
        }),
        { numRuns: 12 },
      );
      for (const e of errors) expect(LabwireError.isInstance(e)).toBe(true);
    } finally {
      await actuator.close();
      await server.close();
    }
    expect(guard.take()).toEqual([]);
    guard.dispose();
    expect(await resourcesLeftOver(before)).toEqual({});
  });
});
