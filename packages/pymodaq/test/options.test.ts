// Options the server and the bridge share are checked by one rule, before anything listens.

import { PymodaqBridge, PymodaqServer } from '@labwire/pymodaq';
import { describe, expect, it } from 'vitest';

const server = (maxQueuedMessages?: number) => new PymodaqServer({ protocol: 'D', maxQueuedMessages });
const bridge = (maxQueuedMessages?: number) =>
  new PymodaqBridge({ clientProtocol: 'C4', serverProtocol: 'D', maxQueuedMessages });

describe('maxQueuedMessages', () => {
  it.each([
    ['PymodaqServer', server],
    ['PymodaqBridge', bridge],
  ])(
    '%s takes a whole number >= 1 (default 32) and refuses anything else with RangeError',
    async (_, make) => {
      for (const ok of [undefined, 1, 32, 1000]) await make(ok).close();
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
        expect(() => make(bad)).toThrow(
          new RangeError(`maxQueuedMessages must be a whole number >= 1, got ${bad}`),
        );
    },
  );
});
