// `labwire-gateway [run] <config>`: the gateway as a long-running program, and the pieces the demo shares
// with it (Sparkplug ids and session options from configuration and command line, the embedded broker,
// event output, a clean stop).
//
// Output: the first stdout line says where the broker is (`listening on 127.0.0.1:1883` for the embedded
// one, `connecting to mqtt://…` otherwise), then how to subscribe. The log (births, devices going offline
// and back, writes, refused commands, lost connections) goes to stderr. With --json, stdout carries one
// JSON object per event ({"event":"started"|"birth"|"device"|"write"|"command-error"|"disconnect"|
// "overflow"|"stats"|"stopped",…}) and the log is JSON too.

import fs from 'node:fs';
import { checkListenHost, toJson, UsageError } from '@labwire/cli-kit';
import type { EdgeNodeOptions } from '@labwire/sparkplug';
import { checkId } from '@labwire/sparkplug/codec';
import { type EmbeddedBroker, hostPort, startEmbeddedBroker } from './broker';
import {
  BROKER_URL,
  type GatewayConfig,
  type GatewayDevice,
  loadGatewayConfig,
  type SparkplugSettings,
} from './config';
import { Gateway, type GatewayStats } from './gateway';
import { createLogger, type LogLevel } from './logger';
import type { GatewayIo, RunOptions } from './options';
import { VERSION } from './options';
import { devicesOf, edgeNodeIdFor, type Shard } from './shard';

export const PASSWORD_ENV = 'LABWIRE_MQTT_PASSWORD';

export interface SparkplugIds {
  groupId: string;
  edgeNodeId: string;
}

/** Group and edge node id: command line, else configuration, else the defaults; checked. */
export function sparkplugIds(
  settings: SparkplugSettings,
  opts: { groupId?: string | undefined; edgeNodeId?: string | undefined },
  shard: Shard,
  defaults: SparkplugIds,
): SparkplugIds {
  const groupId = opts.groupId ?? settings.groupId ?? defaults.groupId;
  const edgeNodeId = edgeNodeIdFor(opts.edgeNodeId ?? settings.edgeNodeId ?? defaults.edgeNodeId, shard);
  try {
    checkId(groupId, 'group id');
    checkId(edgeNodeId, 'edge node id');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { groupId, edgeNodeId };
}

function readTlsFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read the TLS ${what} file ${file}: ${(error as Error).message}`);
  }
}

/** EdgeNode options from the `sparkplug` section and the command line (the password from the environment). */
export function sessionOptions(
  settings: SparkplugSettings,
  opts: { username?: string | undefined; primaryHost?: string | undefined },
  env: NodeJS.ProcessEnv,
): Partial<EdgeNodeOptions> {
  const session: Partial<EdgeNodeOptions> = {};
  const username = opts.username ?? settings.username;
  const password = env[PASSWORD_ENV] ?? settings.password;
  if (username !== undefined) session.username = username;
  if (password !== undefined) session.password = password;
  if (settings.clientId !== undefined) session.clientId = settings.clientId;
  if (settings.protocolVersion !== undefined) session.protocolVersion = settings.protocolVersion;
  if (settings.keepaliveSeconds !== undefined) session.keepaliveSeconds = settings.keepaliveSeconds;
  const primary = opts.primaryHost ?? settings.primaryHostId;
  if (primary !== undefined) {
    try {
      checkId(primary, 'primary host id');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    session.primaryHostId = primary;
  }
  if (settings.storeAndForward !== undefined) session.storeAndForward = settings.storeAndForward;
  const tls = settings.tls;
  if (tls) {
    session.mqttOptions = {
      ...(tls.ca === undefined ? {} : { ca: readTlsFile(tls.ca, 'ca') }),
      ...(tls.cert === undefined ? {} : { cert: readTlsFile(tls.cert, 'cert') }),
      ...(tls.key === undefined ? {} : { key: readTlsFile(tls.key, 'key') }),
      ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
    };
  }
  return session;
}

export function checkBrokerUrls(urls: readonly string[]): void {
  for (const url of urls) {
    if (!BROKER_URL.test(url))
      throw new UsageError(`--broker ${JSON.stringify(url)}: expected a URL such as mqtt://host:1883`);
  }
}

