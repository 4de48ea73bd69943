import { labwireVitest } from '@labwire/vitest-config';

// test/setup.ts fails any test during which an unhandled rejection or uncaught exception happened.
// Session tests start brokers (aedes in process, Mosquitto as a child process): files run one at a time
// so two suites never compete for the two cores with broker restarts and reconnect timers.
export default labwireVitest(import.meta.dirname, {
  setupFiles: ['./test/setup.ts'],
  fileParallelism: false,
});
