// Shared set-up for client tests: a simulator in the vector state on 127.0.0.1 and a client on it, with
// every request the device sees recorded.

import { TimeoutError, toHex } from '@labwire/framing';
import { OptoMmpClient, PipelineDesyncError, type TcpTransport } from '@labwire/optommp';
import { encodePacket } from '@labwire/optommp/codec';
import { EpicSimulator, type EpicSimulatorOptions, vectorDeviceOptions } from '@labwire/optommp/simulator';
import { afterEach, expect } from 'vitest';
import type { OptoMmpClientOptions } from '../src/client-options';
import { scratchPadInt32Address } from '../src/codec/addresses';
import type { DecodedPacket } from '../src/codec/decode';

export interface Rig {
  sim: EpicSimulator;
  client: OptoMmpClient;
  requests: DecodedPacket[];
  /** The recorded requests as hex with the tl bits cleared (the vectors were sent with tl 0). */
  requestHex(): string[];
  close(): Promise<void>;
}

export async function rig(
  simOptions: EpicSimulatorOptions = {},
  clientOptions: Partial<OptoMmpClientOptions> = {},
): Promise<Rig> {
  const sim = await EpicSimulator.start(vectorDeviceOptions(simOptions));
  const requests: DecodedPacket[] = [];
  sim.device.on('request', (e) => requests.push(e.request));
  const transport = clientOptions.transport ?? 'tcp';
  const client = new OptoMmpClient({
    host: '127.0.0.1',
    port: transport === 'udp' ? sim.udpAddress!.port : sim.port,
    timeoutMs: 2000,
    ...clientOptions,
  });
  return {
    sim,
    client,
    requests,
    requestHex: () => requests.map((r) => toHex(encodePacket({ ...r, tl: 0 }))),
    close: async () => {
      await client.close();
      await sim.close();
    },
  };
}

/** What `p` rejects with, or undefined when it resolves: for asserting on the error itself. */
export const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/**
 * Set-up of the pipelined-client tests: `setup()` gives a simulator whose int32 scratch pad holds
 * index × 7 + 1 and a pipelined client on it (window 8 unless told otherwise), both closed after each test,
 * with whatever else a test pushes on `cleanup` (call once per test file, at its top level).
 */
export function pipelinedRigs() {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const setup = async (sim: EpicSimulatorOptions = {}, client: Partial<OptoMmpClientOptions> = {}) => {
    const s = await EpicSimulator.start(sim);
    cleanup.push(() => s.close());
    const values = new Uint8Array(4 * 512);
    const view = new DataView(values.buffer);
    for (let i = 0; i < 512; i++) view.setInt32(4 * i, i * 7 + 1, false);
    s.device.poke(scratchPadInt32Address(0), values);
    const c = new OptoMmpClient({ host: '127.0.0.1', port: s.port, timeoutMs: 5_000, window: 8, ...client });
    cleanup.push(() => c.close());
    const pipeline = () => (c.transport as TcpTransport).pipeline!;
    return { s, c, pipeline };
  };
  return { setup, cleanup };
}

/**
 * Requests in flight on a link whose replies carried wrong labels: none was delivered a value (never
 * another request's), each failed with PipelineDesyncError or, when it was sent after the desync, its
 * TimeoutError.
 */
export function expectNoneDelivered(results: PromiseSettledResult<unknown>[]): void {
  for (const r of results) {
    if (r.status === 'fulfilled') throw new Error(`delivered ${String(r.value)} from a mislabelled reply`);
    expect(PipelineDesyncError.isInstance(r.reason) || TimeoutError.isInstance(r.reason)).toBe(true);
  }
}
