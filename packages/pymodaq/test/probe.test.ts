// probePymodaq and generationsOfServerBytes (issue 16): which generation a server speaks, from the
// handshakes it refuses and from the first bytes it sends. Real servers on loopback (labwire's, and one
// that behaves as PyMoDAQ 4.4.5 does with a type string it does not take).

import { fromHex } from '@labwire/framing';
import { PymodaqServer, probePymodaq } from '@labwire/pymodaq';
import { type Generation, resolveProfile } from '@labwire/pymodaq/codec';
import { LoopbackServer, startSshBannerPeer } from '@labwire/testkit';
import { describe, expect, it } from 'vitest';
import { generationsOfServerBytes } from '../src/probe';
import { nextEvent, withCleanup } from './helpers';

const FAST = { waitMs: 800, greetingMs: 150 };

async function server(protocol: Generation, role: 'actuator' | 'detector') {
  const s = new PymodaqServer({ protocol, role, port: 0 });
  const { port } = await s.listen();
  return { server: s, port };
}

describe('probePymodaq', () => {
  it('a D actuator server: D, after one handshake; it never sees an A-C type string', () =>
    withCleanup(async (track) => {
      const { server: s, port } = await server('D', 'actuator');
      track(s);
      let refused = 0;
      s.on('rejected', () => refused++);
      const left = nextEvent(s, 'clientClosed', () => true, 10_000);
      const result = await probePymodaq({ port, ...FAST });
      expect(result).toMatchObject({
        verdict: 'pymodaq',
        generations: ['D'],
        confidence: 'likely',
        accepts: ['ACTUATOR'],
      });
      expect(result.steps.map((x) => `${x.sent}: ${x.outcome}`)).toEqual(['D ACTUATOR: silent']);
      // The probe left with Quit (a PyMoDAQ server spins on a silent disconnect, docs/protocols/pymodaq.md §9 a), and no
      // connection ended without a handshake.
      expect((await left).reason).toBe('Quit');
      expect(refused).toBe(0);
    }));

  it('a C4 detector server: both D handshakes and the A-C ACTUATOR refused, GRABBER kept', () =>
    withCleanup(async (track) => {
      const { server: s, port } = await server('C4', 'detector');
      track(s);
      const result = await probePymodaq({ port, ...FAST });
      expect(result).toMatchObject({
        verdict: 'pymodaq',
        generations: ['C4', 'C3', 'C2', 'C1', 'B', 'A'],
        confidence: 'likely',
        accepts: ['GRABBER'],
      });
      expect(result.steps.map((x) => x.outcome)).toEqual(['closed', 'closed', 'closed', 'silent']);
      expect(result.summary).toMatch(/detector \(DAQ_Viewer\) server speaking A-C/);
    }));

  it('a server behaving as PyMoDAQ 4.4.5 (reads one str, closes on a type it does not take)', () =>
    withCleanup(async (track) => {
      const pymodaq44 = track(
        await LoopbackServer.start(({ socket }) => {
          let buffered = Buffer.alloc(0);
          socket.on('data', (chunk: Buffer) => {
            buffered = Buffer.concat([buffered, chunk]);
            if (buffered.length < 4 || buffered.length < 4 + buffered.readUInt32BE(0)) return;
            const type = buffered.subarray(4, 4 + buffered.readUInt32BE(0)).toString('latin1');
            if (type !== 'ACTUATOR') socket.end();
            buffered = Buffer.alloc(0);
            socket.removeAllListeners('data');
          });
        }),
      );
      const result = await probePymodaq({ port: pymodaq44.port, ...FAST });
      expect(result.generations[0]).toBe('C4');
      expect(result.accepts).toEqual(['ACTUATOR']);
    }));

  it('a server that sends a move at once is pinned to its layout (C2)', () =>
    withCleanup(async (track) => {
      const { server: s, port } = await server('C2', 'actuator');
      track(s);
      s.on('client', (c) => void s.moveAbs(1.5, { client: c.id, units: 'mm' }).catch(() => {}));
      const result = await probePymodaq({ port, ...FAST });
      expect(result).toMatchObject({
        verdict: 'pymodaq',
        generations: ['C2'],
        confidence: 'confirmed',
        command: 'move_abs',
      });
    }));

  it('an SSH server speaks first: not PyMoDAQ; nothing listening: unreachable', () =>
    withCleanup(async (track) => {
      const ssh = track(await startSshBannerPeer());
      expect((await probePymodaq({ port: ssh.port, ...FAST })).verdict).toBe('not-pymodaq');
      const gone = await LoopbackServer.start(() => {});
      const port = gone.port;
      await gone.close();
      expect((await probePymodaq({ port, ...FAST })).verdict).toBe('unreachable');
    }));

  it('an abort ends the probe with AbortedError', async () => {
    const controller = new AbortController();
    await withCleanup(async (track) => {
      const { server: s, port } = await server('D', 'actuator');
      track(s);
      const probing = probePymodaq({ port, waitMs: 30_000, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(probing).rejects.toMatchObject({ code: 'Aborted' });
    });
  });
});

describe('generationsOfServerBytes', () => {
  const bytes = (
    g: Generation,
    command: string,
    payload?: (p: ReturnType<typeof resolveProfile>) => Uint8Array,
  ) => {
    const p = resolveProfile(g);
    return Buffer.concat([p.encodeCommand(command), payload?.(p) ?? new Uint8Array(0)]);
  };

  it('gen D frames name themselves', () => {
    expect(generationsOfServerBytes(bytes('D', 'move_abs', (p) => p.encodePosition(1.5, 'mm')))).toEqual({
      generations: ['D'],
      command: 'move_abs',
    });
  });

  it('a scalar position is A or B; a DataActuator only its own layout', () => {
    expect(generationsOfServerBytes(bytes('B', 'move_rel', (p) => p.encodePosition(1))).generations).toEqual([
      'B',
      'A',
    ]);
    for (const g of ['C1', 'C2', 'C3', 'C4'] as const) {
      const b = bytes(g, 'move_abs', (p) => p.encodePosition(2, 'mm'));
      expect(generationsOfServerBytes(b).generations).toEqual([g]);
    }
  });

  it('set_info: gen A paths carry no item tags', () => {
    const setInfo = (g: Generation) =>
      bytes(g, 'set_info', (p) =>
        Buffer.concat([p.encodePath(['settings_client', 'x']), p.encodeString('<x/>')]),
      );
    expect(generationsOfServerBytes(setInfo('A')).generations).toEqual(['A']);
    expect(generationsOfServerBytes(setInfo('B')).generations).toEqual(['C4', 'C3', 'C2', 'C1', 'B']);
  });

  it('commands without payload say A-C or D; anything else says nothing', () => {
    expect(generationsOfServerBytes(bytes('C4', 'Send Data 2D')).generations).toHaveLength(6);
    expect(generationsOfServerBytes(fromHex('5353482d322e30')).generations).toEqual([]);
    expect(generationsOfServerBytes(bytes('C4', 'Done')).generations).toEqual([]);
  });
});
