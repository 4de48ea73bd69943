// Stopping a program from outside: SIGINT (Ctrl-C on a terminal in cooked mode), SIGTERM (kill, a
// process manager, `pnpm` passing on its own termination) and SIGHUP (the terminal went away) all ask
// for a clean stop: servers close their sockets and the program exits by itself. A second signal while
// stopping exits at once (status 128 + signal number), so a stuck stop never needs `kill -9`.

import os from 'node:os';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SignalSource {
  once(event: (typeof STOP_SIGNALS)[number], listener: () => void): unknown;
  on(event: (typeof STOP_SIGNALS)[number], listener: () => void): unknown;
  exit(code?: number): never;
}

/** An AbortSignal that aborts on the first stop signal; the second one exits at once. */
export function stopOnSignals(source: SignalSource = process): AbortSignal {
  const controller = new AbortController();
  for (const name of STOP_SIGNALS) {
    source.on(name, () => {
      if (!controller.signal.aborted) controller.abort(new Error(`stopped by ${name}`));
      else source.exit(128 + (os.constants.signals[name] ?? 1));
    });
  }
  return controller.signal;
}
