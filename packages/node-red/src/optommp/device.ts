// One OptoMMP device as the flow sees it (the `labwire-mmp-device` config node owns one). Two links to the
// device at most:
// - a Scanner (from @labwire/optommp) with one point group per scan node using the device. Scan nodes come
//   and go with partial deploys, so the scanner is rebuilt (the old one stopped, a new one started) once
//   per turn of the event loop in which the set of groups changed: a whole deploy builds it once.
// - an OptoMmpClient for the read and write nodes, made when the first of them registers. Over TCP it
//   reconnects by itself on a growing, jittered delay (never faster), so its state is the status the
//   read/write nodes show.
// With `simulate`, the device is an EpicSimulator started here on 127.0.0.1 (an ephemeral port) and
// closed with the device.
// close() stops everything and resolves once every socket and timer is gone: the config node's close
// handler waits for it, so a redeploy never leaves a connection behind.

import type { Logger } from '@labwire/framing';
import {
  type HealthEvent,
  OptoMmpClient,
  type ScanDeviceConfig,
  type ScanGroupConfig,
  Scanner,
  type ScanReport,
} from '@labwire/optommp';
import { DEFAULT_RACK, EpicSimulator, type RackConfig } from '@labwire/optommp/simulator';

export interface MmpDeviceSettings {
  /** How the device is named in reports and logs. */
  name: string;
  host: string;
  port: number;
  transport: 'tcp' | 'udp';
  /** Deadline of every call and of every scan, ms. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** TCP requests in flight at once (1 = one at a time; 2…32 pipelines). */
  window: number;
  /** Largest data block of one packet; a 64-channel module is one read from 4 036 bytes up. */
  maxBlockBytes: number;
  /** Run an embedded simulator instead of talking to host:port. */
  simulate: boolean;
}

/** The state of one of the device's links, with the error that caused it. */
export interface DeviceLinkState {
  state: 'connecting' | 'connected' | 'reconnecting' | 'stale' | 'closed';
  cause?: Error | undefined;
}

export interface ScanListener {
  values(report: ScanReport): void;
  health(state: DeviceLinkState): void;
}

/** The rack of the embedded simulator: the default small rack and a 64-channel analog input in slot 4. */
export const SIMULATED_RACK: RackConfig = {
  modules: [
    ...DEFAULT_RACK.modules,
    {
      slot: 4,
      kind: 'analog-input',
      channels: 64,
      partNumber: 'SIM-AI-64',
      drift: true,
      signal: { center: 10, amplitude: 5, periodMs: 10_000, noise: 0.01 },
    },
  ],
};

/** Backoff of the read/write client's reconnects (the tcp reconnect policy: equal jitter). */
const CLIENT_RECONNECT = { initialDelayMs: 200, maxDelayMs: 5_000 };

export class MmpDevice {
  readonly settings: MmpDeviceSettings;
  readonly #log: Logger;
  readonly #groups = new Map<string, { group: ScanGroupConfig; listener: ScanListener }>();
  readonly #clientListeners = new Set<(state: DeviceLinkState) => void>();
  #endpoint: Promise<{ host: string; port: number }> | undefined;
  #simulator: Promise<EpicSimulator | undefined> | undefined;
  #scanner: Scanner | undefined;
  #scanHealth: DeviceLinkState = { state: 'connecting' };
  #rebuildScheduled: ReturnType<typeof setImmediate> | undefined;
  #generation = 0;
  readonly #stopping = new Set<Promise<void>>();
  #client: OptoMmpClient | undefined;
  #clientState: DeviceLinkState = { state: 'connecting' };
  #closing: Promise<void> | undefined;

