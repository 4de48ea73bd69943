// OptoMMP against the embedded groov EPIC simulator: the three jobs of Opto 22's Python examples
// (uptime, read a digital point, write one), a scratch pad string round trip, and a watch.

import { formatFloat32 } from '@labwire/cli-kit';
import type { OptoMmpClient } from '@labwire/optommp';
import type { Narrator } from './narrator';
import type { StepRecord } from './report';
import { runStep } from './steps';

export async function optommpSteps(
  records: StepRecord[],
  narrator: Narrator,
  client: OptoMmpClient,
  endpoint: string,
): Promise<void> {
  const section = 'OptoMMP';
  narrator.section(
    'OptoMMP · groov EPIC',
    `A simulated groov EPIC (24-ch digital out, 24-ch digital in, 24-ch analog in, 8-ch analog out) on ${endpoint}.\n` +
      'Every call is one request/response through TcpInterface: transaction label checked, device errors typed.',
  );

  await runStep(records, narrator, section, 'uptime (seed script 1)', async ({ say, signal }) => {
    const status = await client.readStatus({ signal });
    say(
      `firmware ${status.firmwareVersion}, memory map v${status.memoryMapVersion}, MAC ${status.macAddress}`,
    );
    const ms = await client.uptime({ signal });
    say(`F030010C read as one quadlet: ${ms} ms since power-up`);
    return `uptime ${ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;
  });

  await runStep(
    records,
    narrator,
    section,
    'read a digital point (seed script 2)',
    async ({ say, signal }) => {
      const state = await client.getDigitalPointState(1, 4, { signal });
      say('module 1 (digital input), channel 4: the state quadlet of the EPIC I/O map');
      return `module 1 channel 4 is ${state ? 'on' : 'off'}`;
    },
  );

  await runStep(
    records,
    narrator,
    section,
    'write a digital point and read it back (seed script 3)',
    async ({ say, signal }) => {
      const before = await client.getDigitalPointState(0, 3, { signal });
      await client.setDigitalPointState(0, 3, !before, { signal });
      const after = await client.getDigitalPointState(0, 3, { signal });
      say(`module 0 (digital output), channel 3: ${before ? 'on' : 'off'} → wrote ${!before ? 'on' : 'off'}`);
      if (after === before) throw new Error('the point did not change');
      return `module 0 channel 3 now ${after ? 'on' : 'off'} (read back)`;
    },
  );

  await runStep(records, narrator, section, 'scratch pad string round trip', async ({ say, signal }) => {
    // Scratch pad strings are bytes; characters up to U+00FF travel as themselves.
    const text = 'labwire · 25 µm';
    await client.setScratchPadStringArea(5, text, { signal });
    const back = await client.getScratchPadStringArea(5, { signal });
    say('slot 5: a 2-byte length word, then the characters (the python package never decoded these)');
    say(`wrote "${text}", read "${back}"`);
    if (back !== text) throw new Error(`read back "${back}"`);
    await client.setScratchPadFloatArea(7, 3.25, { signal });
    const f = await client.getScratchPadFloatArea(7, { signal });
    say(`float scratch pad [7] = ${formatFloat32(f)}`);
    return `"${back}" survived the round trip`;
  });

  await runStep(records, narrator, section, 'watch a few points', async ({ say, signal }) => {
    const samples: string[] = [];
    for await (const sample of client.watch(
      [
        { kind: 'uptime', name: 'uptime' },
        { kind: 'analog', module: 2, channel: 0, name: 'AI 2/0' },
        { kind: 'digital', module: 0, channel: 3, name: 'DO 0/3' },
      ],
      { intervalMs: 100, count: 3, signal },
    )) {
      // The analog input is a float32: shown at float32 precision.
      const line = sample.values
        .map((v) => `${v.name} = ${v.point.kind === 'analog' ? formatFloat32(v.value as number) : v.value}`)
        .join(', ');
      say(`#${sample.sequence}: ${line}`);
      samples.push(line);
    }
    return `${samples.length} samples at 100 ms (the analog input drifts like a real signal)`;
  });
}
