export {
  formatResult,
  helpText,
  type LineOutcome,
  runLine,
  runScript,
  type ScriptOptions,
  type ScriptSummary,
  ScriptSyntaxError,
  SHELL_WORDS,
  tokenize,
} from './runner';
export { runShell, type ShellOptions } from './shell';