  constructor(settings: MmpDeviceSettings, logger: Logger) {
    this.settings = settings;
    this.#log = logger;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Where the device listens: host:port, or the embedded simulator once it has started. */
  endpoint(): Promise<{ host: string; port: number }> {
    this.#endpoint ??= this.#resolveEndpoint();
    return this.#endpoint;
  }

  async #resolveEndpoint(): Promise<{ host: string; port: number }> {
    const s = this.settings;
    if (!s.simulate) return { host: s.host, port: s.port };
    this.#simulator = EpicSimulator.start({
      host: '127.0.0.1',
      port: 0,
      udp: s.transport === 'udp',
      maxBlockBytes: Math.max(4096, s.maxBlockBytes),
      rack: SIMULATED_RACK,
    });
    const sim = await this.#simulator;
    if (sim === undefined) throw new Error('simulator did not start');
    return { host: sim.host, port: sim.port };
  }

  // --- scan groups ---------------------------------------------------------------------------------------

  /** Adds a scan group (one per scan node; `id` names it). Returns the function that removes it. */
  addScan(id: string, group: Omit<ScanGroupConfig, 'name'>, listener: ScanListener): () => void {
    if (this.closed) return () => {};
    this.#groups.set(id, { group: { ...group, name: id }, listener });
    listener.health(this.#scanHealth);
    this.#scheduleRebuild();
    return () => {
      if (this.#groups.get(id)?.listener !== listener) return;
      this.#groups.delete(id);
      this.#scheduleRebuild();
    };
  }

  /** The scanner's statistics (undefined while there is no scanner). */
  scanStats(): ReturnType<Scanner['stats']> | undefined {
    return this.#scanner?.stats();
  }

  #scheduleRebuild(): void {
    if (this.#rebuildScheduled !== undefined || this.closed) return;
    this.#rebuildScheduled = setImmediate(() => {
      this.#rebuildScheduled = undefined;
      this.#rebuild().catch((error: unknown) =>
        this.#setScanHealth({ state: 'stale', cause: error as Error }),
      );
    });
  }

  async #rebuild(): Promise<void> {
    const generation = ++this.#generation;
    this.#retireScanner();
    if (this.#groups.size === 0 || this.closed) return;
    const { host, port } = await this.endpoint();
    if (generation !== this.#generation || this.closed || this.#groups.size === 0) return;
    const s = this.settings;
    const device: ScanDeviceConfig = {
      name: s.name,
      host,
      port,
      window: s.transport === 'tcp' ? s.window : 1,
      maxBlockBytes: s.maxBlockBytes,
      timeoutMs: s.timeoutMs,
      connectTimeoutMs: s.connectTimeoutMs,
      groups: [...this.#groups.values()].map((g) => g.group),
    };
    const scanner = new Scanner([device], {
      logger: this.#log,
      // The scanner's own client options (the device's settings, no reconnect of its own, this logger),
      // over the transport the node chose.
      createClient: (_d, _window, defaults) => new OptoMmpClient({ ...defaults, transport: s.transport }),
    });
    scanner.on('values', (report) => {
      this.#groups.get(report.group)?.listener.values(report);
    });
    scanner.on('health', (event) => this.#setScanHealth(healthState(event)));
    this.#scanner = scanner;
    this.#setScanHealth({ state: 'connecting' });
    scanner.start();
  }

  #retireScanner(): void {
    const old = this.#scanner;
    if (old === undefined) return;
    this.#scanner = undefined;
    old.removeAllListeners();
    const stopping = old.stop().catch((error: unknown) => {
      this.#log.warn('labwire/optommp: scanner did not stop cleanly', { error: String(error) });
    });
    this.#stopping.add(stopping);
    void stopping.finally(() => this.#stopping.delete(stopping));
  }

  #setScanHealth(state: DeviceLinkState): void {
    this.#scanHealth = state;
    for (const { listener } of this.#groups.values()) listener.health(state);
  }

  // --- the read/write client -----------------------------------------------------------------------------

  /** Follows the read/write client's link state (called at once with the current one). */
  watchClient(listener: (state: DeviceLinkState) => void): () => void {
    this.#clientListeners.add(listener);
    listener(this.#clientState);
    return () => this.#clientListeners.delete(listener);
  }

  /** The client read and write nodes share; made on first use. */
  async client(): Promise<OptoMmpClient> {
    if (this.#client !== undefined) return this.#client;
    const { host, port } = await this.endpoint();
    if (this.closed) throw new Error('the device node was closed');
    if (this.#client !== undefined) return this.#client;
    const s = this.settings;
    const client = new OptoMmpClient({
      host,
      port,
      transport: s.transport,
      window: s.window,
      maxBlockBytes: s.maxBlockBytes,
      timeoutMs: s.timeoutMs,
      connectTimeoutMs: s.connectTimeoutMs,
      reconnect: s.transport === 'tcp' ? CLIENT_RECONNECT : undefined,
      logger: this.#log,
    });
    this.#client = client;
    const transport = client.transport as { tcp?: import('@labwire/tcp').TcpInterface };
    const tcp = transport.tcp;
    if (tcp !== undefined) {
      tcp.on('state', (state) => {
        if (state === 'connected') this.#setClientState({ state: 'connected' });
        else if (state === 'connecting')
          this.#setClientState({
            state: this.#clientState.state === 'connected' ? 'reconnecting' : 'connecting',
            cause: tcp.lastError,
          });
        else if (state === 'backoff') this.#setClientState({ state: 'reconnecting', cause: tcp.lastError });
      });
    }
    return client;
  }

  /** A read/write node's call ended: UDP has no connection state, so its calls say whether the device answers. */
  callSettled(error: unknown): void {
    if (this.settings.transport !== 'udp') return;
    if (error === undefined) this.#setClientState({ state: 'connected' });
    else this.#setClientState({ state: 'reconnecting', cause: error as Error });
  }

  #setClientState(state: DeviceLinkState): void {
    const before = this.#clientState;
    if (before.state === state.state && before.cause === state.cause) return;
    this.#clientState = state;
    for (const listener of this.#clientListeners) listener(state);
  }

  // --- life ----------------------------------------------------------------------------------------------

  /** Stops the scanner, closes the client and the simulator. Resolves once all of it is gone. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#rebuildScheduled !== undefined) clearImmediate(this.#rebuildScheduled);
      this.#rebuildScheduled = undefined;
      this.#generation++;
      this.#retireScanner();
      this.#groups.clear();
      this.#clientListeners.clear();
      const client = this.#client;
      this.#client = undefined;
      await Promise.all([client?.close(), ...this.#stopping]);
      // The simulator last: the links to it are gone by now. (A simulator still starting is closed once up.)
      const sim = await this.#simulator?.catch(() => undefined);
      await sim?.close();
    })();
    return this.#closing;
  }
}

function healthState(event: HealthEvent): DeviceLinkState {
  const h = event.health;
  if (h.state === 'ok') return { state: 'connected' };
  if (h.state === 'stale') return { state: 'stale', cause: h.cause };
  return { state: h.cause === undefined ? 'connecting' : 'reconnecting', cause: h.cause };
}
