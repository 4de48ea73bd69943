// Everything that can go wrong between the client and a device, each a typed error: NAKs, responses that
// do not belong to the request (tl, tcode, data_length, source_ID), truncated responses, silent and absent
// devices, abort and close.

import net from 'node:net';
import { AbortedError, EofError, LabwireError, TimeoutError } from '@labwire/framing';
import { OptoMmpClient, type TcpTransport } from '@labwire/optommp';
import { DeviceError, ResponseMismatchError } from '@labwire/optommp/codec';
import { EpicSimulator, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { ConnectionError, ConnectionLostError } from '@labwire/tcp';
import { waitFor } from '@labwire/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReplyFault } from '../src/simulator/faults';
import { errorOf } from './client-helpers';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A simulator whose replies pass through `fault` (set per test step), and a client on it. */
async function faulty(
  clientOptions: { timeoutMs?: number; sourceId?: number; verifySourceId?: boolean } = {},
) {
  const state: { fault: ((res: Uint8Array) => ReplyFault | undefined) | undefined } = { fault: undefined };
  const sim = await EpicSimulator.start(vectorDeviceOptions({ faults: (_req, res) => state.fault?.(res) }));
  const client = new OptoMmpClient({ host: '127.0.0.1', port: sim.port, timeoutMs: 1000, ...clientOptions });
  cleanup.push(
    () => sim.close(),
    () => client.close(),
  );
  return { sim, client, state };
}

describe('NAK replies', () => {
  it('a NAKed quadlet read and a NAKed block read are DeviceErrors; nothing is read as a value', async () => {
    const { client } = await faulty();
    const q = await errorOf(client.readQuadlet(0xf0f0f000));
    expect(DeviceError.isInstance(q)).toBe(true);
    expect(q).toMatchObject({ rcode: 5, deviceCode: 0xe005, requestTcode: 4, address: 0xf0f0f000 });
    const b = await errorOf(client.readBlock(0xf0f0f000, 64));
    expect(b).toMatchObject({ rcode: 5, requestTcode: 5 });
    expect((b as Error).message).toContain('F0F0F000');
    // The line stays in step: the next request is answered normally.
    expect(await client.getScratchPadIntegerArea(3)).toBe(4242);
  });

  it('busy (0xE008) is marked retryable', async () => {
    const { client, sim } = await faulty();
    sim.device.reject({ from: 0xf030010c, to: 0xf030010f }, 8);
    const e = await errorOf(client.uptime());
    expect(e).toMatchObject({ deviceCode: 0xe008, isRetryable: true });
  });
});

describe('responses that do not belong to the request', () => {
  it('a wrong tl is a ResponseMismatchError (TlMismatch), and the next request works', async () => {
    const { client, state } = await faulty();
    state.fault = (res) => {
      const bad = Uint8Array.from(res);
      bad[2] = ((((bad[2]! >> 2) + 1) & 63) << 2) | (bad[2]! & 3);
      return { kind: 'replace', bytes: bad };
    };
    const e = await errorOf(client.uptime());
    expect(ResponseMismatchError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: 'TlMismatch', field: 'tl' });
    state.fault = undefined;
    expect(await client.getScratchPadIntegerArea(3)).toBe(4242);
  });

  it('a response tcode that is not the partner of the request is TcodeMismatch', async () => {
    const { client, state } = await faulty();
    state.fault = (res) => ({
      kind: 'replace',
      bytes: Uint8Array.of(...res.subarray(0, 3), 0x20, ...res.subarray(4, 12)),
    });
    expect(await errorOf(client.uptime())).toMatchObject({ code: 'TcodeMismatch', expected: 7, actual: 2 });
  });

  it('a data_length other than the one asked for is LengthMismatch, checked before reading data', async () => {
    const { client, state } = await faulty();
    state.fault = (res) => {
      const bad = Uint8Array.from(res);
      bad[13] = 8;
      return { kind: 'replace', bytes: bad };
    };
    expect(await errorOf(client.uptime())).toMatchObject({ code: 'LengthMismatch', expected: 4, actual: 8 });
  });

  it('with verifySourceId, an echo of another source_ID is SourceIdMismatch', async () => {
    const { client, state } = await faulty({ sourceId: 7, verifySourceId: true });
    expect(typeof (await client.uptime())).toBe('number');
    state.fault = (res) => {
      const bad = Uint8Array.from(res);
      bad[5] = 9;
      return { kind: 'replace', bytes: bad };
    };
    expect(await errorOf(client.uptime())).toMatchObject({
      code: 'SourceIdMismatch',
      expected: 7,
      actual: 9,
    });
  });
});

