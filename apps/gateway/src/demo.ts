// `labwire-gateway --demo`: everything in one process, so a newcomer sees Sparkplug traffic with one
// command. A simulated fleet of groov EPIC units (the optommp SimulatedFleet, each on its own loopback
// port), the gateway scanning them, the embedded broker, and an independent subscriber (its own MQTT
// connection, decoding as a host application does) printing what arrives. A short script then shows what
// a gateway is for: a host writes an output (DCMD, confirmed by the next DDATA), a unit loses power
// (DDEATH) and comes back (DBIRTH), a host asks for a rebirth (NBIRTH and every DBIRTH).
//
// It ends on SIGINT/SIGTERM or after --duration, with a summary; exit status 1 if the subscriber saw a
// broken rule (a seq gap, an undecodable payload) or a device never born.

import { toJson, UsageError } from '@labwire/cli-kit';
import { SimulatedFleet } from '@labwire/optommp/simulator';
import { checkGatewayConfig } from './config';
import { Gateway } from './gateway';
import { createLogger } from './logger';
import { SparkplugMonitor } from './monitor';
import type { GatewayIo, RunOptions } from './options';
import { VERSION } from './options';
import { logLevel, resolveSetup, startBroker, untilStopped } from './run';
import { LiveView, showValue, type ViewMode } from './view';

/** The demo's configuration: the default EPIC rack of every simulated unit, inputs fast, outputs writable. */
export function demoConfig(host: string, ports: readonly number[]): unknown {
  return {
    sparkplug: { groupId: 'labwire-demo', edgeNodeId: 'demo-gateway' },
    defaults: { timeoutMs: 500 },
    devices: ports.map((port, i) => ({
      name: `epic-${i + 1}`,
      host,
      port,
      groups: [
        {
          name: 'inputs',
          periodMs: 500,
          deadband: 0.01,
          points: [
            { kind: 'analog-module', module: 2, channels: 8, name: 'Inputs/Analog' },
            { kind: 'digital-module', module: 1, channels: 8, name: 'Inputs/Digital' },
          ],
        },
        {
          name: 'outputs',
          periodMs: 1000,
          points: [
            { kind: 'digital-module', module: 0, channels: 4, name: 'Outputs/Digital', writable: true },
            { kind: 'analog-module', module: 3, channels: 2, name: 'Outputs/Analog', writable: true },
          ],
        },
      ],
    })),
  };
}

interface ScriptStep {
  atMs: number;
  run(): Promise<string>;
}

