// Commands are a handful of constant strings: each is encoded once per profile and the bytes reused
// (they are only ever written, never modified).

import type { WireProfile } from './codec';

const cache = new WeakMap<WireProfile, Map<string, Uint8Array>>();

export function commandBytes(profile: WireProfile, command: string): Uint8Array {
  let byCommand = cache.get(profile);
  if (byCommand === undefined) {
    byCommand = new Map();
    cache.set(profile, byCommand);
  }
  let bytes = byCommand.get(command);
  if (bytes === undefined) {
    bytes = profile.encodeCommand(command);
    // Bounded: only commands this package sends are cached (a few dozen at most).
    if (byCommand.size < 64) byCommand.set(command, bytes);
  }
  return bytes;
}