describe('truncated responses and dead devices', () => {
  it('a response cut short by a closing device: ConnectionLostError carrying the partial bytes', async () => {
    const { client, state } = await faulty();
    state.fault = () => ({ kind: 'truncate', bytes: 5 });
    const e = await errorOf(client.setScratchPadIntegerArea(0, 1));
    expect(ConnectionLostError.isInstance(e)).toBe(true);
    const cause = (e as Error).cause;
    expect(EofError.isInstance(cause)).toBe(true);
    expect((cause as EofError).partial).toHaveLength(5);
  });

  it('a response that stops half way: TimeoutError with what did arrive', async () => {
    const { client, state } = await faulty({ timeoutMs: 150 });
    await client.connect({ timeoutMs: 10_000 });
    state.fault = (res) => ({ kind: 'replace', bytes: res.subarray(0, 5) });
    // Virtual time for the deadline (the call's budget and the request's watchdog read performance.now());
    // real sockets and timers otherwise. The deadline passes only after the 5 bytes arrived, however slow
    // the machine.
    const tcp = (client.transport as TcpTransport).tcp;
    const before = tcp.counters.bytesIn;
    vi.useFakeTimers({ toFake: ['performance'] });
    let e: unknown;
    try {
      const pending = errorOf(client.uptime());
      await waitFor(() => tcp.counters.bytesIn >= before + 5);
      vi.advanceTimersByTime(150);
      e = await pending;
    } finally {
      vi.useRealTimers();
    }
    expect(TimeoutError.isInstance(e)).toBe(true);
    expect((e as TimeoutError).received.length).toBe(5);
    state.fault = undefined;
    // The desync policy reconnected: the late bytes never reach the next caller. (This request waits for
    // the reconnect's backoff, so it gets a deadline of its own rather than the 150 ms meant for the fault.)
    expect(await client.getScratchPadIntegerArea(3, { timeoutMs: 10_000 })).toBe(4242);
  });

  it('a silent device: TimeoutError within the deadline; an abort: AbortedError', async () => {
    const { client, state } = await faulty({ timeoutMs: 100 });
    state.fault = () => ({ kind: 'drop' });
    expect(TimeoutError.isInstance(await errorOf(client.uptime()))).toBe(true);
    const ac = new AbortController();
    const pending = errorOf(client.uptime({ signal: ac.signal, timeoutMs: 5000 }));
    setTimeout(() => ac.abort(), 20);
    expect(AbortedError.isInstance(await pending)).toBe(true);
    expect(AbortedError.isInstance(await errorOf(client.uptime({ signal: AbortSignal.abort() })))).toBe(true);
  });

  it('nothing listening: a ConnectionError with code ConnectRefused', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new OptoMmpClient({ host: '127.0.0.1', port, timeoutMs: 1000 });
    cleanup.push(() => client.close());
    const e = await errorOf(client.uptime());
    expect(ConnectionError.isInstance(e) && e.code).toBe('ConnectRefused');
    expect(e).toMatchObject({ code: 'ConnectRefused' });
  });

  it('close() settles a pending request with a typed error', async () => {
    const { client, state } = await faulty({ timeoutMs: 5000 });
    state.fault = () => ({ kind: 'drop' });
    const pending = errorOf(client.uptime());
    await new Promise((r) => setTimeout(r, 20));
    await client.close();
    expect(LabwireError.isInstance(await pending)).toBe(true);
    expect(LabwireError.isInstance(await errorOf(client.uptime()))).toBe(true);
  });

  it('a chunked transfer shares one deadline across its packets', async () => {
    const { client, state } = await faulty({ timeoutMs: 2000 });
    let n = 0;
    state.fault = () => (++n === 2 ? { kind: 'drop' } : undefined);
    const e = await errorOf(client.readBlock(0xf0da0000, 3000, { timeoutMs: 120 }));
    expect(TimeoutError.isInstance(e)).toBe(true);
    // The second packet got what was left of the call's 120 ms, not the client's 2 000 ms.
    expect((e as TimeoutError).timeoutMs).toBeLessThanOrEqual(120);
  });
});
