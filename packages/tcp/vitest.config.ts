import { labwireVitest } from '@labwire/vitest-config';

// test/setup.ts fails any test during which an unhandled rejection or uncaught exception (an unhandled
// 'error' event included) happened (docs/protocols/tcpinterface.md G14). `pnpm test:coverage` enforces docs/protocols/tcpinterface.md G17's branch coverage.
export default labwireVitest(import.meta.dirname, {
  setupFiles: ['./test/setup.ts'],
  coverage: {
    provider: 'v8',
    include: ['src/**'],
    exclude: ['src/index.ts', 'src/options.ts'],
    thresholds: { branches: 90 },
  },
});