/** Starts the embedded broker on --host/--port, with the loopback rule; prints the warning if any. */
export async function startBroker(
  opts: Pick<RunOptions, 'host' | 'port' | 'allowRemote'>,
  io: GatewayIo,
  defaultPort: number,
): Promise<{ broker: EmbeddedBroker; localUrl: string }> {
  const warning = await checkListenHost(opts.host, { allowRemote: opts.allowRemote === true });
  if (warning !== undefined) io.stderr.write(`labwire-gateway: ${warning}\n`);
  const port = opts.port ?? defaultPort;
  let broker: EmbeddedBroker;
  try {
    broker = await startEmbeddedBroker({ host: opts.host.replace(/^\[(.*)\]$/, '$1'), port });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message;
    throw Object.assign(new Error(`cannot listen on ${hostPort(opts.host, port)}: ${why}`), { code: e.code });
  }
  // The gateway itself connects over loopback when the broker listens on every address.
  const local = broker.host === '0.0.0.0' ? '127.0.0.1' : broker.host === '::' ? '::1' : broker.host;
  return { broker, localUrl: `mqtt://${hostPort(local, broker.port)}` };
}

/** The ways to watch a broker, printed for newcomers. */
export function subscribeHints(url: string): string[] {
  const m = /^mqtts?:\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?/i.exec(url);
  const host = m?.[1] ?? '127.0.0.1';
  const port = m?.[2] ?? '1883';
  return [
    `watch it:  labwire-gateway watch --broker ${url}`,
    `           mosquitto_sub -h ${host.replace(/^\[|\]$/g, '')} -p ${port} -t 'spBv1.0/#' -v   (raw: payloads are protobuf)`,
    `           npx mqtt sub -h ${host.replace(/^\[|\]$/g, '')} -p ${port} -t 'spBv1.0/#' -v`,
  ];
}

