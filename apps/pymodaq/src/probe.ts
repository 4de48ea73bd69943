// `pymodaq probe host:port`: which PyMoDAQ generation a server speaks (probePymodaq from
// @labwire/pymodaq), with the evidence: each handshake tried and what the server did with it. Exit 0 when
// a PyMoDAQ server was recognised, 1 otherwise.

import { escapeControl } from '@labwire/cli-kit';
import { toHex } from '@labwire/framing';
import { type ProbeResult, probePymodaq } from '@labwire/pymodaq';
import { isLocalHost } from './endpoint';
import { line, type PymodaqIo } from './io';

type ProbeStep = ProbeResult['steps'][number];

export interface ProbeCliOptions {
  host: string;
  port: number;
  /** How long to watch each handshake, ms. */
  waitMs: number;
  json: boolean;
}

function outcome(step: ProbeStep): string {
  switch (step.outcome) {
    case 'closed':
      return `refused: closed after ${step.afterMs} ms`;
    case 'reset':
      return `refused: reset after ${step.afterMs} ms`;
    case 'silent':
      return `kept, silent for ${step.afterMs} ms`;
    case 'data':
      return `kept, sent ${step.bytes.length} byte(s): ${toHex(step.bytes.subarray(0, 24))}${step.bytes.length > 24 ? '…' : ''}`;
    case 'greeted':
      return `spoke first: ${toHex(step.bytes.subarray(0, 24))} ${JSON.stringify(Buffer.from(step.bytes.subarray(0, 40)).toString('latin1'))}`;
    case 'refused':
      return 'connection refused';
    case 'connect-timeout':
      return 'no connection in time';
  }
}

function advice(result: ProbeResult): string | undefined {
  const [first, ...others] = result.generations;
  if (first === undefined) return undefined;
  if (others.length === 0) return `use: --protocol ${first}`;
  return `use: --protocol ${first} (or ${others.join(', ')}: the server's PyMoDAQ version decides)`;
}

/** Runs `pymodaq probe`; resolves with the exit status. */
export async function runProbe(options: ProbeCliOptions, io: PymodaqIo): Promise<number> {
  if (!isLocalHost(options.host) && !options.json) {
    line(io.stderr, `pymodaq: note: probing ${escapeControl(options.host)}, which is not this machine`);
  }
  const result = await probePymodaq({
    host: options.host,
    port: options.port,
    waitMs: options.waitMs,
    signal: io.signal,
  });
  if (options.json) {
    const steps = result.steps.map((s) => ({ ...s, bytes: toHex(s.bytes) }));
    line(io.stdout, JSON.stringify({ ...result, steps }, null, 2));
  } else {
    const out = (text: string) => line(io.stdout, escapeControl(text));
    out(`${result.host}:${result.port}: ${result.summary}`);
    for (const step of result.steps) out(`  ${step.sent.padEnd(13)} ${outcome(step)}`);
    const use = advice(result);
    if (use !== undefined) out(`  ${use}`);
  }
  return result.verdict === 'pymodaq' ? 0 : 1;
}
