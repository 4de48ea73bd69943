export { CancellableBus } from './cancellable-bus';
export { runTcpbus, type TcpbusIo } from './cli';
export {
  createCmdTcp,
  formatResult,
  helpText,
  type LineOutcome,
  resultJson,
  runLine,
  runScript,
  type ScriptOptions,
  type ScriptSummary,
  ScriptSyntaxError,
  SHELL_WORDS,
  tokenize,
} from './runner';
export { runShell, type ShellOptions } from './shell';
