import { labwireVitest } from '@labwire/vitest-config';

// test/node-red-runtime.ts picks the Node-RED the tests load: 4.x (a dev dependency) on Node 20, 5.x on
// Node >= 22.9 (installed on first use into .tmp/, since Node-RED 5 cannot be installed on Node 20).
// test/setup.ts fails a test during which an unhandled rejection or uncaught exception happened. Files
// run one at a time: each starts a Node-RED runtime (one per process) and simulators.
export default labwireVitest(import.meta.dirname, {
  globalSetup: ['./test/node-red-runtime.ts'],
  setupFiles: ['./test/setup.ts'],
  fileParallelism: false,
  testTimeout: 30_000,
  hookTimeout: 60_000,
});
