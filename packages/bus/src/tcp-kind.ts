// The `tcp` link kind: cmd_tcp's parameters (docs/protocols/cmd_tcp.md §3.3) and a channel over a Connection and a
// RequestQueue of @labwire/tcp.
//
// conf_string keys: host, port (required); timeout (seconds, `undef` = the bus default, 60 s); and, as
// labwire extensions that Pyrame ignores: connect_timeout (seconds, default = timeout, Q6), family (0, 4
// or 6; default 4 like Pyrame's gethostbyname, Q19), desync (drain | reconnect, Q10). Other keys are
// ignored, as in Pyrame.

import { lookup } from 'node:dns/promises';
import net, { type LookupFunction } from 'node:net';
import {
  AbortedError,
  type DrainOptions,
  type ExpectOptions,
  type OperationOptions,
  type ReadUntilOptions,
  type ReadUntilResult,
  withDeadline,
} from '@labwire/framing';
import { Connection, DELIBERATE_REASONS, RequestQueue } from '@labwire/tcp';
import { pythonFloat, pythonInt } from './arguments';
import type { ConfString } from './conf-string';
import { ConnectError, InvalidConfError, ResolveError } from './errors';
import type { Channel, LinkDefaults, LinkKind, LinkParams, ReplyReader, ResolvedEndpoint } from './link-kind';

export interface TcpLinkParams extends LinkParams {
  readonly host: string;
  readonly port: number;
  /** Deadline of the connect at `config`, in ms (default: the link timeout). */
  readonly connectTimeoutMs: number;
  /** Address family used to resolve `host`: 4 (default), 6, or 0 for the first address of either. */
  readonly family: 0 | 4 | 6;
}

export interface TcpEndpoint extends ResolvedEndpoint {
  readonly address: string;
  readonly port: number;
}

export const REQUIRED_PARAMETER_MESSAGE = 'A required parameter in conf_string is not present';

function seconds(conf: ConfString, text: string, key: string, fallbackMs: number): number {
  const raw = conf.params.get(key);
  if (raw === undefined || raw === 'undef') return fallbackMs;
  const value = pythonFloat(raw);
  if (Number.isNaN(value)) {
    // Pyrame: an uncaught ValueError from float() (Q8: a typed error here).
    throw new InvalidConfError(`could not convert string to float: ${raw}`, text, {
      detail: `${key} must be a number of seconds`,
    });
  }
  if (!Number.isFinite(value) || value <= 0) {
    // Q21: 0 would make a Python socket non-blocking; labwire wants a real deadline.
    throw new InvalidConfError(`Invalid ${key}: ${raw}`, text, { detail: `${key} must be finite and > 0` });
  }
  return value * 1000;
}

function parseTcp(conf: ConfString, text: string, defaults: LinkDefaults): TcpLinkParams {
  const host = conf.params.get('host');
  const portText = conf.params.get('port');
  if (host === undefined || portText === undefined) {
    throw new InvalidConfError(REQUIRED_PARAMETER_MESSAGE, text, { detail: 'tcp needs host and port' });
  }
  const port = pythonInt(portText);
  if (Number.isNaN(port)) {
    throw new InvalidConfError(`Invalid destination port: ${portText}`, text, { detail: 'not an integer' });
  }
  const timeoutMs = seconds(conf, text, 'timeout', defaults.timeoutMs);
  // Q20 (kept): port 0 passes here and fails at config.
  if (port < 0 || port > 65_535) throw new InvalidConfError(`Invalid destination port: ${port}`, text);
  const connectTimeoutMs = seconds(conf, text, 'connect_timeout', timeoutMs);
  const familyText = conf.params.get('family') ?? '4';
  if (familyText !== '0' && familyText !== '4' && familyText !== '6') {
    throw new InvalidConfError(`Invalid family: ${familyText}`, text, { detail: 'family must be 0, 4 or 6' });
  }
  const desyncText = conf.params.get('desync') ?? defaults.desync;
  if (desyncText !== 'drain' && desyncText !== 'reconnect') {
    throw new InvalidConfError(`Invalid desync: ${desyncText}`, text, {
      detail: 'desync must be drain or reconnect',
    });
  }
  return {
    host,
    port,
    timeoutMs,
    connectTimeoutMs,
    family: Number(familyText) as 0 | 4 | 6,
    desync: desyncText,
  };
}

function lookupWith(resolver: LookupFunction, host: string, family: 0 | 4 | 6): Promise<{ address: string }> {
  return new Promise((resolve, reject) => {
    resolver(host, { family }, (error, address) => {
      if (error) reject(error);
      else resolve({ address: typeof address === 'string' ? address : (address[0]?.address ?? '') });
    });
  });
}

