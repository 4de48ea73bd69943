export { escapeControl, quote, safeText } from './escape';
export { ExitCode, UsageError } from './exit-codes';
export { float32Shortest, formatFloat32 } from './float32';
export {
  ALLOW_REMOTE_HELP,
  checkListenHost,
  isLoopbackAddress,
  type ListenCheckOptions,
} from './listen';
export { LiveBlock } from './live-block';
export {
  type CliIo,
  type CliOutput,
  createProgram,
  type ProgramOptions,
  printResult,
  type RunOptions,
  reportError,
  runProgram,
  toJson,
} from './program';
export { InteractiveShell, ShellInterrupt, type ShellOptions } from './shell';
export { type SignalSource, STOP_SIGNALS, stopOnSignals } from './signals';
export {
  displayWidth,
  fitWidth,
  formatKeyValues,
  formatTable,
  type TableOptions,
  terminalWidth,
  type WidthSource,
  wrapText,
} from './table';
export { readPackageVersion } from './version';
