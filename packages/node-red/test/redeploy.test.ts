// Redeploys in the real Node-RED runtime: a flow with 10 OptoMMP devices (a fleet of simulated groov
// EPICs), a cmd_tcp link, a PyMoDAQ instrument and a PyMoDAQ server is deployed again and again; every
// socket and timer the nodes opened is released (process.getActiveResourcesInfo() back to its baseline), no
// listener-leak warning is printed, and requests still in flight at a redeploy are settled (Node-RED's
// onComplete hook sees their done()) instead of hanging.

import net from 'node:net';
import { InstrumentSim } from '@labwire/bus/simulator';
import { SimulatedFleet } from '@labwire/optommp/simulator';
import { PymodaqServer } from '@labwire/pymodaq';
import { waitFor } from '@labwire/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { NodeMessage } from '../src/red';
import { helper, labwireModules, node, onTab, redeploy, waitForStatus } from './red';

/** Deploys of the 10-device flow (the figure). LABWIRE_REDEPLOYS lowers it for a quick local run. */
const CYCLES = Number(process.env.LABWIRE_REDEPLOYS ?? 1000);
const DEVICES = 10;

const RACK = {
  modules: [
    { slot: 0, kind: 'digital-output' as const, channels: 8 },
    { slot: 1, kind: 'analog-input' as const, channels: 16, drift: false },
  ],
};

let modules: Awaited<ReturnType<typeof labwireModules>>;
let fleet: SimulatedFleet;
let bus: InstrumentSim;
let pymodaq: PymodaqServer;
let pymodaqPort: number;
/** A TCP peer that accepts and never answers (requests to it wait for their deadline). */
let silent: net.Server;
const silentSockets = new Set<net.Socket>();
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

