// The gateway's fleet run (issue 15, "what it must show"): the built labwire-gateway program in a child
// process scans 100 simulated groov EPIC units (64 analog inputs each, every value changing on every read:
// sine + noise) at 10 Hz and publishes them as Sparkplug B; an independent MQTT.js subscriber in this
// process decodes every message. Measured in one run, over a window after a warm-up:
// - delivered metric updates/s: the metrics whose scan time (the metric timestamp: when the device's reply
//   reached the gateway) falls in the window and that reached the subscriber, per second of window;
// - latency: scan time → decoded at the subscriber, p50/p99 over every DDATA of the window. The two
//   processes' clocks (each performance.timeOrigin + performance.now()) can disagree by tens of ms on a
//   loaded machine (the origin is read once at start-up, and a process descheduled in the middle of that
//   reading carries the error for good), so latencies are counted from the fastest message of the window:
//   this removes the offset and understates every latency by that fastest delivery (under a ms on
//   loopback);
// - the gateway process's CPU (user + system, /proc) over the window, in cores;
// - rebirth: an NCMD `Node Control/Rebirth` published by the subscriber → the NBIRTH and all 100 DBIRTHs
//   decoded at the subscriber, while data keeps flowing, repeated; p99 of the times.
// Through aedes (the gateway's embedded broker, in the gateway process: its CPU counts) and through
// Mosquitto (its own process). The simulated fleet and the subscriber share this process.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedFleet } from '@labwire/optommp/simulator';
import { DataType, decodePayload, encodePayload, MetricCatalog } from '@labwire/sparkplug/codec';
import { type MosquittoBroker, mosquittoAvailable, startMosquitto } from '@labwire/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import type { BenchCase } from './harness';

const GATEWAY = path.resolve(import.meta.dirname, '../apps/gateway/dist/main.js');
export const FLEET_DEVICES = 100;
export const FLEET_METRICS = 64;
export const FLEET_HZ = 10;
const WARMUP_MS = 3_000;
const WINDOW_MS = 5_000;
/** Messages of the window still on their way when it ends get this long to arrive. */
const GRACE_MS = 1_500;
const REBIRTHS = 10;
const RUNS = 3;

