// One exit-status rule for every labwire app: 0 done, 1 the job failed at run time (a device, a
// connection, a file the job needed), 2 the command line was wrong (unknown option, bad value, missing
// argument). Shell scripts can tell "fix your command" from "try again later" without parsing text.

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in the command line found after parsing: exit status 2, the message without a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Commander's own errors (unknown option, bad argument, help and version shown) carry a `commander.` code. */
export function isCommanderError(e: unknown): e is Error & { code: string; exitCode: number } {
  const x = e as { code?: unknown; exitCode?: unknown } | undefined;
  return typeof x?.code === 'string' && x.code.startsWith('commander.') && typeof x.exitCode === 'number';
}

/** Whether `e` is the user's mistake on the command line (exit status 2). */
export function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || (isCommanderError(e) && e.exitCode !== 0);
}
