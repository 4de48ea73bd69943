// The deadlines of many pending requests on one timer. Arming and clearing a timer per request costs
// more than a whole loopback round trip (a move is answered in tens of microseconds), and the requests of
// one connection mostly share a deadline length, so their deadlines come in order: one timer, armed for
// the earliest deadline, serves them all. A request that settles just leaves the set; the timer is
// re-armed only when it fires (for the earliest deadline still pending) or when an earlier deadline
// arrives. The timer is unref'd (the connection keeps the process alive) and `clear()` stops it.

/** Something with a deadline: `expiresAt` in `Date.now()` milliseconds. */
export interface Expiring {
  readonly expiresAt: number;
}

export class DeadlineTimer<T extends Expiring> {
  readonly #pending = new Set<T>();
  readonly #expire: (item: T) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (Infinity: none armed). */
  #armedFor = Number.POSITIVE_INFINITY;

  /** `expire` is called once for each item whose deadline passed while it was pending. */
  constructor(expire: (item: T) => void) {
    this.#expire = expire;
  }

  /** Starts watching `item` (an infinite deadline is never watched). */
  add(item: T): void {
    if (!Number.isFinite(item.expiresAt)) return;
    this.#pending.add(item);
    if (item.expiresAt < this.#armedFor) this.#arm(item.expiresAt);
  }

  /** Stops watching `item` (it settled). */
  delete(item: T): void {
    this.#pending.delete(item);
  }

  /** Stops watching everything and the timer. */
  clear(): void {
    this.#pending.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = setTimeout(this.#fire, Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    this.#timer.unref();
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (const item of [...this.#pending]) {
      if (item.expiresAt <= now && this.#pending.delete(item)) this.#expire(item);
    }
    // What `expire` left or added: the earliest deadline still pending gets the timer.
    let next = Number.POSITIVE_INFINITY;
    for (const item of this.#pending) if (item.expiresAt < next) next = item.expiresAt;
    if (next < this.#armedFor) this.#arm(next);
  };
}
