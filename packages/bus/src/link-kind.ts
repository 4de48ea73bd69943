// Link kinds. The conf_string's name selects the kind (`tcp(...)`, and whatever else is registered:
// serial ports, GPIB adapters, …); callers of the bus never change. A kind validates its parameters at
// `init` (no I/O), resolves the endpoint at `config` into a canonical key (links with the same key share one
// channel, docs/protocols/cmd_tcp.md §5 and Q4), and opens the channel. The bus owns the registry of links, the sharing and
// reference counting, the Pyrame semantics and the error messages; a channel only moves bytes.

import type { LookupFunction } from 'node:net';
import type {
  DrainOptions,
  ExpectOptions,
  Logger,
  OperationOptions,
  ReadUntilOptions,
  ReadUntilResult,
} from '@labwire/framing';
// DesyncPolicy (what to do with unread input before a `wrnrd*` after a timed-out or aborted read, Q10) and
// ReplyReader are @labwire/tcp's: one name each across the layers.
import type { DesyncPolicy, ReplyReader } from '@labwire/tcp';
import type { ConfString } from './conf-string';

export type { DesyncPolicy, ReplyReader };

/** Bus-wide defaults a kind applies when the conf_string does not say. */
export interface LinkDefaults {
  /** The link timeout when the conf_string has none (Pyrame: 60 s), in ms. */
  readonly timeoutMs: number;
  readonly desync: DesyncPolicy;
  /** A drain (desync `drain`) ends after this many ms without input. */
  readonly drainQuietMs: number;
  /** Longest drain before the connection is replaced instead, in ms. */
  readonly drainTimeoutMs: number;
  /** Most bytes a read may wait for or buffer. */
  readonly maxBuffer: number;
  /** Resolver for host names (as `net.connect`'s `lookup`); undefined: the system resolver. */
  readonly lookup: LookupFunction | undefined;
  readonly logger: Logger;
}

/** Parameters of one link after `init`: kind specific, plus what the bus itself needs. */
export interface LinkParams {
  /** The link's default deadline per operation, in ms (conf `timeout`). */
  readonly timeoutMs: number;
  readonly desync: DesyncPolicy;
}

/** A resolved endpoint: `canonical` is the sharing key, e.g. `127.0.0.1,5025` for tcp. */
export interface ResolvedEndpoint {
  readonly canonical: string;
}

/**
 * One open connection of a kind, shared by every link with the same canonical key. Every operation is
 * queued in call order; `request` is a write and its reply read as one unit (no other operation in between).
 * Errors are the transport's own (framing/tcp errors); the bus turns them into bus errors.
 */
export interface Channel {
  /** The peer as `address:port` (or the device path), for messages. */
  readonly peer: string;
  send(data: Uint8Array, options: OperationOptions): Promise<void>;
  request<T>(data: Uint8Array, read: ReplyReader<T>, options: OperationOptions): Promise<T>;
  readExactly(n: number, options: OperationOptions): Promise<Uint8Array>;
  readUntil(delimiters: readonly Uint8Array[], options: ReadUntilOptions): Promise<ReadUntilResult>;
  expect(pattern: Uint8Array, options: ExpectOptions): Promise<Uint8Array>;
  /** Discards input until the line has been quiet; resolves with the count discarded. */
  drain(options: DrainOptions): Promise<number>;
  /** Drops the connection and opens a new one (desync policy `reconnect`). */
  reconnect(options: OperationOptions): Promise<void>;
  /** Called once when the connection ends for good (peer closed, reset): the link is broken. */
  onBroken(listener: (error: Error) => void): void;
  /** Closes the connection; settles every pending operation. Idempotent. */
  close(): Promise<void>;
}

/** A kind of link, selected by the conf_string's name. */
export interface LinkKind<P extends LinkParams = LinkParams> {
  /** The conf_string name, e.g. `tcp`. */
  readonly name: string;
  /** How messages name a link of this kind, e.g. `TCP` (`TCP link at … is not responding`). */
  readonly label: string;
  /** Validates the conf_string at `init`. No I/O. Throws InvalidConfError. */
  parse(conf: ConfString, text: string, defaults: LinkDefaults): P;
  /** Resolves the endpoint at `config` (DNS for tcp). Throws ResolveError. */
  resolve(params: P, options: OperationOptions, defaults: LinkDefaults): Promise<ResolvedEndpoint>;
  /** Opens the channel (its reader limited to `defaults.maxBuffer`, the bus's read limit). Throws ConnectError. */
  open(
    params: P,
    endpoint: ResolvedEndpoint,
    options: OperationOptions,
    defaults: LinkDefaults,
  ): Promise<Channel>;
  /** `host:port` or the like, as written in the conf_string, for connect errors. */
  describe(params: P): string;
}
