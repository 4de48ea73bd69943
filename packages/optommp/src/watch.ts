// Points a client can poll with `watch`, and what each sample holds.

/** One thing to poll. `name` is what samples call it (default: a short description). */
export type WatchPoint = { name?: string } & (
  | { kind: 'digital'; module: number; channel: number }
  | { kind: 'analog'; module: number; channel: number }
  | { kind: 'int32'; index: number }
  | { kind: 'float32'; index: number }
  | { kind: 'uptime' }
  | { kind: 'u32' | 'i32' | 'f32'; address: number }
);

export interface WatchSample {
  /** 0, 1, 2, … */
  sequence: number;
  /** Wall-clock time the sample was taken (ms since the epoch). */
  time: number;
  values: {
    name: string;
    point: WatchPoint;
    value: number | boolean;
  }[];
}

export interface WatchOptions {
  /** Time between the starts of two samples, ms. Default 1 000. */
  intervalMs?: number;
  /** Stop after this many samples. Default: until the signal aborts or the loop is left. */
  count?: number;
  /** Stop the iteration (the iterator then ends without an error). */
  signal?: AbortSignal;
  /** Deadline of one sample (all its reads), ms. Default: the client's. */
  timeoutMs?: number;
}

export function watchPointName(p: WatchPoint): string {
  if (p.name !== undefined) return p.name;
  switch (p.kind) {
    case 'digital':
    case 'analog':
      return `${p.kind} ${p.module}/${p.channel}`;
    case 'int32':
    case 'float32':
      return `${p.kind}[${p.index}]`;
    case 'uptime':
      return 'uptime';
    default:
      return `${p.kind}@${p.address.toString(16).toUpperCase().padStart(8, '0')}`;
  }
}
