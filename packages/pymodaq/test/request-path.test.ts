// The per-message request/reply path: the request deadlines of a server session on one timer (framing's
// DeadlineTimer, armed for the earliest; a settled request leaves the watch), move bytes
// reused once written, and the command frame of the last reply taken at hand recognised by its bytes.

import { PassThrough } from 'node:stream';
import { ByteReader, concatBytes, TimeoutError } from '@labwire/framing';
import { afterEach, describe, expect, it } from 'vitest';
import { type Generation, resolveProfile } from '../src/codec';
import type { CommandAtHand } from '../src/codec/profile';
import { PeerGoneError } from '../src/errors';
import { PymodaqActuator } from '../src/index';
import { closeAfterEach, nextEvent, RawClient, startServer } from './helpers';

const track = closeAfterEach();
const GENS = ['B', 'C4', 'D'] as const satisfies readonly Generation[];

/** A raw actuator client identified on a fresh server of `gen`. */
async function rawActuator(gen: Generation) {
  const { server, port } = await startServer(gen);
  track(server);
  const raw = await RawClient.connect(port, gen);
  raw.identify('ACTUATOR');
  await server.waitForClient('ACTUATOR');
  return { server, port, raw };
}

/** Reads the next command and its position (when it has one) from the server. */
async function nextCommand(raw: RawClient): Promise<{ command: string; value: number | undefined }> {
  const command = await raw.profile.readCommand(raw.reader);
  if (command !== 'move_abs' && command !== 'move_rel') return { command, value: undefined };
  return { command, value: (await raw.profile.readPosition(raw.reader)).value };
}

function moveDone(raw: RawClient, value: number): void {
  raw.write(raw.command('move_done'), raw.profile.encodePosition(value, 'mm'));
}

describe.each(GENS)('generation %s: request deadlines on one timer', (gen) => {
  it('a request whose deadline passes rejects with TimeoutError; the next one succeeds', async () => {
    const { server, raw } = await rawActuator(gen);
    const first = server.moveAbs(1, { timeoutMs: 50 });
    expect(await nextCommand(raw)).toEqual({ command: 'move_abs', value: 1 });
    const error = await first.catch((e: unknown) => e);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as TimeoutError).timeoutMs).toBe(50);
    // Its late reply belongs to nobody; the next move gets its own.
    moveDone(raw, 1);
    const second = server.moveAbs(2, { timeoutMs: 5000 });
    expect(await nextCommand(raw)).toEqual({ command: 'move_abs', value: 2 });
    moveDone(raw, 2);
    expect((await second).value).toBe(2);
    raw.destroy();
  });

  it("a settled request's deadline does not expire a later one", async () => {
    const { server, raw } = await rawActuator(gen);
    // Answered at once: the timer stays armed for this deadline (100 ms from now).
    const quick = server.moveAbs(1, { timeoutMs: 100 });
    await nextCommand(raw);
    moveDone(raw, 1);
    expect((await quick).value).toBe(1);
    // Still waiting when that deadline passes: the timer fires, finds nothing due and waits for this one.
    const slow = server.moveAbs(2, { timeoutMs: 10_000 });
    await nextCommand(raw);
    await new Promise((r) => setTimeout(r, 250));
    moveDone(raw, 2);
    expect((await slow).value).toBe(2);
    raw.destroy();
  });

  it('an earlier deadline arms the timer earlier; several deadlines expire each in turn', async () => {
    const { server, raw } = await rawActuator(gen);
    // A long deadline first; a shorter one after it must not wait for it (the test would time out).
    const long = server.moveAbs(3, { timeoutMs: 60_000 });
    const short = server.getActuatorValue({ timeoutMs: 50 });
    const later = server.getActuatorValue({ timeoutMs: 150 });
    const errors = await Promise.all([short.catch((e: unknown) => e), later.catch((e: unknown) => e)]);
    expect(errors.map((e) => TimeoutError.isInstance(e) && e.timeoutMs)).toEqual([50, 150]);
    // The long one still waits, and takes its reply.
    expect(await nextCommand(raw)).toEqual({ command: 'move_abs', value: 3 });
    moveDone(raw, 3);
    expect((await long).value).toBe(3);
    raw.destroy();
  }, 10_000);

  it('abort mid-request rejects that request only; its late reply never answers the next', async () => {
    const { server, raw } = await rawActuator(gen);
    const aborted = new AbortController();
    const call = server.moveAbs(4, { signal: aborted.signal });
    expect(await nextCommand(raw)).toEqual({ command: 'move_abs', value: 4 });
    aborted.abort(new Error('operator'));
    await expect(call).rejects.toMatchObject({ code: 'Aborted' });
    moveDone(raw, 4);
    const unsolicited = nextEvent(server, 'position', (e) => !e.solicited);
    const next = server.moveAbs(5);
    expect(await nextCommand(raw)).toEqual({ command: 'move_abs', value: 5 });
    expect((await unsolicited).position.value).toBe(4);
    moveDone(raw, 5);
    expect((await next).value).toBe(5);
    raw.destroy();
  });

  it('close() settles every waiting request, whatever its deadline', async () => {
    const { server, raw } = await rawActuator(gen);
    const calls = [
      server.moveAbs(1, { timeoutMs: 60_000 }),
      server.getActuatorValue({ timeoutMs: 30_000 }),
      server.moveAbs(2, { timeoutMs: 100 }),
    ].map((p) => p.catch((e: unknown) => e));
    await nextCommand(raw);
    await server.close();
    for (const error of await Promise.all(calls)) expect(PeerGoneError.isInstance(error)).toBe(true);
    raw.destroy();
  });

  it('consecutive moves reuse their bytes once written, each with its own value (both directions)', async () => {
    const { server, raw } = await rawActuator(gen);
    for (let i = 0; i < 50; i++) {
      const target = i * 1.25 - 7;
      const call = server.moveAbs(target);
      expect(await nextCommand(raw)).toEqual({ command: 'move_abs', value: target });
      moveDone(raw, -target);
      expect((await call).value).toBe(-target);
    }
    raw.destroy();
  });

  it('a real actuator answers a stream of moves with the position of each', async () => {
    const { server, port } = await startServer(gen);
    track(server);
    let at = 0;
    const actuator = track(
      new PymodaqActuator({
        protocol: gen,
        port,
        units: 'mm',
        reconnect: false,
        handlers: {
          moveAbs: (target: number) => {
            at = target + 0.5;
            return at;
          },
          getActuatorValue: () => at,
        },
      }),
    );
    await actuator.connect();
    await server.waitForClient('ACTUATOR');
    for (let i = 0; i < 200; i++) expect((await server.moveAbs(i)).value).toBe(i + 0.5);
  });
});

