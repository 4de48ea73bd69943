// A small fixed-size histogram of milliseconds (scan lateness, scan duration): 0.05 ms steps up to 10 ms,
// 1 ms steps up to 1 s, then one bucket for the rest; the maximum is kept exactly. Constant memory
// however long a scanner runs.

const FINE_STEP = 0.05;
const FINE_BUCKETS = 200; // 0 … 10 ms
const COARSE_STEP = 1;
const COARSE_BUCKETS = 990; // 10 … 1000 ms

export interface Quantiles {
  /** Samples recorded. */
  count: number;
  /** Median, ms (upper edge of its bucket). */
  p50: number;
  /** 99th percentile, ms (upper edge of its bucket). */
  p99: number;
  max: number;
}

export class Histogram {
  readonly #counts = new Uint32Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
  #count = 0;
  #max = 0;

  record(ms: number): void {
    const v = Math.max(Number.isNaN(ms) ? 0 : ms, 0);
    let i: number;
    if (v < FINE_BUCKETS * FINE_STEP) i = Math.floor(v / FINE_STEP);
    else if (v < FINE_BUCKETS * FINE_STEP + COARSE_BUCKETS * COARSE_STEP) {
      i = FINE_BUCKETS + Math.floor((v - FINE_BUCKETS * FINE_STEP) / COARSE_STEP);
    } else i = FINE_BUCKETS + COARSE_BUCKETS;
    this.#counts[i]!++;
    this.#count++;
    if (v > this.#max) this.#max = v;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: Histogram): void {
    const theirs = other.#counts;
    for (let i = 0; i < theirs.length; i++) this.#counts[i]! += theirs[i]!;
    this.#count += other.#count;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const edge =
          i < FINE_BUCKETS
            ? (i + 1) * FINE_STEP
            : i < FINE_BUCKETS + COARSE_BUCKETS
              ? FINE_BUCKETS * FINE_STEP + (i - FINE_BUCKETS + 1) * COARSE_STEP
              : this.#max;
        return Math.min(edge, this.#max);
      }
    }
    return this.#max;
  }

  summary(): Quantiles {
    return { count: this.#count, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.#max };
  }
}
