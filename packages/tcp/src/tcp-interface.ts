// TcpInterface: the `socs.tcp.TCPInterface` contract done right (docs/protocols/tcpinterface.md §1.7, G3-G16), as
// the composition of a Connection (one link's life: connect, backoff, keepalive, heartbeat, events) and a
// RequestQueue on top (FIFO, deadlines, desync, replay). Everything the queue does is inherited; what is
// added here is the construction from host and port and a few views of the connection.

import type { ByteReader, OperationOptions } from '@labwire/framing';
import { Connection } from './connection';
import type { ConnectionCounters, TcpInterfaceOptions, TcpState } from './options';
import { RequestQueue } from './request-queue';

export class TcpInterface extends RequestQueue {
  readonly host: string;
  readonly port: number;
  readonly linkId: string | undefined;

  /**
   * Never throws: bad options and connect failures are reported through `state`, the `error` event and
   * the logger, and every later operation rejects with the reason. Starts connecting at once unless
   * `autoConnect: false`.
   */
  constructor(host: string, port: number, options: TcpInterfaceOptions = {}) {
    const { heartbeat, ...rest } = options;
    super(new Connection(host, port, rest), { ...rest, heartbeat });
    this.host = host;
    this.port = port;
    this.linkId = options.linkId;
  }

  /** Where the interface is in its life cycle. */
  get state(): TcpState {
    return this.connection.state;
  }

  /** True while a link is up. */
  get connected(): boolean {
    return this.connection.connected;
  }

  /** The error that took the link down or made the last connect fail, if any. */
  get lastError(): Error | undefined {
    return this.connection.lastError;
  }

  /**
   * The current link's ByteReader, for full-duplex protocols in which the peer speaks unprompted. Reads
   * on it bypass the queue. Prefer a `Connection` directly for such protocols (see the README).
   */
  get reader(): ByteReader | undefined {
    return this.connection.reader;
  }

  /** Running totals: the connection's (bytes, connects, …) and the queue's (completed, timeouts, replays). */
  override get counters(): ConnectionCounters & RequestQueue['counters'] {
    return { ...this.connection.counters, ...super.counters };
  }

  /**
   * Resolves once connected. With a connect in flight or scheduled, waits for it (one connect at a time,
   * never sooner than the backoff window). Rejects with ConnectRefusedError, ConnectTimeoutError,
   * ConnectFailedError, TimeoutError (`opts.timeoutMs`), AbortedError or ClosedError.
   */
  async connect(opts: OperationOptions = {}): Promise<void> {
    await this.connection.connect(opts);
  }

  /**
   * Says the current link proved the peer, for callers that use `send` and `recv` rather than `request`
   * (a completed request does it by itself). See `Link.markHealthy`.
   */
  markHealthy(): void {
    this.connection.markHealthy();
  }
}
