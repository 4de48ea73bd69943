// OptoMMP over UDP: one request per datagram, one response datagram back (docs/protocols/optommp.md §1; the SDK's
// OpenEnet2(…, SIOMM_UDP), OmmpNET). Requests are sent one at a time. A datagram whose tl is not the one
// awaited is a late answer to an earlier, timed-out request: it is dropped, not taken for this answer.

import dgram from 'node:dgram';
import net from 'node:net';
import {
  AbortedError,
  armDeadline,
  ClosedError,
  type Logger,
  type OperationOptions,
  StreamError,
  silentLogger,
  TimeoutError,
} from '@labwire/framing';
import { decodePacket } from './codec/decode';
import type { RequestInit } from './codec/encode';
import { checkResponse, type ResponseExpectation } from './codec/validate';
import { UdpTimeoutError } from './errors';
import { type ExchangeOptions, LabelCounter, labelRequest, type MmpTransport } from './transport';

/** Datagrams the transport received and dropped, by reason (since construction). */
export interface UdpDropCounts {
  /** Arrived while no request was waiting: late answers to timed-out requests, or strays. */
  unsolicited: number;
  /** Carried another transaction label than the request waiting for its answer. */
  wrongLabel: number;
  /** Were not exactly one OptoMMP packet. */
  undecodable: number;
}

interface Waiter {
  expect: ResponseExpectation;
  /** Datagrams dropped while this request waited, for its timeout error. */
  wrongLabels: number;
  lastWrongLabel: number | undefined;
  undecodable: number;
  resolve(data: Uint8Array): void;
  reject(error: unknown): void;
}

export class UdpTransport implements MmpTransport {
  readonly kind = 'udp' as const;
  readonly endpoint: string;
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #socket: dgram.Socket;
  readonly #connectedListeners: (() => void)[] = [];
  #bound: Promise<void> | undefined;
  #waiter: Waiter | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #labels = new LabelCounter();
  readonly #dropped: UdpDropCounts = { unsolicited: 0, wrongLabel: 0, undecodable: 0 };

  constructor(
    host: string,
    port: number,
    options: {
      /** Default deadline of one exchange, ms. Default 2 000. */
      timeoutMs?: number;
      logger?: Logger;
    } = {},
  ) {
    this.#host = host;
    this.#port = port;
    this.endpoint = `udp://${host}:${port}`;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#log = options.logger ?? silentLogger;
    this.#socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    this.#socket.on('message', (msg) =>
      this.#onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)),
    );
    // A connected UDP socket reports ICMP port-unreachable as an error (nothing listens there).
    this.#socket.on('error', (error: NodeJS.ErrnoException) => {
      const w = this.#waiter;
      this.#waiter = undefined;
      const what =
        error.code === 'ECONNREFUSED'
          ? `OptoMMP over ${this.endpoint} (port unreachable: nothing listens there)`
          : `OptoMMP over ${this.endpoint}`;
      w?.reject(new StreamError(what, error));
    });
  }

  /**
   * Datagrams received and dropped so far, by reason. A timeout says how many were dropped while its
   * request waited (a device answering with the wrong labels shows up here, not as "nothing received").
   */
  get dropped(): UdpDropCounts {
    return { ...this.#dropped };
  }

  connect(options: OperationOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('connect'));
    this.#bound ??= new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new StreamError(`connect ${this.endpoint}`, error));
      this.#socket.once('error', onError);
      this.#socket.connect(this.#port, this.#host, () => {
        this.#socket.off('error', onError);
        for (const l of this.#connectedListeners) l();
        resolve();
      });
    });
    const bound = this.#bound;
    if (options.signal === undefined && options.timeoutMs === undefined) return bound;
    return new Promise<void>((resolve, reject) => {
      const deadline = armDeadline(
        options.timeoutMs ?? this.#timeoutMs,
        options.signal,
        () => reject(new TimeoutError('connect', options.timeoutMs ?? this.#timeoutMs)),
        (reason) => reject(new AbortedError('connect', reason)),
      );
      bound.then(
        () => {
          deadline.clear();
          resolve();
        },
        (error: unknown) => {
          deadline.clear();
          reject(error);
        },
      );
    });
  }

  onConnected(listener: () => void): void {
    this.#connectedListeners.push(listener);
  }

  exchange<T>(request: RequestInit, options: ExchangeOptions, decode: (data: Uint8Array) => T): Promise<T> {
    const { bytes, expect } = labelRequest(request, this.#labels.next(), options.verifySourceId);
    const run = this.#chain.then(() => this.#exchangeNow(bytes, expect, options)).then(decode);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #exchangeNow(
    request: Uint8Array,
    expect: ResponseExpectation,
    options: ExchangeOptions,
  ): Promise<Uint8Array> {
    if (this.#closed) throw new ClosedError('request');
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    if (options.signal?.aborted) throw new AbortedError('request', options.signal.reason);
    await this.connect(options);
    return new Promise<Uint8Array>((resolve, reject) => {
      const deadline = armDeadline(
        timeoutMs,
        options.signal,
        () => {
          const w = this.#waiter;
          this.#waiter = undefined;
          reject(
            new UdpTimeoutError(this.endpoint, timeoutMs, {
              wrongLabel: w?.wrongLabels ?? 0,
              lastWrongLabel: w?.lastWrongLabel,
              undecodable: w?.undecodable ?? 0,
              awaitedLabel: expect.tl,
            }),
          );
        },
        (reason) => {
          this.#waiter = undefined;
          reject(new AbortedError('request', reason));
        },
      );
      this.#waiter = {
        expect,
        wrongLabels: 0,
        lastWrongLabel: undefined,
        undecodable: 0,
        resolve: (data) => {
          deadline.clear();
          resolve(data);
        },
        reject: (error) => {
          deadline.clear();
          reject(error);
        },
      };
      this.#socket.send(request, (error) => {
        if (error) {
          const w = this.#waiter;
          this.#waiter = undefined;
          w?.reject(new StreamError(`send to ${this.endpoint}`, error));
        }
      });
    });
  }

  #onMessage(datagram: Uint8Array): void {
    const w = this.#waiter;
    if (w === undefined) {
      this.#dropped.unsolicited++;
      this.#log.debug('optommp/udp: datagram with no request waiting, dropped', { bytes: datagram.length });
      return;
    }
    let packet: ReturnType<typeof decodePacket>;
    try {
      packet = decodePacket(datagram);
    } catch (error) {
      this.#dropped.undecodable++;
      w.undecodable++;
      this.#log.warn('optommp/udp: undecodable datagram dropped', { error: (error as Error).message });
      return;
    }
    if (packet.tl !== w.expect.tl) {
      // A late answer to an earlier, timed-out request, or a device that does not echo labels.
      this.#dropped.wrongLabel++;
      w.wrongLabels++;
      w.lastWrongLabel = packet.tl;
      this.#log.debug('optommp/udp: datagram with another label dropped', {
        tl: packet.tl,
        awaiting: w.expect.tl,
      });
      return;
    }
    this.#waiter = undefined;
    try {
      w.resolve(checkResponse(packet, w.expect));
    } catch (error) {
      w.reject(error);
    }
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#closed = true;
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.reject(new ClosedError('request'));
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
