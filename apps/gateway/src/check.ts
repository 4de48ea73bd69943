// `labwire-gateway check <config> [--shard i/n]`: the configuration checked as the gateway would check it,
// and what the shard publishes: its edge node id, each device with its address, groups and metrics.

import { escapeControl, formatTable, terminalWidth, toJson } from '@labwire/cli-kit';
import { loadGatewayConfig } from './config';
import type { CheckOptions, GatewayIo } from './options';
import { sparkplugIds } from './run';
import { devicesOf, shardOf } from './shard';

function period(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export async function runCheck(file: string, opts: CheckOptions, io: GatewayIo): Promise<void> {
  const config = await loadGatewayConfig(file);
  const shard = opts.shard ?? { index: 1, count: 1 };
  const devices = devicesOf(config, shard, file);
  const ids = sparkplugIds(config.sparkplug, opts, shard, { groupId: 'labwire', edgeNodeId: 'gateway' });
  const rows = devices.map((d) => {
    const metrics = d.groups.reduce((n, g) => n + g.metrics.length, 0);
    const writable = d.groups.reduce((n, g) => n + g.metrics.filter((m) => m.writable).length, 0);
    return { d, metrics, writable };
  });
  if (opts.json === true) {
    io.stdout.write(
      `${toJson({
        ok: true,
        groupId: ids.groupId,
        edgeNodeId: ids.edgeNodeId,
        shard,
        broker: config.sparkplug.broker ?? null,
        devices: rows.map(({ d, metrics, writable }) => ({
          deviceId: d.deviceId,
          host: d.scan.host,
          port: d.scan.port ?? 2001,
          shard: shardOf(d, shard.count),
          metrics,
          writable,
          groups: d.groups.map((g, i) => ({
            name: g.name,
            periodMs: d.scan.groups[i]!.periodMs,
            report: g.report,
            deadband: g.deadband,
            metrics: g.metrics.map((m) => m.name),
          })),
        })),
      })}\n`,
    );
    return;
  }
  const total = config.devices.length;
  io.stdout.write(
    `${escapeControl(file)}: valid; ${total} device${total === 1 ? '' : 's'} in all\n` +
      `shard ${shard.index}/${shard.count}: edge node ${escapeControl(`${ids.groupId}/${ids.edgeNodeId}`)}, ` +
      `${devices.length} device${devices.length === 1 ? '' : 's'}, ` +
      `${rows.reduce((n, r) => n + r.metrics, 0)} metrics (${rows.reduce((n, r) => n + r.writable, 0)} writable)\n`,
  );
  if (rows.length === 0) return;
  const table = formatTable(
    rows.map(({ d, metrics, writable }) => [
      escapeControl(d.deviceId),
      escapeControl(`${d.scan.host}:${d.scan.port ?? 2001}`),
      String(metrics),
      String(writable),
      d.groups.map((g, i) => `${escapeControl(g.name)} ${period(d.scan.groups[i]!.periodMs)}`).join(', '),
    ]),
    {
      head: ['device', 'address', 'metrics', 'writable', 'groups'],
      align: ['left', 'left', 'right', 'right', 'left'],
      width: terminalWidth(io.stdout, io.env),
    },
  );
  io.stdout.write(`${table}\n`);
}
