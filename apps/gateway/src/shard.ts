// Scale-out: n gateway processes share one configuration, each publishing the devices of its shard under
// an edge node id of its own. A device belongs to shard (FNV-1a of its Sparkplug device id) mod n + 1, or
// to the shard the file pins it to: the assignment depends on the id alone, so adding, removing or
// reordering other devices never moves a device to another edge node (which would change its topic and
// its place in every host application's tag tree). Only changing n does.

import { UsageError } from '@labwire/cli-kit';
import type { GatewayConfig, GatewayDevice } from './config';
import { GatewayConfigError } from './errors';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 1024;

/** `i/n` with 1 ≤ i ≤ n ≤ 1024. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d{1,4})\s*\/\s*(\d{1,4})\s*$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || index < 1 || count < 1 || index > count || count > MAX_SHARDS) {
    throw new UsageError(
      `--shard takes i/n with 1 <= i <= n <= ${MAX_SHARDS} (this process's shard of n), got ${JSON.stringify(text)}`,
    );
  }
  return { index, count };
}

/** 32-bit FNV-1a of the UTF-8 bytes of `text`. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The shard (1-based) a device belongs to when there are `count` shards. */
export function shardOf(device: GatewayDevice, count: number): number {
  return device.shard ?? (fnv1a(device.deviceId) % count) + 1;
}

/** The devices of `shard`; a device pinned to a shard above n is a configuration error. */
export function devicesOf(config: GatewayConfig, shard: Shard, source?: string): GatewayDevice[] {
  const pinnedTooHigh = config.devices.filter((d) => d.shard !== undefined && d.shard > shard.count);
  if (pinnedTooHigh.length > 0) {
    throw new GatewayConfigError(
      pinnedTooHigh.map((d) => ({
        path: `devices[${d.index}].shard`,
        message: `shard ${d.shard} but the gateway runs ${shard.count} shard${shard.count === 1 ? '' : 's'} (--shard i/${shard.count})`,
      })),
      source,
    );
  }
  return config.devices.filter((d) => shardOf(d, shard.count) === shard.index);
}

/** The edge node id of a shard: `{shard}` replaced, else `-<i>` appended when there are several shards. */
export function edgeNodeIdFor(template: string, shard: Shard): string {
  if (template.includes('{shard}')) return template.replaceAll('{shard}', String(shard.index));
  return shard.count > 1 ? `${template}-${shard.index}` : template;
}
