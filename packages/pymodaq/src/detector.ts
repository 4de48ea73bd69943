// PymodaqDetector: the remote side of PyMoDAQ's DAQ_xDViewer_TCPServer. It identifies as `GRABBER`,
// sends `Infos`, answers `Send Data 0D|1D|2D|ND` with `Done` + data (docs/protocols/pymodaq.md §8.3) from the user's grab
// handler, and can push data unsolicited (what PyMoDAQ's examples/tcp_client.py does). Grabs run one at
// a time in arrival order.
//
// Data leave without being copied into one buffer: the codec encodes the message as parts and the array
// blocks are written by reference.

import { checkTimeout, LimitExceededError, type OperationOptions } from '@labwire/framing';
import {
  defaultSettings,
  type LinkSession,
  type PymodaqClientEvents,
  type PymodaqClientOptions,
  PymodaqClientRole,
  type ServerMessage,
} from './client-role';
import type { DataToExport } from './codec';
import { commandBytes } from './command-bytes';
import { ClientCommand, type GrabDim, grabDimOf } from './commands';
import { ProtocolError } from './errors';

/** The hardware side of a detector. */
export interface DetectorHandlers {
  /**
   * Acquires data for `Send Data <dim>`. Gen C/D send the DataToExport as it is (use DataFromPlugins
   * inside for PyMoDAQ 5, docs/protocols/pymodaq.md §9 c); gen A/B send the arrays of its DataWithAxes as a list.
   */
  grab(dim: GrabDim, context: { signal: AbortSignal }): Promise<DataToExport> | DataToExport;
}

interface GrabJob {
  dim: GrabDim;
  link: LinkSession;
}

export class PymodaqDetector extends PymodaqClientRole<
  PymodaqClientEvents & {
    /** A grab was answered with `Done` + data. */
    grabbed: [{ dim: GrabDim; data: DataToExport }];
  }
> {
  readonly #handlers: DetectorHandlers;
  readonly #grabs: GrabJob[] = [];
  readonly #maxPendingGrabs: number;
  #grabbing = false;

  constructor(
    options: PymodaqClientOptions & {
      handlers: DetectorHandlers;
      /**
       * Grabs asked for and not yet answered, at most (they run one at a time). One more is dropped and
       * reported as an `error` (LimitExceededError); the server's own deadline ends its wait. Default 16.
       */
      maxPendingGrabs?: number;
    },
  ) {
    super('GRABBER', options, defaultSettings());
    this.#handlers = options.handlers;
    this.#maxPendingGrabs = options.maxPendingGrabs ?? 16;
  }

  /**
   * Sends `Done` + data without being asked (the server shows it like a grab result). Resolves when the
   * data is handed to the socket.
   */
  push(data: DataToExport, options: OperationOptions = {}): Promise<void> {
    let parts: Uint8Array[];
    let now: Promise<void> | undefined;
    try {
      parts = this.#encode(data);
      // An idle link takes the whole frame at once (no abort listener, no promise per part); with a
      // signal of the caller's, or a write still under way, the frame queues through send.
      if (options.signal === undefined) {
        const timeoutMs =
          options.timeoutMs === undefined ? this.timeoutMs : checkTimeout(options.timeoutMs, this.timeoutMs);
        now = this.sendNow(parts, undefined, timeoutMs);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return now ?? this.send(parts, options);
  }

  /** @internal */
  protected override onLinkLost(link: LinkSession): void {
    for (let i = this.#grabs.length - 1; i >= 0; i--)
      if (this.#grabs[i]!.link === link) this.#grabs.splice(i, 1);
  }

  /** @internal */
  protected override onClose(): void {
    this.#grabs.length = 0;
  }

  /** @internal */
  protected handle(message: ServerMessage, link: LinkSession): void {
    const dim = grabDimOf(message.command);
    if (dim === undefined) {
      this.reportError(new ProtocolError(`${message.command} is not a detector command; ignored`));
      return;
    }
    // The grab running counts too: at most maxPendingGrabs are owed an answer.
    const owed = this.#grabs.length + (this.#grabbing ? 1 : 0);
    if (owed >= this.#maxPendingGrabs) {
      this.reportError(
        new LimitExceededError(
          `pymodaq detector: ${message.command} dropped, grabs pending`,
          this.#maxPendingGrabs,
          owed + 1,
        ),
      );
      return;
    }
    this.#grabs.push({ dim, link });
    void this.#pumpGrabs();
  }

  #encode(data: DataToExport): Uint8Array[] {
    const p = this.profile;
    return [commandBytes(p, ClientCommand.done), ...p.encodeDetectorDataParts(data)];
  }

  async #pumpGrabs(): Promise<void> {
    if (this.#grabbing) return;
    this.#grabbing = true;
    try {
      for (let job = this.#grabs.shift(); job !== undefined; job = this.#grabs.shift()) {
        if (!job.link.live || this.closedSignal.aborted) continue;
        const { dim, link } = job;
        try {
          const data = await this.runHandler(`grab(${dim})`, link, 'grab', (signal) =>
            this.#handlers.grab(dim, { signal }),
          );
          // A failed grab has no reply in PyMoDAQ's protocol: the server's own deadline ends its wait.
          if (!link.live) continue;
          const parts = this.#encode(data);
          await (this.sendNow(parts, link) ?? this.send(parts, {}, link));
          this.emitSafe('grabbed', { dim, data });
        } catch (e) {
          if (link.live && !this.closedSignal.aborted) this.reportError(e);
        }
      }
    } finally {
      this.#grabbing = false;
    }
  }
}
