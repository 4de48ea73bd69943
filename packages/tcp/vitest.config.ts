import { labwireVitest } from '@labwire/vitest-config';

// test/setup.ts fails any test during which an unhandled rejection or uncaught exception (an unhandled
// 'error' event included) happened (spec G14).
export default labwireVitest(import.meta.dirname, { setupFiles: ['./test/setup.ts'] });
