// `@labwire/bus/simulator`: a SCPI-like instrument on loopback to try the bus against (tests, benchmarks,
// demos; the tcpbus app's `tcpbus sim` runs it as a program).

export type { InstrumentSimStats } from './instrument-sim';
export { InstrumentSim, type InstrumentSimOptions } from './instrument-sim';
