// Human-readable renderings for the mmp commands.

import {
  escapeControl,
  formatFloat32,
  formatKeyValues,
  formatTable,
  quote,
  wrapText,
} from '@labwire/cli-kit';
import type { DeviceStatus, PipeliningProbe, UdpDropCounts } from '@labwire/optommp';
import {
  describeLastError,
  type describePackets,
  formatAddress,
  STATUS_FIELDS,
} from '@labwire/optommp/codec';

/** `F030010C  00 00 01 23 …  |...#|`, 16 bytes a line. */
export function hexDump(address: number, bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(address + at).toString(16).toUpperCase().padStart(8, '0')}  ${hex.padEnd(47)}  |${text}|`);
  }
  return lines.join('\n');
}

/** `123456 ms (0 d 00:02:03.456)`. */
export function formatUptime(ms: number): string {
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor(ms / 3_600_000) % 24;
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${ms} ms (${d} d ${p(h)}:${p(m)}:${p(s)}.${p(ms % 1000, 3)})`;
}

/** The status area as `key  value` lines that fit `width` (strings from the device quoted and escaped). */
export function formatStatus(s: DeviceStatus, width: number): string {
  const rows: [string, string][] = [];
  for (const field of STATUS_FIELDS) {
    const v = s[field.key];
    if (v === undefined) continue;
    let text = String(v);
    if (field.key === 'lastErrorCode') text = describeLastError(v as number);
    else if (
      field.key === 'lastErrorAddress' ||
      field.key === 'unitType' ||
      field.key === 'smartModulesPresent'
    ) {
      text = `0x${formatAddress(v as number)}`;
    } else if (field.key === 'uptimeMs') text = formatUptime(v as number);
    else if (field.type === 'ascii') text = quote(String(v));
    else if (field.type === 'f32' && typeof v === 'number') text = formatFloat32(v);
    rows.push([field.title, escapeControl(text)]);
  }
  if (s.eth1) {
    rows.push(['IPv4 address (eth1)', s.eth1.ipAddress]);
    rows.push(['subnet mask (eth1)', s.eth1.subnetMask]);
    rows.push(['default gateway (eth1)', s.eth1.defaultGateway]);
    rows.push(['DNS server (eth1)', s.eth1.dnsServer]);
    rows.push(['MAC address (eth1)', s.eth1.macAddress]);
  }
  return formatKeyValues(rows, width);
}

/** The explanation of `mmp decode`: per packet a summary and its fields as a table that fits `width`. */
export function formatDecode(result: ReturnType<typeof describePackets>, width: number): string {
  const out: string[] = [];
  result.packets.forEach((p, i) => {
    const summary = escapeControl(`packet ${i + 1} (${p.length} bytes at offset ${p.at}): ${p.summary}`);
    wrapText(summary, width - 2).forEach((l, k) => {
      out.push(k === 0 ? l : `  ${l}`);
    });
    // A field per line with its meaning wrapped reads better than blocks, down to 60 columns.
    const table = formatTable(
      p.fields.map((f) => [f.range, f.hex, f.field, escapeControl(f.meaning)]),
      { width: width - 2, verticalBelow: 60, labels: ['bytes', 'hex', 'field', 'meaning'] },
    );
    for (const line of table.split('\n')) out.push(`  ${line}`);
  });
  if (result.leftover.length > 0) {
    out.push(
      `incomplete packet: ${result.leftover.length} byte(s), ${result.needed} more needed: ${Array.from(result.leftover, (b) => b.toString(16).padStart(2, '0')).join(' ')}`,
    );
  }
  if (out.length === 0) out.push('no bytes');
  return out.join('\n');
}

/** The answer of `mmp probe`: safe or not and why, the rates measured, the window to use. */
export function formatProbe(endpoint: string, r: PipeliningProbe, width: number): string {
  const lines: string[] = [];
  const text = (t: string, indent = '') =>
    wrapText(t, width - indent.length).forEach((l, k) => {
      lines.push(k === 0 ? `${indent}${l}` : `${indent}  ${l}`);
    });
  if (r.ok) {
    text(
      `pipelining on ${endpoint}: safe (${r.answered} of ${r.sent} pipelined requests answered, in order, each with its own label)`,
    );
  } else {
    text(`pipelining on ${endpoint}: NOT safe (${r.answered} of ${r.sent} pipelined requests answered)`);
    for (const p of r.problems) text(`- ${escapeControl(p)}`, '  ');
  }
  if (r.rates.length > 0) {
    const best = Math.max(...r.rates.map((x) => x.perSecond));
    lines.push(
      formatTable(
        r.rates.map((x) => [
          String(x.window),
          x.perSecond.toFixed(0),
          best > 0 ? `${((100 * x.perSecond) / best).toFixed(0)} %` : '-',
        ]),
        { head: ['window', 'reads/s', 'of best'], align: ['right', 'right', 'right'], width },
      ),
    );
  }
  text(
    r.recommendedWindow === 1
      ? 'recommended window: 1 (one request at a time)'
      : `recommended window: ${r.recommendedWindow} (the client option \`window\`, the fleet file field \`window\`)`,
  );
  return lines.join('\n');
}

/** "2 datagrams arrived over UDP and were dropped: 2 with another transaction label", or undefined. */
export function formatUdpDrops(d: UdpDropCounts): string | undefined {
  const n = d.unsolicited + d.wrongLabel + d.undecodable;
  if (n === 0) return undefined;
  const parts: string[] = [];
  if (d.wrongLabel > 0) parts.push(`${d.wrongLabel} with another transaction label (late answers)`);
  if (d.unsolicited > 0) parts.push(`${d.unsolicited} while no request was waiting`);
  if (d.undecodable > 0) parts.push(`${d.undecodable} not an OptoMMP packet`);
  return `${n} datagram${n === 1 ? '' : 's'} arrived over UDP and ${n === 1 ? 'was' : 'were'} dropped: ${parts.join(', ')}`;
}