/** Resolves when `signal` aborts or `seconds` have passed. */
export function untilStopped(signal: AbortSignal | undefined, seconds: number | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = seconds === undefined ? undefined : setTimeout(done, seconds * 1000);
    function done() {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    if (signal?.aborted) return done();
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function logLevel(opts: Pick<RunOptions, 'quiet' | 'verbose'>, quietDefault = false): LogLevel {
  if (opts.verbose) return 'debug';
  return opts.quiet || quietDefault ? 'warn' : 'info';
}

function describeError(error: Error | undefined): string {
  if (error === undefined) return 'unknown';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}

/** A stats object for JSON, with the process's CPU share since the last call. */
export function statsSnapshot(
  stats: GatewayStats,
  cpu: { last: NodeJS.CpuUsage; at: number },
): Record<string, unknown> {
  const now = performance.now();
  const used = process.cpuUsage(cpu.last);
  const share = (used.user + used.system) / 1000 / Math.max(1, now - cpu.at);
  cpu.last = process.cpuUsage();
  cpu.at = now;
  const s = stats.session;
  return {
    devices: stats.devices,
    online: stats.online,
    updates: stats.updates,
    writes: stats.writes,
    writeFailures: stats.writeFailures,
    commandErrors: stats.commandErrors,
    perDevice: stats.perDevice,
    session: {
      state: s.state,
      bdSeq: s.bdSeq,
      messages: s.messagesSent,
      metrics: s.metricsSent,
      stored: s.stored,
      dropped: s.dropped + s.backpressureDrops,
      replayed: s.replayed,
      connects: s.connects,
    },
    scanner: {
      scans: stats.scanner.scans,
      failed: stats.scanner.failed,
      missed: stats.scanner.missed,
      latenessP99Ms: stats.scanner.lateness.p99,
    },
    cpu: Number(share.toFixed(3)),
  };
}

/** Wires the gateway's events to the log (and, with --json, to stdout). */
export function reportEvents(gateway: Gateway, io: GatewayIo, json: boolean): void {
  const event = (body: Record<string, unknown>) => {
    if (json) io.stdout.write(`${toJson({ event: body.event, time: new Date().toISOString(), ...body })}\n`);
  };
  gateway.on('birth', (info) => event({ event: 'birth', ...info }));
  gateway.on('device', (e) =>
    event({
      event: 'device',
      deviceId: e.deviceId,
      state: e.state,
      metrics: e.metrics,
      ...(e.cause ? { cause: describeError(e.cause) } : {}),
    }),
  );
  gateway.on('write', (w) =>
    event({
      event: 'write',
      deviceId: w.deviceId,
      metric: w.metric,
      requested: w.requested,
      ...(w.error ? { ok: false, error: describeError(w.error) } : { ok: true, confirmed: w.confirmed }),
    }),
  );
  gateway.on('commandError', (error, topic) =>
    event({
      event: 'command-error',
      topic,
      code: (error as { code?: unknown }).code ?? error.name,
      message: error.message,
    }),
  );
  gateway.on('disconnect', (error) => event({ event: 'disconnect', error: describeError(error) }));
  gateway.on('overflow', (info) => event({ event: 'overflow', ...info }));
}

export interface GatewaySetup {
  devices: GatewayDevice[];
  ids: SparkplugIds;
  shard: Shard;
  session: Partial<EdgeNodeOptions>;
  brokerUrls: string[] | undefined;
}

/** Everything the command line and the configuration decide, checked before anything starts. */
export function resolveSetup(
  config: GatewayConfig,
  opts: RunOptions,
  env: NodeJS.ProcessEnv,
  defaults: SparkplugIds,
  source?: string,
): GatewaySetup {
  const shard = opts.shard ?? { index: 1, count: 1 };
  const devices = devicesOf(config, shard, source);
  const ids = sparkplugIds(config.sparkplug, opts, shard, defaults);
  const brokerUrls = opts.broker ?? config.sparkplug.broker;
  if (brokerUrls !== undefined) checkBrokerUrls(brokerUrls);
  if (opts.broker !== undefined && opts.port !== undefined)
    throw new UsageError('--port is the embedded broker’s; with --broker there is none');
  return { devices, ids, shard, session: sessionOptions(config.sparkplug, opts, env), brokerUrls };
}

export async function runFromConfig(
  file: string | undefined,
  opts: RunOptions,
  io: GatewayIo,
): Promise<void> {
  if (file === undefined)
    throw new UsageError('a configuration file is needed (or --demo, a simulated fleet)');
  const json = opts.json === true;
  const env = io.env ?? process.env;
  const logger = createLogger(io.stderr, { level: logLevel(opts), json, name: 'labwire-gateway' });
  const config = await loadGatewayConfig(file);
  const setup = resolveSetup(config, opts, env, { groupId: 'labwire', edgeNodeId: 'gateway' }, file);
  if (setup.devices.length === 0)
    logger.warn('gateway: this shard has no devices; the edge node is published without any', {
      shard: `${setup.shard.index}/${setup.shard.count}`,
    });

  const embedded = setup.brokerUrls === undefined ? await startBroker(opts, io, 1883) : undefined;
  const urls = setup.brokerUrls ?? [embedded!.localUrl];
  let gateway: Gateway | undefined;
  try {
    gateway = new Gateway({
      devices: setup.devices,
      brokerUrls: urls,
      ...setup.ids,
      shardLabel: `${setup.shard.index}/${setup.shard.count}`,
      software: `labwire-gateway ${VERSION}`,
      session: setup.session,
      logger,
    });
    const shardText = setup.shard.count > 1 ? ` (shard ${setup.shard.index}/${setup.shard.count})` : '';
    if (json) {
      io.stdout.write(
        `${toJson({
          event: 'started',
          broker: embedded
            ? {
                embedded: true,
                url: embedded.broker.url,
                host: embedded.broker.host,
                port: embedded.broker.port,
              }
            : { embedded: false, urls },
          groupId: setup.ids.groupId,
          edgeNodeId: setup.ids.edgeNodeId,
          shard: setup.shard,
          devices: setup.devices.map((d) => d.deviceId),
        })}\n`,
      );
    } else {
      io.stdout.write(
        embedded
          ? `listening on ${hostPort(embedded.broker.host, embedded.broker.port)}\n`
          : `connecting to ${urls.join(', ')}\n`,
      );
      io.stdout.write(
        `Sparkplug group ${setup.ids.groupId}, edge node ${setup.ids.edgeNodeId}${shardText}: ` +
          `${setup.devices.length} device${setup.devices.length === 1 ? '' : 's'}\n`,
      );
      for (const line of subscribeHints(embedded ? embedded.broker.url : urls[0]!))
        io.stdout.write(`${line}\n`);
    }
    reportEvents(gateway, io, json);
    gateway.start();
    const cpu = { last: process.cpuUsage(), at: performance.now() };
    const statsTimer =
      opts.stats === undefined
        ? undefined
        : setInterval(() => {
            const snapshot = statsSnapshot(gateway!.stats(), cpu);
            if (json)
              io.stdout.write(`${toJson({ event: 'stats', time: new Date().toISOString(), ...snapshot })}\n`);
            else logger.info('gateway: stats', snapshot);
          }, opts.stats * 1000);
    await untilStopped(io.signal, opts.duration);
    if (statsTimer) clearInterval(statsTimer);
    logger.info('gateway: stopping (NDEATH)');
    await gateway.close();
    if (json)
      io.stdout.write(
        `${toJson({ event: 'stopped', time: new Date().toISOString(), ...statsSnapshot(gateway.stats(), cpu) })}\n`,
      );
  } finally {
    await gateway?.close();
    await embedded?.broker.close();
  }
}
