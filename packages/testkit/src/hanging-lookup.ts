// A resolver that never answers until released. A SYN that is never answered cannot be produced on
// loopback everywhere (some network stacks accept beyond the backlog), but a connect that hangs in name
// resolution exercises the same connect deadline: `net.connect` is still connecting when it passes.

import type { LookupFunction } from 'node:net';

export interface HangingLookup {
  lookup: LookupFunction;
  /** How many lookups were started. */
  readonly calls: number;
  /** Answers every pending lookup with ENOTFOUND (a destroyed socket ignores the answer). */
  release(): void;
}

export function hangingLookup(): HangingLookup {
  const pending: Parameters<LookupFunction>[2][] = [];
  let calls = 0;
  return {
    lookup: (_hostname, _options, callback) => {
      calls++;
      pending.push(callback);
    },
    get calls() {
      return calls;
    },
    release() {
      for (const callback of pending.splice(0)) {
        const error = Object.assign(new Error('lookup released'), { code: 'ENOTFOUND' });
        callback(error, '', 0);
      }
    },
  };
}

/**
 * A resolver that answers with `addresses` in this order (as a dual-stack resolver does for `localhost`:
 * `::1` first on Node >= 17), whatever the machine's hosts file says.
 */
export function staticLookup(addresses: readonly { address: string; family: 4 | 6 }[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const list = addresses.filter((a) => wanted === 0 || a.family === wanted);
    queueMicrotask(() => {
      if (list.length === 0) {
        callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
      } else if (options.all) {
        callback(
          null,
          list.map((a) => ({ address: a.address, family: a.family })),
        );
      } else {
        callback(null, list[0]!.address, list[0]!.family);
      }
    });
  };
}
