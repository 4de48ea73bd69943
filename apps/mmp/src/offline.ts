// mmp commands that need no device: `decode`. Loaded on first use.

import { printResult, terminalWidth } from '@labwire/cli-kit';
import { describePackets } from '@labwire/optommp/codec';
import type { DeviceContext } from './device';
import { formatDecode } from './format';
import { parseHex } from './hex';

export function decode(c: Pick<DeviceContext, 'io' | 'json'>, hex: string): void {
  const result = describePackets(parseHex(hex));
  printResult(c.io, c.json, formatDecode(result, terminalWidth(c.io.stdout, c.io.env)), {
    packets: result.packets.map((p) => ({
      at: p.at,
      length: p.length,
      summary: p.summary,
      fields: p.fields,
      packet: p.packet,
    })),
    leftover: result.leftover,
    needed: result.needed,
  });
}
