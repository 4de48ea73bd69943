// Errors of the OptoMMP layer. Both extend LabwireError (brand, stable `code`, `cause`).

import { hexExcerpt, LabwireError } from '@labwire/framing';
import { formatDeviceCode, rcodeInfo } from './rcode';
import { tcodeName } from './tcode';

/**
 * The device answered with a NAK: rcode ≠ 0. `deviceCode` is 0xE000 + rcode, the number the C++ SDK
 * reports and the device stores at F030000C (docs/protocols/optommp.md §2.5).
 */
export class DeviceError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.DeviceError');
  /** The rcode from byte 6 of the response (1–15). */
  readonly rcode: number;
  /** 0xE000 + rcode, e.g. 0xE005. */
  readonly deviceCode: number;
  /** The meaning of the rcode, e.g. "Powerup Clear expected". */
  readonly meaning: string;
  /** The 32-bit memory-map address of the request that was refused, when known. */
  readonly address: number | undefined;
  /** The tcode of the refused request, when known. */
  readonly requestTcode: number | undefined;
  /** Busy (0xE008) and a communications watchdog timeout (0xE00F) can succeed when repeated. */
  override readonly isRetryable: boolean;

  constructor(rcode: number, context: { address?: number; requestTcode?: number; cause?: unknown } = {}) {
    const info = rcodeInfo(rcode);
    const where =
      context.address === undefined
        ? ''
        : ` at ${context.address.toString(16).toUpperCase().padStart(8, '0')}`;
    const what = context.requestTcode === undefined ? 'request' : tcodeName(context.requestTcode);
    super(
      'DeviceNak',
      `device refused the ${what}${where}: rcode ${rcode} = ${formatDeviceCode(info.deviceCode)} (${info.meaning})`,
      { cause: context.cause },
    );
    this.rcode = rcode;
    this.deviceCode = info.deviceCode;
    this.meaning = info.meaning;
    this.address = context.address;
    this.requestTcode = context.requestTcode;
    this.isRetryable = rcode === 8 || rcode === 15;
  }
}

/** Which check of docs/protocols/optommp.md §2.11 a response failed. */
/** A header field a response is checked on. */
export type ResponseField = ResponseMismatchError['field'];

/**
 * A response that does not belong to the request: wrong tcode partner, wrong transaction label, wrong
 * data_length or (when checked) wrong source_ID. The stream is out of step after this; the connection
 * must be drained or reset (docs/protocols/optommp.md §2.9).
 */
export class ResponseMismatchError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.ResponseMismatchError');
  override readonly isRetryable = true;
  readonly field: 'tcode' | 'tl' | 'dataLength' | 'sourceId';
  readonly expected: number;
  readonly actual: number;
  /** The response bytes as they arrived (at least the header). */
  readonly packet: Uint8Array;

  constructor(field: ResponseMismatchError['field'], expected: number, actual: number, packet: Uint8Array) {
    const label: Record<ResponseField, string> = {
      tcode: 'tcode',
      tl: 'transaction label',
      dataLength: 'data_length',
      sourceId: 'source_ID',
    };
    super(
      field === 'tl'
        ? 'TlMismatch'
        : field === 'tcode'
          ? 'TcodeMismatch'
          : field === 'dataLength'
            ? 'LengthMismatch'
            : 'SourceIdMismatch',
      `response ${label[field]} mismatch: expected ${expected}, got ${actual} in ${hexExcerpt(packet)}`,
    );
    this.field = field;
    this.expected = expected;
    this.actual = actual;
    this.packet = packet;
  }
}
