// Runs one step: a deadline, timing, narration, and a record for the summary. A failing step is recorded
// (with its typed error) and the demo goes on.

import { LabwireError } from '@labwire/framing';
import type { Narrator } from './narrator';
import type { StepRecord } from './report';

export interface StepContext {
  say(line: string): void;
  /** Aborts when the step's deadline passes. */
  signal: AbortSignal;
  narrator: Narrator;
}

export async function runStep(
  records: StepRecord[],
  narrator: Narrator,
  section: string,
  step: string,
  body: (ctx: StepContext) => Promise<string>,
  deadlineMs = 20_000,
): Promise<boolean> {
  const details: string[] = [];
  narrator.step(`${section}: ${step}`);
  const signal = AbortSignal.timeout(deadlineMs);
  const ctx: StepContext = {
    signal,
    narrator,
    say(line) {
      details.push(line);
      narrator.say(line);
    },
  };
  const t0 = performance.now();
  try {
    const result = await body(ctx);
    const ms = performance.now() - t0;
    records.push({ section, step, ok: true, result, ms, details });
    narrator.done(true, result, ms);
    return true;
  } catch (e) {
    const ms = performance.now() - t0;
    const err = e as Error;
    const error = {
      name: err?.name ?? 'Error',
      ...(LabwireError.isInstance(e) ? { code: e.code } : {}),
      message: err?.message ?? String(e),
    };
    records.push({ section, step, ok: false, result: error.message, ms, details, error });
    narrator.done(false, `${error.name}${error.code ? ` (${error.code})` : ''}: ${error.message}`, ms);
    return false;
  }
}
