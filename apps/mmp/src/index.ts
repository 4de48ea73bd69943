export { runMmp } from './cli';
export type { CliOutput, MmpIo } from './io';
