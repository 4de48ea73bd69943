// Shared set-up for client tests: a simulator in the vector state on 127.0.0.1 and a client on it, with
// every request the device sees recorded.

import { toHex } from '@labwire/framing';
import { OptoMmpClient } from '@labwire/optommp';
import { encodePacket } from '@labwire/optommp/codec';
import { EpicSimulator, type EpicSimulatorOptions, vectorDeviceOptions } from '@labwire/optommp/simulator';
import type { OptoMmpClientOptions } from '../src/client-options';
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
