// The pymodaq app's testable parts. The simulated instruments themselves live in @labwire/pymodaq
// (SimulatedStage, GaussianDetector).

export { runPymodaq } from './cli';
export { type ClientOptions, runClient } from './client';
export { decodeHex, nameFields } from './decode';
export { formatData, formatPosition } from './format';
export type { CliOutput, PymodaqIo } from './io';
export { ServeConsole, type ServeOptions, serve } from './serve';
