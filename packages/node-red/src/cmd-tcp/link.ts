// One cmd_tcp link as the flow sees it (the `labwire-cmdtcp-link` config node owns one): a TcpBus with a
// single link, kept configured. cmd_tcp never reconnects on its own (after the peer closes, a link stays
// broken until inval + config); in a flow that nobody restarts, the link does it here, on a growing,
// jittered delay (the tcp backoff, never faster). Calls made while the link is down fail at once with the
// reason, rather than piling up: a flow retries on its own schedule.
// With `simulate`, the link talks to an InstrumentSim (@labwire/bus/simulator) started here on
// 127.0.0.1; the conf_string's host and port are replaced by the simulator's, its other keys kept.

import { parseConfString, TcpBus, unparseConfString } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import type { Logger } from '@labwire/framing';
import { backoffDelay } from '@labwire/tcp';

export interface LinkState {
  state: 'connecting' | 'connected' | 'reconnecting' | 'error' | 'closed';
  cause?: unknown;
  /** The canonical key `address,port` once configured. */
  canonical?: string;
}

/** The link is down: calls fail at once until it is configured again. */
export class LinkDownError extends Error {
  override readonly cause: unknown;
  constructor(conf: string, cause: unknown, retryInMs: number | undefined) {
    super(
      `link ${conf} is down` +
        (retryInMs === undefined ? '' : ` (next try in ${Math.ceil(retryInMs)} ms)`) +
        (cause instanceof Error ? `: ${cause.message}` : ''),
    );
    this.name = 'LinkDownError';
    this.cause = cause;
  }
}

const BACKOFF = { initialDelayMs: 200, maxDelayMs: 5_000 };
const LINK_ID = 'node-red';

export class BusLink {
  readonly conf: string;
  readonly bus: TcpBus;
  readonly #simulate: boolean;
  readonly #listeners = new Set<(state: LinkState) => void>();
  #state: LinkState = { state: 'connecting' };
  #sim: Promise<InstrumentSim> | undefined;
  #attempt = 0;
  #retryAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #configuring: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Checks the conf_string (throws InvalidConfError with cmd_tcp's message) and starts connecting. */
  constructor(conf: string, options: { simulate: boolean; logger: Logger }) {
    this.conf = conf;
    this.#simulate = options.simulate;
    this.bus = new TcpBus({ logger: options.logger });
    const parsed = parseConfString(conf);
    if (this.#simulate) {
      // Checked as given first (the simulator's address replaces host and port afterwards).
      const params = new Map(parsed.params);
      params.set('host', params.get('host') ?? '127.0.0.1');
      params.set('port', params.get('port') ?? '1');
      this.bus.init('check', unparseConfString({ name: parsed.name, params }));
      this.bus.deinit('check').catch(() => false);
    } else {
      this.bus.init(LINK_ID, conf);
    }
    this.bus.on('linkBroken', (e) => {
      if (!e.linkIds.includes(LINK_ID) || this.#closing !== undefined) return;
      this.#down(e.error);
    });
    this.#configure();
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Follows the link's state (called at once with the current one). */
  watch(listener: (state: LinkState) => void): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `call` on the link; fails at once (LinkDownError) while it is down. */
  async run<T>(call: (bus: TcpBus, id: string) => Promise<T>): Promise<T> {
    if (this.#configuring !== undefined) await this.#configuring;
    if (this.#closing !== undefined) throw new LinkDownError(this.conf, new Error('closed'), undefined);
    if (this.#state.state !== 'connected') {
      throw new LinkDownError(this.conf, this.#state.cause, Math.max(0, this.#retryAt - performance.now()));
    }
    return call(this.bus, LINK_ID);
  }

  #set(state: LinkState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }

  #configure(): void {
    this.#configuring = (async () => {
      try {
        if (this.#simulate) await this.#initSimulated();
        const canonical = await this.bus.config(LINK_ID);
        if (this.#closing !== undefined) return;
        this.#attempt = 0;
        this.#set({ state: 'connected', canonical });
      } catch (error) {
        if (this.#closing !== undefined) return;
        this.#down(error);
      }
    })().finally(() => {
      this.#configuring = undefined;
    });
  }

  async #initSimulated(): Promise<void> {
    if (this.#sim !== undefined) return;
    this.#sim = InstrumentSim.start({ host: '127.0.0.1', port: 0 });
    const sim = await this.#sim;
    const params = new Map(parseConfString(this.conf).params);
    params.set('host', sim.host);
    params.set('port', String(sim.port));
    this.bus.init(LINK_ID, unparseConfString({ name: 'tcp', params }));
  }

  /** The link failed (config refused, peer gone): undo config and try again after the backoff delay. */
  #down(cause: unknown): void {
    const delay = backoffDelay(this.#attempt++, BACKOFF);
    this.#retryAt = performance.now() + delay;
    this.#set({ state: 'reconnecting', cause });
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closing !== undefined) return;
      this.bus
        .inval(LINK_ID)
        .catch(() => false)
        .then(
          () => {
            if (this.#closing === undefined) this.#configure();
          },
          () => undefined,
        );
    }, delay);
  }

  /** Deinits the link, closes the bus and the simulator. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#listeners.clear();
      await this.#configuring?.catch(() => undefined);
      await this.bus.close();
      const sim = await this.#sim?.catch(() => undefined);
      await sim?.close();
    })();
    return this.#closing;
  }
}
