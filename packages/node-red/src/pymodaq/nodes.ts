// The PyMoDAQ nodes: a flow as a remote instrument (actuator, detector) and a flow driving instruments
// through a labwire PyMoDAQ server.

import type { NodeAPI } from '../red';
import { registerInstrumentNodes } from './instrument-nodes';
import { registerServerNodes } from './server-nodes';

export function registerPymodaqNodes(RED: NodeAPI): void {
  registerInstrumentNodes(RED);
  registerServerNodes(RED);
}
