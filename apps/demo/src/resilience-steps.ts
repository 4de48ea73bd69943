// A connection survived: the EPIC simulator goes away mid-run and comes back on the same port; the same
// OptoMmpClient carries on (typed errors while it is down, backoff with jitter, no replayed writes).

import type { OptoMmpClient } from '@labwire/optommp';
import { EpicSimulator } from '@labwire/optommp/simulator';
import type { Narrator } from './narrator';
import type { StepRecord } from './report';
import { runStep } from './steps';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function resilienceSteps(
  records: StepRecord[],
  narrator: Narrator,
  client: OptoMmpClient,
  simulator: { current: EpicSimulator },
): Promise<void> {
  const section = 'Resilience';
  narrator.section(
    'A connection survives',
    'The groov EPIC simulator is stopped and restarted mid-run. The client keeps polling; while the device is\n' +
      'gone every call fails fast with a typed error, then the link comes back by itself.',
  );
  await runStep(records, narrator, section, 'device restarted mid-run', async ({ say, signal }) => {
    const port = simulator.current.port;
    const device = simulator.current.device;
    const failures = new Map<string, number>();
    let ok = 0;
    let polling = true;
    let firstAfterRestart: number | undefined;
    let restartedAt = 0;
    const poll = (async () => {
      while (polling && !signal.aborted) {
        try {
          await client.uptime({ timeoutMs: 300, signal });
          ok++;
          if (restartedAt > 0 && firstAfterRestart === undefined)
            firstAfterRestart = performance.now() - restartedAt;
        } catch (e) {
          const code = (e as { code?: string }).code ?? (e as Error).name;
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
        await sleep(25);
      }
    })();
    await sleep(300);
    const before = ok;
    await simulator.current.close();
    say(`after ${before} good reads: simulator on port ${port} stopped`);
    await sleep(600);
    simulator.current = await EpicSimulator.start({ device, port });
    restartedAt = performance.now();
    say(`simulator restarted on the same port (same device state)`);
    for (let i = 0; i < 100 && firstAfterRestart === undefined && !signal.aborted; i++) await sleep(20);
    await sleep(200);
    polling = false;
    await poll;
    const text = await client.getScratchPadStringArea(5, { signal });
    say(`while it was down: ${[...failures].map(([c, n]) => `${n} × ${c}`).join(', ') || 'no failures'}`);
    if (firstAfterRestart === undefined) throw new Error('the client did not recover');
    say(`first good read ${firstAfterRestart.toFixed(0)} ms after the restart; ${ok} good reads in all`);
    say(`scratch pad slot 5 still reads "${text}"`);
    return `recovered ${firstAfterRestart.toFixed(0)} ms after the restart, ${[...failures.values()].reduce((a, b) => a + b, 0)} typed failures meanwhile`;
  });
}
