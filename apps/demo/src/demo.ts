// The main job: every labwire layer end to end, on embedded simulators bound to 127.0.0.1 with
// ephemeral ports. Returns a report; the CLI prints it as a table or JSON.

import type { Writable } from 'node:stream';
import { InstrumentSim } from '@labwire/bus/simulator';
import { terminalWidth } from '@labwire/cli-kit';
import { OptoMmpClient } from '@labwire/optommp';
import { EpicSimulator } from '@labwire/optommp/simulator';
import { busSteps } from './bus-steps';
import { type Narrator, silentNarrator, textNarrator } from './narrator';
import { optommpSteps } from './optommp-steps';
import { pymodaqSteps } from './pymodaq-steps';
import type { DemoReport, StepRecord } from './report';
import { resilienceSteps } from './resilience-steps';

export interface DemoOptions {
  /** Narrate nothing while running (the caller prints the report as JSON). */
  json?: boolean;
  /** Draw progress bars (default: when `err` is a terminal and not in JSON mode). */
  progress?: boolean;
  out?: Writable;
  err?: Writable;
  /** Columns to fit the narration to. Default: the terminal's, else $COLUMNS, else 80. */
  width?: number;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const progress = options.progress ?? (!options.json && (err as { isTTY?: boolean }).isTTY === true);
  const width = options.width ?? terminalWidth(out as { isTTY?: boolean; columns?: number });
  const narrator: Narrator = options.json ? silentNarrator(err) : textNarrator(out, err, progress, width);
  const records: StepRecord[] = [];
  const t0 = performance.now();

  const epic = { current: await EpicSimulator.start({ host: '127.0.0.1', port: 0 }) };
  const instrument = await InstrumentSim.start({ host: '127.0.0.1', port: 0 });
  const endpoints = {
    'groov EPIC simulator (OptoMMP)': `127.0.0.1:${epic.current.port}`,
    'instrument simulator (SCPI-like)': `127.0.0.1:${instrument.port}`,
    'PyMoDAQ servers': '127.0.0.1, ephemeral ports per scan',
  };
  if (!options.json) {
    out.write('labwire demo: every layer, on embedded simulators (loopback only)\n');
    for (const [name, where] of Object.entries(endpoints)) out.write(`  ${name.padEnd(34)} ${where}\n`);
  }

  const client = new OptoMmpClient({
    host: '127.0.0.1',
    port: epic.current.port,
    timeoutMs: 2_000,
    connectTimeoutMs: 1_000,
    reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
  });
  try {
    await optommpSteps(records, narrator, client, endpoints['groov EPIC simulator (OptoMMP)']);
    await pymodaqSteps(records, narrator);
    await busSteps(records, narrator, instrument.port);
    await resilienceSteps(records, narrator, client, epic);
  } finally {
    await client.close();
    await epic.current.close();
    await instrument.close();
  }
  return {
    ok: records.length > 0 && records.every((r) => r.ok),
    totalMs: performance.now() - t0,
    steps: records,
    endpoints,
  };
}
