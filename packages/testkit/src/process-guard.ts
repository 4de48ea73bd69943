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
