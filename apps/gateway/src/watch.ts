// `labwire-gateway watch`: an independent Sparkplug subscriber on any broker, printing what edge nodes
// publish (see view.ts for the three forms) until SIGINT/SIGTERM or --duration.

import { toJson } from '@labwire/cli-kit';
import { SparkplugMonitor } from './monitor';
import type { GatewayIo, WatchOptions } from './options';
import { checkBrokerUrls, PASSWORD_ENV, untilStopped } from './run';
import { LiveView, type ViewMode } from './view';

export async function runWatch(opts: WatchOptions, io: GatewayIo): Promise<void> {
  checkBrokerUrls([opts.broker]);
  const json = opts.json === true;
  const mode: ViewMode = json ? 'json' : io.stdout.isTTY === true ? 'tty' : 'lines';
  const env = io.env ?? process.env;
  const password = env[PASSWORD_ENV];
  let monitor: SparkplugMonitor;
  try {
    monitor = await SparkplugMonitor.connect(opts.broker, {
      timeoutMs: 10_000,
      signal: io.signal,
      requestRebirth: opts.rebirth === true,
      ...(opts.group === undefined ? {} : { groupId: opts.group }),
      ...(opts.username === undefined ? {} : { username: opts.username }),
      ...(password === undefined ? {} : { password }),
    });
  } catch (error) {
    const e = error as Error & { code?: unknown };
    const why = e.code === 'ECONNREFUSED' ? 'connection refused (is a broker running there?)' : e.message;
    throw Object.assign(new Error(`cannot subscribe on ${opts.broker}: ${why}`), { code: e.code });
  }
  try {
    const filter = `spBv1.0/${opts.group ?? '+'}/#`;
    if (json) io.stdout.write(`${toJson({ event: 'watching', broker: opts.broker, filter })}\n`);
    else if (mode === 'lines') io.stdout.write(`watching ${filter} on ${opts.broker}\n`);
    const view = new LiveView(io.stdout, mode, monitor, {
      header: mode === 'tty' ? [`watching ${filter} on ${opts.broker}   (Ctrl-C ends)`] : [],
      env,
    });
    monitor.on('connection', (state, error) => {
      if (state === 'offline')
        view.note(`broker connection lost${error ? `: ${error.message}` : ''}; reconnecting`, {
          event: 'connection',
          state,
        });
    });
    await untilStopped(io.signal, opts.duration);
    view.close();
  } finally {
    await monitor.close();
  }
}