export async function runDemo(opts: RunOptions, io: GatewayIo, configFile?: string): Promise<void> {
  if (configFile !== undefined)
    throw new UsageError('--demo makes its own configuration (a simulated fleet): no file with it');
  if (opts.shard !== undefined) throw new UsageError('--shard is for configurations, not for --demo');
  const json = opts.json === true;
  const mode: ViewMode = json ? 'json' : io.stdout.isTTY === true ? 'tty' : 'lines';
  const env = io.env ?? process.env;
  // The live view is the demo's output: the log stays at warnings unless --verbose.
  const logger = createLogger(io.stderr, { level: logLevel(opts, true), json, name: 'labwire-gateway' });

  const fleet = await SimulatedFleet.start({ count: opts.devices });
  let monitor: SparkplugMonitor | undefined;
  let gateway: Gateway | undefined;
  let embedded: Awaited<ReturnType<typeof startBroker>> | undefined;
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    const config = checkGatewayConfig(demoConfig(fleet.host, fleet.ports), 'of the demo');
    const setup = resolveSetup(config, opts, env, { groupId: 'labwire-demo', edgeNodeId: 'demo-gateway' });
    embedded = setup.brokerUrls === undefined ? await startBroker(opts, io, 0) : undefined;
    const url = setup.brokerUrls?.[0] ?? embedded!.localUrl;
    const shownUrl = embedded?.broker.url ?? url;
    const { groupId, edgeNodeId } = setup.ids;

    // The subscriber connects first, so it sees the births.
    monitor = await SparkplugMonitor.connect(url, { timeoutMs: 10_000, signal: io.signal, logger });
    const header = [
      `labwire-gateway demo: ${fleet.size} simulated groov EPIC unit${fleet.size === 1 ? '' : 's'} → edge node ` +
        `${groupId}/${edgeNodeId} → ${shownUrl}${embedded ? ' (embedded broker)' : ''}`,
      `watch it from another terminal: labwire-gateway watch --broker ${shownUrl}   (Ctrl-C ends the demo)`,
    ];
    if (json) {
      io.stdout.write(
        `${toJson({
          event: 'started',
          demo: true,
          broker: embedded
            ? {
                embedded: true,
                url: embedded.broker.url,
                host: embedded.broker.host,
                port: embedded.broker.port,
              }
            : { embedded: false, urls: setup.brokerUrls },
          groupId,
          edgeNodeId,
          devices: setup.devices.map((d) => d.deviceId),
        })}\n`,
      );
    } else if (mode === 'lines') {
      for (const line of header) io.stdout.write(`${line}\n`);
    }
    const view = new LiveView(io.stdout, mode, monitor, { header: mode === 'tty' ? header : [], env });

    gateway = new Gateway({
      devices: setup.devices,
      brokerUrls: setup.brokerUrls ?? [url],
      groupId,
      edgeNodeId,
      software: `labwire-gateway ${VERSION} (demo)`,
      session: setup.session,
      logger,
    });
    const writes = { ok: 0, failed: 0 };
    gateway.on('write', (w) => {
      if (w.error) writes.failed++;
      else writes.ok++;
      view.note(
        w.error
          ? `gateway: write ${w.deviceId} ${w.metric} failed: ${w.error.message}`
          : `gateway: wrote ${w.deviceId} ${w.metric} = ${showValue(w.requested)}, read back ${showValue(w.confirmed)} (the next DDATA)`,
        {
          event: 'write',
          deviceId: w.deviceId,
          metric: w.metric,
          requested: w.requested,
          ok: !w.error,
          confirmed: w.confirmed,
        },
      );
    });
    gateway.on('commandError', (e, topic) =>
      view.note(`gateway: command ignored (${topic}): ${e.message}`, {
        event: 'command-error',
        topic,
        message: e.message,
      }),
    );
    gateway.start();

    if (opts.script) {
      const first = setup.devices[0]!.deviceId;
      const victim = Math.min(2, fleet.size - 1); // the third unit (the last of a smaller fleet)
      const victimId = setup.devices[victim]!.deviceId;
      const m = monitor;
      const steps: ScriptStep[] = [
        {
          atMs: 3_000,
          run: async () => {
            await m.write(groupId, edgeNodeId, first, 'Outputs/Digital/0', true);
            return `host: DCMD ${first} Outputs/Digital/0 = on`;
          },
        },
        {
          atMs: 6_000,
          run: async () => {
            await fleet.stop(victim);
            return `demo: ${victimId} loses power (its connection drops): expect a DDEATH`;
          },
        },
        {
          atMs: 9_000,
          run: async () => {
            await fleet.start(victim);
            return `demo: ${victimId} is powered again: expect a DBIRTH`;
          },
        },
        {
          atMs: 12_000,
          run: async () => {
            await m.rebirth(groupId, edgeNodeId);
            return 'host: NCMD Node Control/Rebirth: expect an NBIRTH and every DBIRTH';
          },
        },
      ];
      for (const step of steps) {
        timers.push(
          setTimeout(() => {
            step.run().then(
              (text) => view.note(text, { event: 'script', step: text }),
              (error: unknown) =>
                view.note(`demo: step failed: ${(error as Error).message}`, {
                  event: 'script',
                  error: (error as Error).message,
                }),
            );
          }, step.atMs),
        );
      }
    }

    await untilStopped(io.signal, opts.duration);
    for (const t of timers) clearTimeout(t);
    await gateway.close();
    // Let the subscriber see the NDEATH (bounded).
    const node = monitor.node(groupId, edgeNodeId);
    for (let i = 0; i < 100 && node?.state === 'online'; i++) await new Promise((r) => setTimeout(r, 10));
    view.close();

    const born = setup.devices.filter((d) => (node?.devices.get(d.deviceId)?.births ?? 0) > 0).length;
    const counts = { ...monitor.counts };
    const ok = monitor.problems === 0 && (counts.NBIRTH ?? 0) > 0 && born === setup.devices.length;
    if (json) {
      io.stdout.write(
        `${toJson({ event: 'summary', ok, counts, problems: monitor.problems, devices: setup.devices.length, devicesBorn: born, writes })}\n`,
      );
    } else {
      const list = Object.entries(counts)
        .map(([type, n]) => `${type} ${n}`)
        .join(', ');
      io.stdout.write(
        `demo summary: ${list}; ${born}/${setup.devices.length} devices born; ${monitor.problems} problem${monitor.problems === 1 ? '' : 's'}; ` +
          `writes ${writes.ok} confirmed, ${writes.failed} failed\n`,
      );
    }
    if (!ok) throw new Error('the subscriber saw problems (or devices that were never born): see above');
  } finally {
    for (const t of timers) clearTimeout(t);
    await gateway?.close();
    await monitor?.close();
    await embedded?.broker.close();
    await fleet.close();
  }
}