export interface FleetResult {
  rate: number;
  /** Metric updates/s the gateway published in the window (its own count, from its --stats events). */
  published: number;
  p50: number;
  p99: number;
  cpu: number;
  rebirthP50: number;
  rebirthP99: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` every 2 ms until it holds; throws naming `what` once `timeoutMs` has passed. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`bench: ${what} not within ${timeoutMs} ms`);
    await sleep(2);
  }
}

function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

let clockTicks: number | undefined;
/** CPU seconds (user + system) a process has used, from /proc; NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime (fields 14, 15)
  } catch {
    return Number.NaN;
  }
}

function writeConfig(dir: string, ports: readonly number[]): string {
  const file = path.join(dir, 'fleet.json');
  const config = {
    sparkplug: { groupId: 'bench', edgeNodeId: 'gw' },
    defaults: { timeoutMs: 2_000 },
    devices: ports.map((port, i) => ({
      name: `epic-${i + 1}`,
      host: '127.0.0.1',
      port,
      groups: [
        {
          name: 'ai',
          periodMs: 1000 / FLEET_HZ,
          points: [{ kind: 'analog-module', module: 0, channels: FLEET_METRICS, name: 'AI' }],
        },
      ],
    })),
  };
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

interface Gateway {
  child: ChildProcess;
  /** The gateway's --stats samples: when, and metrics published so far. */
  samples: Array<{ at: number; metrics: number }>;
  started: Promise<{ url: string }>;
  stop(): Promise<void>;
}

function startGateway(args: string[]): Gateway {
  const samples: Array<{ at: number; metrics: number }> = [];
  const child = spawn(process.execPath, [GATEWAY, ...args, '--json', '--quiet', '--stats', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-2_000);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const started = new Promise<{ url: string }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('bench: the gateway did not start within 30 s')), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (;;) {
        const nl = out.indexOf('\n');
        if (nl < 0) break;
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as {
          event: string;
          time?: string;
          broker?: { url?: string; urls?: string[] };
          session?: { metrics?: number };
        };
        if (event.event === 'stats' && event.time !== undefined)
          samples.push({ at: Date.parse(event.time), metrics: event.session?.metrics ?? 0 });
        if (event.event === 'started') {
          clearTimeout(timer);
          resolve({ url: event.broker?.url ?? event.broker?.urls?.[0] ?? '' });
        }
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`bench: the gateway exited: ${err.trim()}`));
    });
  });
  started.catch(() => {});
  return {
    child,
    samples,
    started,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Subscriber {
  client: MqttClient;
  /** Set to start recording DDATA of the window. */
  window: { from: number; to: number } | undefined;
  metricsInWindow: number;
  latencies: number[];
  nbirths: number[];
  dbirths: number[];
}

async function startSubscriber(url: string): Promise<Subscriber> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clean: true, connectTimeout: 10_000 });
  // No Nagle on our side either: the rebirth NCMD is one small packet.
  (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
  const catalog = new MetricCatalog();
  const sub: Subscriber = {
    client,
    window: undefined,
    metricsInWindow: 0,
    latencies: [],
    nbirths: [],
    dbirths: [],
  };
  client.on('message', (topic, raw) => {
    const type = topic.split('/')[2];
    if (type === 'NCMD' || type === 'DCMD') return;
    const payload = decodePayload(raw, { datatypes: catalog.datatypes });
    const at = now();
    if (type === 'NBIRTH') {
      catalog.learn(payload);
      sub.nbirths.push(at);
    } else if (type === 'DBIRTH') {
      catalog.learn(payload);
      sub.dbirths.push(at);
    } else if (type === 'DDATA' && sub.window && payload.metrics.length > 0) {
      const stamp = Number(payload.metrics[0]!.timestamp);
      if (stamp >= sub.window.from && stamp < sub.window.to) {
        sub.metricsInWindow += payload.metrics.length;
        sub.latencies.push(at - stamp);
      }
    }
  });
  await client.subscribeAsync('spBv1.0/bench/#', { qos: 0 });
  return sub;
}

const rebirthCommand = Buffer.from(
  encodePayload({ metrics: [{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: true }] }),
);

/** Publishes a rebirth request; resolves with the ms until the NBIRTH and every DBIRTH arrived. */
async function rebirth(sub: Subscriber): Promise<number> {
  const t0 = now();
  const n0 = sub.nbirths.length;
  const d0 = sub.dbirths.length;
  sub.client.publish('spBv1.0/bench/NCMD/gw', rebirthCommand, { qos: 0 });
  await until(
    () => sub.nbirths.length > n0 && sub.dbirths.length >= d0 + FLEET_DEVICES,
    15_000,
    'NBIRTH and every DBIRTH after a rebirth request',
  );
  return sub.dbirths[d0 + FLEET_DEVICES - 1]! - t0;
}

/** One whole fleet run through `broker` ('aedes': the gateway's embedded one). */
async function fleetRun(broker: 'aedes' | 'mosquitto'): Promise<FleetResult> {
  if (!fs.existsSync(GATEWAY))
    throw new Error(`${GATEWAY} is missing: build the gateway app first (pnpm bench does)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-bench-gateway-'));
  let mosquitto: MosquittoBroker | undefined;
  let gateway: Gateway | undefined;
  let sub: Subscriber | undefined;
  const fleet = await SimulatedFleet.start({
    count: FLEET_DEVICES,
    rack: {
      modules: [
        {
          slot: 0,
          kind: 'analog-input',
          channels: FLEET_METRICS,
          drift: true,
          signal: { center: 5, amplitude: 2, periodMs: 20_000, noise: 0.01 },
        },
      ],
    },
  });
  try {
    const config = writeConfig(dir, fleet.ports);
    if (broker === 'mosquitto') {
      // No Nagle towards the subscriber (Mosquitto's default keeps it: small messages then wait for the
      // peer's delayed ACK, ~20-40 ms), and room to queue a rebirth's burst for it.
      mosquitto = await startMosquitto({
        extraConfig: ['set_tcp_nodelay true', 'max_queued_messages 100000'],
      });
      gateway = startGateway([config, '--broker', mosquitto.url]);
    } else {
      gateway = startGateway([config, '--port', '0']);
    }
    const { url } = await gateway.started;
    sub = await startSubscriber(url);
    // The subscriber came after the births: a rebirth gives it the aliases.
    await rebirth(sub);
    await sleep(WARMUP_MS);

    const pid = gateway.child.pid!;
    const from = Math.ceil(now());
    sub.window = { from, to: from + WINDOW_MS };
    const cpu0 = cpuSeconds(pid);
    await sleep(WINDOW_MS);
    const cpu1 = cpuSeconds(pid);
    await sleep(GRACE_MS);
    sub.window = undefined;
    const rate = sub.metricsInWindow / (WINDOW_MS / 1000);
    // Clock offset between the two processes removed (see the top of the file).
    const fastest = Math.min(...sub.latencies);
    const latencies = sub.latencies.map((l) => l - fastest);
    const inWindow = gateway.samples.filter((x) => x.at >= from && x.at <= from + WINDOW_MS);
    const first = inWindow[0];
    const last = inWindow.at(-1);
    const published =
      first && last && last.at > first.at
        ? (last.metrics - first.metrics) / ((last.at - first.at) / 1000)
        : Number.NaN;

    const rebirths: number[] = [];
    for (let i = 0; i < REBIRTHS; i++) {
      rebirths.push(await rebirth(sub));
      await sleep(200);
    }
    return {
      rate,
      published,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      cpu: (cpu1 - cpu0) / (WINDOW_MS / 1000),
      rebirthP50: quantile(rebirths, 0.5),
      rebirthP99: quantile(rebirths, 0.99),
    };
  } finally {
    await sub?.client.endAsync(true);
    await gateway?.stop();
    await mosquitto?.close();
    await fleet.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const OFFERED = FLEET_DEVICES * FLEET_METRICS * FLEET_HZ;

/** The cases of one broker: the first runs the fleet RUNS times, the others report those same runs. */
function brokerCases(broker: 'aedes' | 'mosquitto'): BenchCase[] {
  const results: FleetResult[] = [];
  let next = 0;
  const recorded = async (): Promise<FleetResult> => {
    const r = results[next++ % Math.max(1, results.length)];
    if (r === undefined) throw new Error(`bench: no ${broker} fleet run to report (run its rate case too)`);
    return r;
  };
  const where = broker === 'aedes' ? 'embedded aedes' : 'Mosquitto';
  const shape = `${FLEET_DEVICES} devices × ${FLEET_METRICS} metrics at ${FLEET_HZ} Hz`;
  const single = { runs: RUNS, noWarmup: true } as const;
  return [
    {
      name: `sparkplug.gateway-${broker}-rate`,
      metric: `delivered metric updates/s, labwire-gateway, ${shape}, through ${where}`,
      unit: 'metrics/s',
      baselineName: `(offered ${OFFERED.toLocaleString('en')}/s; target: 99 % of it in the window)`,
      target: 0.99 * OFFERED,
      compare: 'value>=',
      run: async () => {
        const r = await fleetRun(broker);
        results.push(r);
        return r.rate;
      },
      runTimeoutMs: 120_000,
      ...single,
    },
    {
      name: `sparkplug.gateway-${broker}-published`,
      metric: `metric updates/s the gateway published in the window (its own count), through ${where}`,
      unit: 'metrics/s',
      baselineName: `(context: offered ${OFFERED.toLocaleString('en')}/s)`,
      target: 0.99 * OFFERED,
      compare: 'value>=',
      informational: true,
      run: async () => (await recorded()).published,
      ...single,
    },
    {
      name: `sparkplug.gateway-${broker}-p99`,
      metric: `latency p99, device reply at the gateway → decoded at a subscriber, through ${where}`,
      unit: 'ms',
      baselineName: '(absolute target)',
      target: 50,
      compare: 'value<=',
      run: async () => (await recorded()).p99,
      ...single,
    },
    {
      name: `sparkplug.gateway-${broker}-p50`,
      metric: `latency p50, through ${where}`,
      unit: 'ms',
      baselineName: '(context)',
      target: 50,
      compare: 'value<=',
      informational: true,
      run: async () => (await recorded()).p50,
      ...single,
    },
    {
      name: `sparkplug.gateway-${broker}-cpu`,
      metric: `gateway process CPU in the window${broker === 'aedes' ? ' (broker included)' : ''}`,
      unit: 'cores',
      baselineName: '(absolute target: under one core)',
      target: 1,
      compare: 'value<=',
      run: async () => (await recorded()).cpu,
      ...single,
    },
    {
      name: `sparkplug.gateway-${broker}-rebirth-p99`,
      metric: `rebirth request → NBIRTH + ${FLEET_DEVICES} DBIRTHs at the subscriber, p99 of ${REBIRTHS}`,
      unit: 'ms',
      baselineName: '(absolute target)',
      target: 100,
      compare: 'value<=',
      run: async () => (await recorded()).rebirthP99,
      ...single,
    },
  ];
}

export const gatewayFleetCases: BenchCase[] = [
  ...brokerCases('aedes'),
  ...(mosquittoAvailable() ? brokerCases('mosquitto') : []),
];
