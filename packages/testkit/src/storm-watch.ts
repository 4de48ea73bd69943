// Issue 10's storm check, shared by the clients that reconnect (tcp, bus, pymodaq): a client works
// against a peer that speaks garbage for a while, then is closed. What must hold (few connections,
// none after close, a close that does not wait out a backoff delay) is asserted by each test.

/** What watchForStorm saw. */
export interface StormWatch {
  /** Calls `call` made (0 without one). */
  calls: number;
  /** Connections the peer had accepted when the watch ended. */
  accepts: number;
  /** Connections the peer had accepted once close() had resolved (and the caller's loop ended). */
  acceptsAfterClose: number;
  /** How long close() took, ms. */
  closeMs: number;
}

/**
 * Lets a client work against `peer` for `watchMs` (with `call`: a caller in a loop that tries again at
 * once, yielding to the event loop between calls; its failures are its own to catch), then `close()`s it.
 */
export async function watchForStorm(options: {
  peer: { readonly accepts: number };
  watchMs: number;
  close: () => Promise<void>;
  call?: () => Promise<unknown>;
}): Promise<StormWatch> {
  const { peer, call } = options;
  let calls = 0;
  let stop = false;
  const loop = (async () => {
    while (call !== undefined && !stop) {
      calls++;
      await call();
      // A call that fails without I/O must not starve the timers.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
  await new Promise<void>((resolve) => setTimeout(resolve, options.watchMs));
  const accepts = peer.accepts;
  stop = true;
  const t0 = performance.now();
  await options.close();
  const closeMs = performance.now() - t0;
  await loop;
  return { calls, accepts, acceptsAfterClose: peer.accepts, closeMs };
}
