// Ready-made device configurations.

import type { EpicSimulatorOptions } from './epic-simulator';
import { VECTOR_IDENTITY } from './identity';
import type { RackConfig } from './rack';

/** The default rack with every input held still and the channel values of the V vectors. */
export const VECTOR_RACK: RackConfig = {
  modules: [
    {
      slot: 0,
      kind: 'digital-output',
      channels: 24,
      partNumber: 'GRV-ODCSRC-24',
      initial: [{ channel: 5, state: 1 }],
    },
    { slot: 1, kind: 'digital-input', channels: 24, partNumber: 'GRV-IDCSW-24' },
    {
      slot: 2,
      kind: 'analog-input',
      channels: 24,
      partNumber: 'GRV-IV-24',
      drift: false,
      initial: [{ channel: 0, value: 12.5, min: -1.25, max: 99.5 }],
    },
    { slot: 3, kind: 'analog-output', channels: 8, partNumber: 'GRV-OVMALC-8' },
  ],
};

/**
 * The simulator state behind the shared V vectors (vectors/README.md): memory-map version 7, firmware
 * R4.1c, the vector MAC and IP addresses, part number GRV-EPIC-PR1, digital module 0 channel 5 on, analog
 * module 2 channel 0 at 12.5 (min −1.25, max 99.5), integer scratch pad [3] = 4242, float [7] = 3.14,
 * string slots 2 = "hello" and 5 = 65 × "A"; every other address under `FFFF` is zero-filled memory except
 * F0F00000–F0FFFFFF and F0D81024–F0D81027, which are NAKed with rcode 5. Pass `powerupClearPending: true`
 * for the PUC-pending vectors (V33–V46).
 */
export function vectorDeviceOptions<T extends EpicSimulatorOptions>(
  overrides: T = {} as T,
): EpicSimulatorOptions & T {
  return {
    identityBase: VECTOR_IDENTITY,
    rack: VECTOR_RACK,
    addressMap: 'all',
    unmapped: [
      { from: 0xf0f0_0000, to: 0xf0ff_ffff },
      { from: 0xf0d8_1024, to: 0xf0d8_1027 },
    ],
    scratchPad: {
      int32: { 3: 4242 },
      float32: { 7: 3.14 },
      strings: { 2: 'hello', 5: 'A'.repeat(65) },
    },
    ...overrides,
  };
}
