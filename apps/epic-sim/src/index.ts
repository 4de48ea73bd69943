export { type CliOutput, type EpicSimIo, runEpicSim } from './cli';
