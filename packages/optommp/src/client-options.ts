// Options of OptoMmpClient.

import type { LoggerLike, TcpInterfaceOptions } from '@labwire/tcp';
import type { MmpTransport } from './transport';

/** The default OptoMMP port (TCP and UDP). */
export const OPTOMMP_PORT = 2001;
/** The default per-call deadline, ms. The C++ SDK waits 1 000 ms per response; calls here may span chunks. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** The C++ SDK never puts more than 1 024 bytes in one packet (SIOMM_BLOCK_MAX_BYTES, docs/protocols/optommp.md §2.7). */
export const DEFAULT_MAX_BLOCK_BYTES = 1024;

export interface OptoMmpClientOptions {
  /** The device's host name or address. Required unless `transport` is a ready transport. */
  host?: string;
  /** Default 2001. */
  port?: number;
  /** `'tcp'` (default), `'udp'`, or a transport of your own. */
  transport?: 'tcp' | 'udp' | MmpTransport;
  /** Deadline of every call (all its packets together) unless the call says otherwise, ms. Default 2 000. */
  timeoutMs?: number;
  /** TCP connect deadline, ms. Default 5 000. */
  connectTimeoutMs?: number;
  /** source_ID put in every request (bytes 4–5). Default 0. */
  sourceId?: number;
  /** Reject responses whose source_ID differs from the request's (SharpOpto22 does). Default false. */
  verifySourceId?: boolean;
  /**
   * Do what the C++ SDK does on open: read F0300004 and, when non-zero, send a Powerup Clear; and when a
   * request is refused with 0xE004, clear and send it once more. Default false (docs/protocols/optommp.md §2.8).
   */
  autoPuc?: boolean;
  /** Largest data block of one packet; longer reads and writes are split. Default 1 024 (the SDK's). */
  maxBlockBytes?: number;
  /**
   * TCP: requests in flight at once. 1 (default) sends one request at a time, as every known client
   * does. 2…32 pipelines: concurrent calls (and the chunks of one long transfer) share the connection,
   * replies are matched by transaction label, and a reply that belongs to no request in flight replaces
   * the connection with a fresh one (`PipelineDesyncError`). Whether a device copes is not documented:
   * ask `probePipelining()` first.
   */
  window?: number;
  /** TCP: reconnect with backoff when the link drops, or false (reconnect on the next call). */
  reconnect?: TcpInterfaceOptions['reconnect'];
  /** Further TcpInterface options (desync policy, keepalive, …). */
  tcp?: Omit<TcpInterfaceOptions, 'logger' | 'timeoutMs' | 'connectTimeoutMs' | 'reconnect'>;
  /** `(message, fields)` loggers, or pino/bunyan (detected). Default: silent. */
  logger?: LoggerLike;
}
