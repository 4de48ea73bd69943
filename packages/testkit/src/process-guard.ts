// Records unhandled rejections and uncaught exceptions (an unhandled 'error' event on an EventEmitter
// becomes one) so a test suite can fail on them (docs/protocols/tcpinterface.md G14).

export interface ProcessGuard {
  /** What was recorded since the last call, then cleared. */
  take(): { kind: 'unhandledRejection' | 'uncaughtException'; error: unknown }[];
  /** Removes the process listeners. */
  dispose(): void;
}

export function installProcessGuard(): ProcessGuard {
  let seen: { kind: 'unhandledRejection' | 'uncaughtException'; error: unknown }[] = [];
  const onRejection = (error: unknown) => {
    seen.push({ kind: 'unhandledRejection', error });
  };
  const onException = (error: unknown) => {
    seen.push({ kind: 'uncaughtException', error });
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    take() {
      const out = seen;
      seen = [];
      return out;
    },
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/**
 * For a setup file: fails the test during which an unhandled rejection or an uncaught exception happened
 * (docs/protocols/tcpinterface.md G14; an unhandled 'error' event on an EventEmitter throws, so it lands
 * here as an uncaught exception). `failOnUnhandled({ afterEach, afterAll })` with vitest's hooks, passed
 * in: the kit never imports vitest (benchmarks import it too).
 */
export function failOnUnhandled(hooks: {
  afterEach(fn: () => Promise<void>): unknown;
  afterAll(fn: () => void): unknown;
}): void {
  const guard = installProcessGuard();
  hooks.afterEach(async () => {
    // Let rejections of the test's last promises surface before checking.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const seen = guard.take();
    if (seen.length > 0) {
      throw new Error(
        `unhandled during the test: ${seen.map((s) => `${s.kind}: ${String((s.error as Error)?.stack ?? s.error)}`).join('\n')}`,
      );
    }
  });
  hooks.afterAll(() => guard.dispose());
}