async function resolveTcp(
  params: TcpLinkParams,
  options: OperationOptions,
  defaults: LinkDefaults,
): Promise<TcpEndpoint> {
  const literal = net.isIP(params.host);
  if (literal !== 0) {
    if (params.family !== 0 && params.family !== literal) {
      throw new ResolveError(params.host, new Error(`${params.host} is not an IPv${params.family} address`));
    }
    return { address: params.host, port: params.port, canonical: `${params.host},${params.port}` };
  }
  // dns.lookup cannot be cancelled; the deadline stops waiting for it.
  const timeoutMs = options.timeoutMs ?? params.connectTimeoutMs;
  try {
    if (options.signal?.aborted) throw new AbortedError('resolve', options.signal.reason);
    const asked =
      defaults.lookup === undefined
        ? lookup(params.host, { family: params.family })
        : lookupWith(defaults.lookup, params.host, params.family);
    const found = await withDeadline(asked, 'resolve', timeoutMs, options.signal);
    return { address: found.address, port: params.port, canonical: `${found.address},${params.port}` };
  } catch (e) {
    throw new ResolveError(params.host, e);
  }
}

/**
 * A Channel over one Connection and a RequestQueue, with the bus's rules (Q18): a link the peer ends
 * (closed, reset) breaks the channel and nothing reconnects on its own; recovery is inval + config, as in
 * Pyrame. Only the desync policy replaces the line (a new link in place of one out of step), and the
 * reconnect policy of @labwire/tcp paces it: at once after a link that proved healthy (a completed
 * wrnrd), on a growing delay after one that did not, so a peer that answers garbage is never stormed.
 */
export class TcpChannel implements Channel {
  readonly peer: string;
  readonly #connection: Connection;
  readonly #queue: RequestQueue;
  #broken: Error | undefined;
  #brokenListeners: ((error: Error) => void)[] = [];

  constructor(endpoint: TcpEndpoint, params: TcpLinkParams, defaults: LinkDefaults) {
    this.peer = `${endpoint.address}:${endpoint.port}`;
    this.#connection = new Connection(endpoint.address, endpoint.port, {
      autoConnect: false,
      // No reconnect on its own (Q18); the backoff still paces every link asked for.
      reconnect: false,
      timeoutMs: params.timeoutMs,
      connectTimeoutMs: params.connectTimeoutMs,
      maxBuffer: defaults.maxBuffer,
      logger: defaults.logger,
      linkId: endpoint.canonical,
    });
    this.#queue = new RequestQueue(this.#connection, {
      timeoutMs: params.timeoutMs,
      desync: params.desync,
      drainQuietMs: defaults.drainQuietMs,
      drainTimeoutMs: defaults.drainTimeoutMs,
      // Half-open detection by counting timeouts would drop the link on its own; the bus leaves recovery
      // to inval + config, as Pyrame does (Q18).
      maxConsecutiveTimeouts: Number.MAX_SAFE_INTEGER,
      // After the peer ended the link, queued calls fail (the link is broken) instead of reconnecting.
      connectOnDemand: false,
    });
    this.#connection.on('disconnected', ({ reason, error }) => {
      if (reason !== 'closed' && !DELIBERATE_REASONS.has(reason)) {
        this.#markBroken(error ?? new Error(`connection ended (${reason})`));
      }
    });
  }

  #markBroken(error: Error): void {
    if (this.#broken !== undefined) return;
    this.#broken = error;
    for (const l of this.#brokenListeners) l(error);
  }

  async connect(options: OperationOptions): Promise<void> {
    await this.#connection.connect(options);
  }

  send(data: Uint8Array, options: OperationOptions): Promise<void> {
    return this.#queue.send(data, options);
  }

  request<T>(data: Uint8Array, read: ReplyReader<T>, options: OperationOptions): Promise<T> {
    return this.#queue.request(data, read, options);
  }

  readExactly(n: number, options: OperationOptions): Promise<Uint8Array> {
    return this.#queue.readExactly(n, options);
  }

  readUntil(delimiters: readonly Uint8Array[], options: ReadUntilOptions): Promise<ReadUntilResult> {
    return this.#queue.readUntil(delimiters, options);
  }

  expect(pattern: Uint8Array, options: ExpectOptions): Promise<Uint8Array> {
    return this.#queue.expect(pattern, options);
  }

  drain(options: DrainOptions): Promise<number> {
    return this.#queue.drain(options);
  }

  /** In the queue, behind whatever is already waiting: drops the link (stale input goes with it). */
  reconnect(options: OperationOptions): Promise<void> {
    return this.#queue.reconnect(options);
  }

  onBroken(listener: (error: Error) => void): void {
    this.#brokenListeners.push(listener);
  }

  close(): Promise<void> {
    return this.#queue.close();
  }
}

/** The built-in `tcp` kind. */
export const tcpKind: LinkKind<TcpLinkParams> = {
  name: 'tcp',
  label: 'TCP',
  parse: parseTcp,
  resolve: resolveTcp,
  async open(params, endpoint, options, defaults) {
    const channel = new TcpChannel(endpoint as TcpEndpoint, params, defaults);
    try {
      await channel.connect({
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? params.connectTimeoutMs,
      });
    } catch (e) {
      await channel.close();
      throw new ConnectError(`${params.host}:${params.port}`, e);
    }
    return channel;
  },
  describe: (params) => `${params.host}:${params.port}`,
};
