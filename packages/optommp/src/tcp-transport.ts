// OptoMMP over TCP: one TcpInterface, each request a write + the read of its response as one unit.

import type { OperationOptions } from '@labwire/framing';
import { TcpInterface, type TcpInterfaceOptions } from '@labwire/tcp';
import type { ResponseExpectation } from './codec/validate';
import { readResponse } from './response-reader';
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
    return this.tcp.request(request, (reader, opts) => readResponse(reader, expect, opts), options);
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
