// Human-readable renderings for the mmp commands.

import type { DescribeResult } from '@labwire/optommp/codec';

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

/** Aligned `key  value` lines. */
export function keyValues(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The explanation of `mmp decode`. */
export function formatDecode(result: DescribeResult): string {
  const out: string[] = [];
  result.packets.forEach((p, i) => {
    out.push(`packet ${i + 1} (${p.length} bytes at offset ${p.at}): ${p.summary}`);
    const rw = Math.max(...p.fields.map((f) => f.range.length));
    const hw = Math.min(24, Math.max(...p.fields.map((f) => f.hex.length)));
    const fw = Math.max(...p.fields.map((f) => f.field.length));
    for (const f of p.fields) {
      out.push(`  ${f.range.padEnd(rw)}  ${f.hex.padEnd(hw)}  ${f.field.padEnd(fw)}  ${f.meaning}`);
    }
  });
  if (result.leftover.length > 0) {
    out.push(
      `incomplete packet: ${result.leftover.length} byte(s), ${result.needed} more needed: ${Array.from(result.leftover, (b) => b.toString(16).padStart(2, '0')).join(' ')}`,
    );
  }
  if (out.length === 0) out.push('no bytes');
  return out.join('\n');
}

/** JSON that can hold bigints (as decimal strings) and bytes (as hex). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  });
}
