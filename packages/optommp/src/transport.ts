// What OptoMmpClient needs from a transport: send one request packet, return the validated data of its
// response. TCP (over @labwire/tcp) and UDP (one datagram each way) implement it.

import type { OperationOptions } from '@labwire/framing';
import type { ResponseExpectation } from './codec/validate';

export interface ExchangeOptions extends OperationOptions {
  /** The request may be sent again on a new connection if the link drops (reads). */
  idempotent?: boolean;
}

export interface MmpTransport extends AsyncDisposable {
  readonly kind: 'tcp' | 'udp';
  /** Where the device is, for messages. */
  readonly endpoint: string;
  /**
   * Sends `request` and resolves with the response data (empty for writes) once the response passed the
   * checks of spec §2.11. Rejects with DeviceError for a NAK, ResponseMismatchError, TimeoutError,
   * AbortedError, or a connection error.
   */
  exchange(request: Uint8Array, expect: ResponseExpectation, options: ExchangeOptions): Promise<Uint8Array>;
  /** Resolves once the transport can send (TCP: connected). */
  connect(options?: OperationOptions): Promise<void>;
  /** Called after every (re)connection; the client re-checks Powerup Clear then. */
  onConnected(listener: () => void): void;
  close(): Promise<void>;
}
