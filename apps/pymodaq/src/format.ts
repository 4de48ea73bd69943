// One-line descriptions of what comes back from PyMoDAQ clients, for the console. Every string that came
// from a client (names, labels, units, messages) is escaped for the terminal.

import { escapeControl } from '@labwire/cli-kit';
import { LabwireError } from '@labwire/framing';
import type { PymodaqServerClient } from '@labwire/pymodaq';
import type { DataToExport, NdArray, Position } from '@labwire/pymodaq/codec';

export function formatPosition(p: Position): string {
  return p.units ? `${p.value} ${escapeControl(p.units)}` : String(p.value);
}

function stats(a: NdArray): string {
  if (a.size === 0) return 'empty';
  if (a.kind === 'c') return `${a.size} complex values`;
  const values = a.size <= 4 ? a.toNumbers() : undefined;
  if (values) return `[${values.map((v) => Number(v.toPrecision(6))).join(', ')}]`;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  const typed = a.typed();
  for (let i = 0; i < typed.length; i++) {
    const v = Number(typed[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const r = (v: number) => Number(v.toPrecision(5));
  return `min ${r(min)} max ${r(max)} mean ${r(sum / typed.length)}`;
}

/** `camera: CH00 Data2D <f8 [96x128] min 0.1 max 104 mean 9.2`, one line per channel. */
export function formatData(data: DataToExport): string[] {
  const lines: string[] = [];
  for (const channel of data.data) {
    channel.data.forEach((a, i) => {
      const label = escapeControl(channel.labels[i] ?? `CH${String(i).padStart(2, '0')}`);
      const units = channel.units ? ` ${escapeControl(channel.units)}` : '';
      lines.push(
        `${escapeControl(channel.name)}: ${label} ${channel.dim} ${a.dtype} [${a.shape.join('x')}]${units} ${stats(a)}`,
      );
    });
  }
  return lines.length > 0 ? lines : [`${escapeControl(data.name)}: no data`];
}

export function formatClient(c: PymodaqServerClient): string {
  return `${c.id} ${c.type} ${c.remoteAddress}:${c.remotePort}`;
}

export function formatError(e: unknown): string {
  if (LabwireError.isInstance(e)) return escapeControl(`${e.code}: ${e.message}`);
  return escapeControl(e instanceof Error ? e.message : String(e));
}
