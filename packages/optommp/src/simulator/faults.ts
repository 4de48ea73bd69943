// Test hooks of the simulator servers: what to do with a reply instead of sending it as it is.

import type { DecodedPacket } from '../codec/decode';

/**
 * - `replace`: send these bytes instead (a wrong tl, a wrong tcode, junk);
 * - `drop`: send nothing (a device that went silent);
 * - `truncate`: send the first `bytes` bytes of the reply, then close the connection (TCP) or stop (UDP).
 */
export type ReplyFault =
  | { kind: 'replace'; bytes: Uint8Array }
  | { kind: 'drop' }
  | { kind: 'truncate'; bytes: number };

/** Decides, per request, whether its reply is tampered with. Return undefined to send it unchanged. */
export type FaultHook = (request: DecodedPacket, response: Uint8Array) => ReplyFault | undefined;
