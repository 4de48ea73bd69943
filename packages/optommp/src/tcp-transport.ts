// OptoMMP over TCP: one TcpInterface, each request a write + the read of its response as one unit.

import { type OperationOptions, TimeoutError } from '@labwire/framing';

const EMPTY = new Uint8Array(0);

import { TcpInterface, type TcpInterfaceOptions } from '@labwire/tcp';
import type { ResponseExpectation } from './codec/validate';
import { type ResponseProgress, readResponse } from './response-reader';
import type { ExchangeOptions, MmpTransport } from './transport';

export class TcpTransport implements MmpTransport {
  readonly kind = 'tcp' as const;
  readonly endpoint: string;
  /** The underlying interface (state, counters, events). */
  readonly tcp: TcpInterface;

  constructor(host: string, port: number, options: TcpInterfaceOptions = {}) {
    this.endpoint = `${host}:${port}`;
    this.tcp = new TcpInterface(host, port, options);
  }

  exchange(request: Uint8Array, expect: ResponseExpectation, options: ExchangeOptions): Promise<Uint8Array> {
    const progress: ResponseProgress = { received: EMPTY };
    return this.tcp
      .request(request, (reader, opts) => readResponse(reader, expect, opts, progress), options)
      .catch((error: unknown) => {
        // The request's own deadline fired while the response was incomplete: name the bytes that came.
        if (TimeoutError.isInstance(error) && progress.received.length > 0) {
          throw new TimeoutError('OptoMMP response', error.timeoutMs, progress.received, { cause: error });
        }
        throw error;
      });
  }

  connect(options: OperationOptions = {}): Promise<void> {
    return this.tcp.connect(options);
  }

  onConnected(listener: () => void): void {
    this.tcp.on('connected', listener);
  }

  close(): Promise<void> {
    return this.tcp.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
