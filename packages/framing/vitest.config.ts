import { labwireVitest } from '@labwire/vitest-config';

// `pnpm test:coverage` enforces docs/protocols/tcpinterface.md G17's branch coverage for the transport layers.
export default labwireVitest(import.meta.dirname, {
  coverage: {
    provider: 'v8',
    include: ['src/**'],
    exclude: ['src/index.ts'],
    thresholds: { branches: 90 },
  },
});