describe.each(['A', 'B', 'C1', 'C4', 'D'] as const)(
  'generation %s: replies taken at hand by the bytes of their command frame',
  (gen) => {
    const readers: ByteReader[] = [];
    afterEach(() => {
      for (const r of readers.splice(0)) r.close();
    });

    async function fed(bytes: Uint8Array): Promise<ByteReader> {
      const stream = new PassThrough();
      const reader = new ByteReader(stream, { timeoutMs: 2000 });
      readers.push(reader);
      stream.write(bytes);
      while (reader.buffered < bytes.length) await new Promise((r) => setImmediate(r));
      return reader;
    }

    it('takes a stream of replies of several commands, each with its own position', async () => {
      const p = resolveProfile(gen);
      const replies: [string, number][] = [
        ['move_done', 1.5],
        ['move_done', -2],
        ['position_is', 3.25],
        ['move_done', 4],
        ['position_is', 5],
        ['position_is', 6],
      ];
      const reader = await fed(
        concatBytes(replies.map(([c, v]) => concatBytes([p.encodeCommand(c), p.encodePosition(v)]))),
      );
      const out: CommandAtHand = {
        positionAfter: new Set(['move_done', 'position_is']),
        position: undefined,
      };
      const taken: [string | undefined, number | undefined][] = [];
      for (let i = 0; i < replies.length; i++) {
        taken.push([p.positionReplyAtHand(reader, out), out.position?.value]);
      }
      expect(taken).toEqual(replies);
      expect(reader.buffered).toBe(0);
    });

    it("never takes a command outside the caller's set, even right after another caller took it", async () => {
      const p = resolveProfile(gen);
      const one = concatBytes([p.encodeCommand('move_done'), p.encodePosition(1)]);
      const reader = await fed(concatBytes([one, one]));
      const doneOnly: CommandAtHand = { positionAfter: new Set(['move_done']), position: undefined };
      const queryOnly: CommandAtHand = { positionAfter: new Set(['position_is']), position: undefined };
      expect(p.positionReplyAtHand(reader, doneOnly)).toBe('move_done');
      // The same frame again, for a caller whose set does not hold it: nothing taken.
      expect(p.positionReplyAtHand(reader, queryOnly)).toBeUndefined();
      expect(queryOnly.position).toBeUndefined();
      expect(reader.buffered).toBe(one.length);
      expect(p.positionReplyAtHand(reader, doneOnly)).toBe('move_done');
      expect(reader.buffered).toBe(0);
    });

    it('a frame that differs from the remembered one in any byte is decoded again', async () => {
      const p = resolveProfile(gen);
      const done = concatBytes([p.encodeCommand('move_done'), p.encodePosition(1)]);
      // Same length as move_done, one letter off: not a reply.
      const other = concatBytes([p.encodeCommand('move_dond'), p.encodePosition(2)]);
      const reader = await fed(concatBytes([done, other]));
      const out: CommandAtHand = { positionAfter: new Set(['move_done']), position: undefined };
      expect(p.positionReplyAtHand(reader, out)).toBe('move_done');
      expect(p.positionReplyAtHand(reader, out)).toBeUndefined();
      expect(reader.buffered).toBe(other.length);
    });

    it('a reply whose position differs from the template in any byte but its fields is not taken', async () => {
      const p = resolveProfile(gen);
      const command = p.encodeCommand('move_done');
      const position = (value: number, timestamp: number) =>
        p.encodePosition(value, undefined, { timestamp });
      const usual = position(1.5, 7);
      // The field bytes (value, timestamp) are those that differ between positions; any bytes there match.
      const others = [position(Math.PI, 1_700_000_000.123), position(-Math.E, -12_345.678)];
      const out: CommandAtHand = { positionAfter: new Set(['move_done']), position: undefined };
      let checked = 0;
      for (let at = 0; at < usual.length; at++) {
        if (others.some((o) => o[at] !== usual[at])) continue;
        const changed = usual.slice();
        changed[at] = changed[at]! ^ 0x40;
        const reader = await fed(concatBytes([command, usual, command, changed]));
        expect(p.positionReplyAtHand(reader, out)).toBe('move_done');
        expect(out.position?.value).toBe(1.5);
        expect(p.positionReplyAtHand(reader, out)).toBeUndefined();
        expect(reader.buffered).toBe(command.length + changed.length);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
  },
);