/** The handles of this process, by type (timers, sockets, servers, datagram sockets, …). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

beforeAll(async () => {
  modules = await labwireModules();
  fleet = await SimulatedFleet.start({ count: DEVICES, rack: RACK });
  bus = await InstrumentSim.start();
  pymodaq = new PymodaqServer({ protocol: 'D', role: 'both', port: 0 });
  pymodaqPort = (await pymodaq.listen()).port;
  silent = net.createServer((s) => {
    silentSockets.add(s);
    s.on('close', () => silentSockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  await helper.startServer();
  process.on('warning', onWarning);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await helper.stopServer();
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await pymodaq.close();
  await bus.close();
  await fleet.close();
});

function tenDevices(): object[] {
  const nodes: object[] = [];
  for (let i = 0; i < DEVICES; i++) {
    nodes.push(
      {
        id: `dev${i}`,
        type: 'labwire-mmp-device',
        host: '127.0.0.1',
        port: fleet.ports[i],
        transport: 'tcp',
        timeout: 2000,
      },
      {
        id: `scan${i}`,
        type: 'labwire-mmp-scan',
        device: `dev${i}`,
        period: 50,
        points: [{ kind: 'analog-module', module: 1 }],
        wires: [[]],
      },
      {
        id: `read${i}`,
        type: 'labwire-mmp-read',
        device: `dev${i}`,
        area: 'analog',
        module: 1,
        channel: 0,
        wires: [[]],
      },
    );
  }
  return nodes;
}

function everything(): object[] {
  return onTab([
    ...tenDevices(),
    { id: 'link', type: 'labwire-cmdtcp-link', conf: bus.confString(',timeout=2') },
    {
      id: 'idn',
      type: 'labwire-cmdtcp',
      link: 'link',
      op: 'wrnrd_until',
      data: '*IDN?\\n',
      eot: '\\n',
      wires: [[]],
    },
    {
      id: 'act',
      type: 'labwire-pymodaq-actuator',
      protocol: 'D',
      host: '127.0.0.1',
      port: pymodaqPort,
      wires: [[]],
    },
    { id: 'srv', type: 'labwire-pymodaq-server', protocol: 'D', port: 0, simulateStage: true },
    { id: 'cmd', type: 'labwire-pymodaq-command', server: 'srv', command: 'topic', wires: [[]] },
  ]);
}

async function deployAgainAndAgain(): Promise<void> {
  // The first deploy comes all the way up: every device scanning, the link and both PyMoDAQ sides connected.
  for (let i = 0; i < DEVICES; i++) await waitForStatus(`scan${i}`, (s) => s.text === 'connected');
  await waitForStatus('idn', (s) => s.fill === 'green');
  await waitForStatus('act', (s) => s.fill === 'green');
  await waitForStatus('cmd', (s) => s.text?.includes('1 act.') === true);

  // Then redeploys in quick succession: most stop nodes that are still connecting, every tenth one waits
  // until the devices are connected (nodes stopped while connected, scanning, reading).
  for (let cycle = 1; cycle < CYCLES; cycle++) {
    await redeploy(everything());
    if (cycle % 10 === 0) {
      for (let i = 0; i < DEVICES; i++) {
        await waitForStatus(`scan${i}`, (s) => s.text === 'connected', 30_000).catch((error: unknown) => {
          throw new Error(`deploy ${cycle}: ${String(error)}; handles ${JSON.stringify(resources())}`);
        });
      }
      node('read0').receive({});
    }
  }
}

describe('redeploys', () => {
  test(`${CYCLES} deploys of a flow with ${DEVICES} devices: handles back to baseline, no leak warnings`, async () => {
    // Baseline with the runtime started and one flow deployed and stopped (the runtime's own lazy timers).
    await helper.load([modules.optommp, modules.cmdTcp, modules.pymodaq], onTab([]));
    await helper.unload();
    const baseline = resources();

    await helper.load([modules.optommp, modules.cmdTcp, modules.pymodaq], everything());
    try {
      await deployAgainAndAgain();
    } finally {
      await helper.unload();
    }

    // Sockets close in both directions (the simulators' ends are in this process too): wait for them.
    await waitFor(
      () => {
        const now = resources();
        return Object.keys({ ...now, ...baseline }).every((k) => (now[k] ?? 0) <= (baseline[k] ?? 0));
      },
      { timeoutMs: 15_000, message: `resources back to ${JSON.stringify(baseline)}` },
    ).catch(() => {
      expect(resources()).toEqual(baseline);
    });
    expect(pymodaq.clients).toHaveLength(0);
    const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
    expect(leaks.map((w) => w.message)).toEqual([]);
    const closeTimeouts = helper
      .log()
      .getCalls()
      .map((c) => JSON.stringify(c.args[0]))
      .filter((line) => /close timed out/i.test(line));
    expect(closeTimeouts).toEqual([]);
  }, 900_000);

  test('requests in flight at a redeploy are settled, none waits for its deadline', async () => {
    const completed: { id: string; msgid: string | undefined; error: unknown }[] = [];
    const hooks = (
      helper._RED as unknown as {
        hooks: { add(name: string, fn: (e: unknown) => void): void; remove(name: string): void };
      }
    ).hooks;
    hooks.add('onComplete.labwire-test', (e) => {
      const event = e as { msg: NodeMessage; node: { id: string }; error?: unknown };
      completed.push({ id: event.node.id, msgid: event.msg._msgid, error: event.error });
    });
    try {
      await helper.load(
        [modules.optommp, modules.cmdTcp, modules.pymodaq],
        onTab([
          // A device that accepts and never answers: the read waits for its 60 s deadline.
          { id: 'dev', type: 'labwire-mmp-device', host: '127.0.0.1', port: portOf(silent), timeout: 60_000 },
          {
            id: 'read',
            type: 'labwire-mmp-read',
            device: 'dev',
            area: 'analog',
            module: 1,
            channel: 0,
            wires: [[]],
          },
          // A query the instrument never answers (a set command), with a 60 s timeout.
          { id: 'link', type: 'labwire-cmdtcp-link', conf: bus.confString(',timeout=60') },
          {
            id: 'q',
            type: 'labwire-cmdtcp',
            link: 'link',
            op: 'wrnrd_until',
            eot: '\\n',
            timeout: 60,
            wires: [[]],
          },
          // A slow move of the simulated stage (10 units/s to 500).
          {
            id: 'srv',
            type: 'labwire-pymodaq-server',
            protocol: 'D',
            port: 0,
            simulateStage: true,
            moveTimeout: 600,
          },
          {
            id: 'cmd',
            type: 'labwire-pymodaq-command',
            server: 'srv',
            command: 'move_abs',
            timeout: 600,
            wires: [[]],
          },
        ]),
      );
      await waitForStatus('q', (s) => s.fill === 'green');
      await waitForStatus('cmd', (s) => s.text?.includes('1 act.') === true);
      await waitFor(() => silentSockets.size > 0 || undefined, { timeoutMs: 10_000 }).catch(() => undefined);
      node('read').receive({ _msgid: 'read-1' });
      node('q').receive({ _msgid: 'q-1', payload: 'VOLT 3\\n' });
      node('cmd').receive({ _msgid: 'cmd-1', payload: 500 });
      // Give each request time to reach its peer.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(completed).toEqual([]);

      const t0 = performance.now();
      await helper.unload();
      const took = performance.now() - t0;
      await waitFor(() => completed.length === 3, { timeoutMs: 10_000, message: 'three completions' });
      expect(completed.map((c) => c.msgid).sort()).toEqual(['cmd-1', 'q-1', 'read-1']);
      // Node-RED waits up to 15 s for a node's close; ours finish long before any request deadline.
      expect(took).toBeLessThan(15_000);
    } finally {
      hooks.remove('onComplete.labwire-test');
    }
  });
});

function portOf(server: net.Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return address.port;
}
