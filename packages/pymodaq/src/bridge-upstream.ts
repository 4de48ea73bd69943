// One instrument's connection to the PyMoDAQ server, on the server's side of a PymodaqBridge: a client
// role of the server's generation that identifies with the instrument's type and settings, hands every
// server command to the bridge, and sends what the instrument says.
//
// Sends are ordered on the link (tcp Link.send). Two kinds:
// - messages that must arrive (Infos, Info, Info_xml, move_done, position_is, x_axis …): sent in order; the
//   bridge counts those not yet written and stops reading the instrument while too many wait (its bytes
//   then stay in the kernel: TCP backpressure all the way back);
// - detector data (`Done`): at most one message is being written and one waits; a newer one replaces the
//   waiting one (latest wins), so a slow server sees the newest frame instead of an ever older backlog.

import {
  defaultSettings,
  type LinkSession,
  type PymodaqClientEvents,
  type PymodaqClientOptions,
  PymodaqClientRole,
  type ServerMessage,
} from './client-role';
import type { Position } from './codec';
import { commandBytes } from './command-bytes';
import { ClientCommand, type ClientType } from './commands';

/** The messages of one detector message (x_axis / y_axis first when they changed, then `Done` + data). */
export type DataMessages = (link: LinkSession) => Uint8Array[][] | undefined;

/** A detector message handed to `pushData`. */
export interface DataItem {
  /** Encodes it for the link it goes out on, when its turn comes (undefined: nothing to send). */
  readonly messages: DataMessages;
  /**
   * Called once, when the message is out or will never go: `released` says that no socket refers to its
   * memory any more (written and flushed to the kernel, or never written), so that memory may be reused.
   */
  done(released: boolean): void;
}

export interface BridgeUpstreamOptions extends PymodaqClientOptions {
  type: ClientType;
  /** A server command (set_info included), read whole; must not throw. */
  onCommand(message: ServerMessage, link: LinkSession): void;
  /**
   * A move taken whole in the socket's read callback (lean position; `timestamp` its DataActuator's,
   * undefined for gen A/B); must not throw.
   */
  onMove(
    command: 'move_abs' | 'move_rel',
    position: Position,
    timestamp: number | undefined,
    link: LinkSession,
  ): void;
  /** Awaited before the next server command is read while the instrument cannot take more. */
  gate(): Promise<void> | undefined;
  /** Settings paths remembered for re-identification (latest `Info_xml` per path). Default 256. */
  maxRememberedSettings?: number;
}

export interface BridgeUpstreamEvents extends PymodaqClientEvents {}

/** Outcome of `pushData`. */
export type DataPush = 'sent' | 'waiting' | 'replaced' | 'no-server';

export class BridgeUpstream extends PymodaqClientRole<BridgeUpstreamEvents> {
  readonly #onCommand: BridgeUpstreamOptions['onCommand'];
  readonly #onMove: BridgeUpstreamOptions['onMove'];
  readonly #gate: BridgeUpstreamOptions['gate'];
  readonly #maxRemembered: number;
  /** The instrument's last `Infos` XML, sent on every identification. */
  #infos: string | undefined;
  /** The instrument's `Info_xml` since its `Infos`, latest per path (replayed after a reconnect). */
  readonly #settingsChanged = new Map<string, { root: string; path: readonly string[]; xml: string }>();
  /** Messages that must arrive and are not written yet. */
  #unwritten = 0;
  readonly #writtenWaiters = new Set<() => void>();
  /** A detector message is being written. */
  #dataBusy = false;
  /** The detector message waiting for it (latest wins). */
  #dataWaiting: DataItem | undefined;

  constructor(options: BridgeUpstreamOptions) {
    super(options.type, options, defaultSettings());
    this.#onCommand = options.onCommand;
    this.#onMove = options.onMove;
    this.#gate = options.gate;
    this.#maxRemembered = options.maxRememberedSettings ?? 256;
  }

  /** Messages that must arrive, handed over and not yet written. */
  get unwritten(): number {
    return this.#unwritten;
  }

