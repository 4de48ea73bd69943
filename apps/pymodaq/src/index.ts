// The pymodaq app's testable parts (the demo reuses them). The simulated instruments themselves live in
// @labwire/pymodaq (SimulatedStage, GaussianDetector).

export { GaussianDetector, SimulatedStage } from '@labwire/pymodaq';
export { runPymodaq } from './cli';
export { type ClientOptions, runClient } from './client';
export { decodeHex } from './decode';
export { formatData, formatPosition } from './format';
export type { CliOutput, PymodaqIo } from './io';
export { ServeConsole, type ServeOptions, serve } from './serve';
