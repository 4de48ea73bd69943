// Fails the test during which an unhandled rejection or an uncaught exception happened (docs/protocols/tcpinterface.md G14). An
// unhandled 'error' event on an EventEmitter throws, so it lands here as an uncaught exception.
import { installProcessGuard } from '@labwire/testkit';
import { afterAll, afterEach } from 'vitest';

const guard = installProcessGuard();

afterEach(async () => {
  // Let rejections of the test's last promises surface before checking.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const seen = guard.take();
  if (seen.length > 0) {
    throw new Error(
      `unhandled during the test: ${seen.map((s) => `${s.kind}: ${String((s.error as Error)?.stack ?? s.error)}`).join('\n')}`,
    );
  }
});

afterAll(() => {
  guard.dispose();
});