  /** Resolves once fewer than `max` messages wait to be written (at once when they already do). */
  whenBelow(max: number): Promise<void> | undefined {
    if (this.#unwritten < max) return undefined;
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.#unwritten < max || this.closedSignal.aborted) {
          this.#writtenWaiters.delete(check);
          resolve();
        }
      };
      this.#writtenWaiters.add(check);
    });
  }

  /** The link to the server while one is up (identified or identifying). */
  get currentLink(): LinkSession | undefined {
    const link = this.link;
    return link?.live ? link : undefined;
  }

  /**
   * The instrument's `Infos`: remembered for the next identifications and sent now when linked (then
   * true; else it goes with the next identification).
   */
  setInfos(xml: string): boolean {
    this.#infos = xml;
    this.#settingsChanged.clear();
    const p = this.profile;
    return this.forward([commandBytes(p, ClientCommand.infos), p.encodeString(this.textForWire(xml))]);
  }

  /**
   * The instrument's `Info_xml`: remembered (latest per path) and sent now when linked (then true; else it
   * goes with the next identification).
   */
  setInfoXml(root: string, path: readonly string[], xml: string): boolean {
    const key = path.join('\u0000');
    this.#settingsChanged.delete(key);
    if (this.#settingsChanged.size >= this.#maxRemembered) {
      const oldest = this.#settingsChanged.keys().next().value;
      if (oldest !== undefined) this.#settingsChanged.delete(oldest);
      this.logger.warn('pymodaq bridge: settings changes remembered for reconnects are capped', {
        max: this.#maxRemembered,
      });
    }
    this.#settingsChanged.set(key, { root, path, xml });
    return this.forward(this.#infoXmlMessage(root, path, xml));
  }

  /**
   * Sends a message that must arrive, after everything handed over before it. Returns false when no link
   * is up (the message is dropped: the server that would have taken it is gone).
   */
  forward(parts: readonly Uint8Array[], link = this.link): boolean {
    if (link === undefined || !link.live) return false;
    // A one-buffer message on an idle socket is written now (a move_done, a position_is).
    if (parts.length === 1 && !this.isClosed && link.tcp?.trySend(parts[0]!)) return true;
    this.#unwritten++;
    this.send(parts, {}, link).then(this.#written, (e: unknown) => {
      this.#written();
      if (link.live && !this.closedSignal.aborted) this.reportError(e);
    });
    return true;
  }

  /**
   * forward() of a message in one buffer (a move_done, a position_is): written in the caller's turn when
   * the link's socket is idle, without a parts array; else queued as forward() queues. Bytes from this
   * role's `profile.encodeMove` are handed back to it once the kernel has them.
   */
  forwardOne(bytes: Uint8Array, link = this.link): boolean {
    if (link === undefined || !link.live) return false;
    const tcp = link.tcp;
    if (!this.isClosed && tcp?.trySend(bytes)) {
      // Written through to the kernel in this turn: bytes from this profile's encodeMove are free again.
      if (tcp.socket.writableLength === 0) this.profile.giveBack(bytes);
      return true;
    }
    return this.forward([bytes], link);
  }

  /**
   * Hands over a detector message: written at once when none is being written, else it waits in the one
   * slot (replacing the message waiting there: latest wins). Encoded only when its turn comes.
   */
  pushData(item: DataItem): DataPush {
    const link = this.link;
    if (link === undefined || !link.live) {
      item.done(true);
      return 'no-server';
    }
    if (this.#dataBusy) {
      const replaced = this.#dataWaiting;
      this.#dataWaiting = item;
      replaced?.done(true);
      return replaced !== undefined ? 'replaced' : 'waiting';
    }
    this.#sendData(link, item);
    return 'sent';
  }

  #written = (): void => {
    this.#unwritten--;
    for (const check of [...this.#writtenWaiters]) check();
  };

  #sendData(link: LinkSession, item: DataItem): void {
    let encoded: Uint8Array[][] | undefined;
    try {
      encoded = item.messages(link);
    } catch (e) {
      item.done(true);
      this.reportError(e);
      return;
    }
    if (encoded === undefined || encoded.length === 0) {
      item.done(true);
      return;
    }
    this.#dataBusy = true;
    // Each message whole at once while the link is idle (the frame path: no abort listener, no promise
    // per part); else queued through send, in order behind the writes under way.
    const sends = encoded.map((parts) => this.sendNow(parts, link) ?? this.send(parts, {}, link));
    (sends.length === 1 ? sends[0]! : Promise.all(sends)).then(
      () => {
        // Taken by the socket; once nothing is queued in it either, the kernel has every byte.
        item.done(link.tcp?.socket.writableLength === 0);
        this.#dataDone();
      },
      (e: unknown) => {
        item.done(false);
        if (link.live && !this.closedSignal.aborted) this.reportError(e);
        this.#dataDone();
      },
    );
  }

  #dataDone(): void {
    this.#dataBusy = false;
    const next = this.#dataWaiting;
    this.#dataWaiting = undefined;
    const link = this.link;
    if (next !== undefined && link?.live) this.#sendData(link, next);
  }

  #infoXmlMessage(root: string, path: readonly string[], xml: string): Uint8Array[] {
    const p = this.profile;
    return [
      commandBytes(p, ClientCommand.infoXml),
      p.encodePath([root, ...path]),
      p.encodeString(this.textForWire(xml)),
    ];
  }

  /** The instrument's type, its `Infos` and the settings it changed since (docs/protocols/pymodaq.md §8.1). */
  protected override identification(): Uint8Array[][] {
    const p = this.profile;
    const messages: Uint8Array[][] = [[commandBytes(p, this.type)]];
    if (this.#infos !== undefined) {
      messages.push([commandBytes(p, ClientCommand.infos), p.encodeString(this.textForWire(this.#infos))]);
    }
    for (const { root, path, xml } of this.#settingsChanged.values()) {
      messages.push(this.#infoXmlMessage(root, path, xml));
    }
    return messages;
  }

  protected handle(message: ServerMessage, link: LinkSession): void {
    this.#onCommand(message, link);
  }

  protected override handleMove(
    command: 'move_abs' | 'move_rel',
    position: Position,
    timestamp: number | undefined,
    link: LinkSession,
  ): void {
    this.#onMove(command, position, timestamp, link);
  }

  protected override onSetInfo(
    message: { path: string[]; xml: string; root: string },
    link: LinkSession,
  ): void {
    this.#onCommand({ command: 'set_info', ...message }, link);
  }

  protected override readGate(_link: LinkSession): Promise<void> | undefined {
    return this.#gate();
  }

  protected override onLinkLost(_link: LinkSession): void {
    // A frame waiting for a link that is gone would reach a server that never asked for it.
    this.#dataWaiting?.done(true);
    this.#dataWaiting = undefined;
  }

  protected override onClose(): void {
    this.#dataWaiting?.done(true);
    this.#dataWaiting = undefined;
    for (const check of [...this.#writtenWaiters]) check();
  }
}
