// Pull-style OptoMMP decoding over a framing ByteReader: read the 12 bytes every packet has, take the length
// from the header (spec §2.2), then read the rest.

import { type ByteReader, concatBytes, EofError, type OperationOptions } from '@labwire/framing';
import { type DecodedPacket, type DecodeOptions, decodePacketAt, measurePacket } from './decode';
import { MIN_PACKET_BYTES } from './tcode';

/**
 * Reads one packet. Each step has the deadline of `options` (a fresh one per read call).
 * EOF inside a packet raises EofError whose `partial` holds every byte of the packet that arrived.
 * A header that cannot start a packet raises DecodeError / LimitExceededError after the 12 header bytes
 * have been consumed: the stream is out of step then, and its owner must drain or reset it.
 */
export async function readPacket(
  reader: ByteReader,
  options: DecodeOptions & OperationOptions = {},
): Promise<DecodedPacket> {
  const head = await reader.readExactly(MIN_PACKET_BYTES, options);
  let m = measurePacket(head, 0, options);
  if (m.complete) return decodePacketAt(head, 0, m.length);
  let packet = head;
  // Block packets: bytes 12–13 hold data_length, so the length is known after 2 more bytes at most;
  // read the 4-byte rest of the block header first, then the data.
  while (!m.complete) {
    const want = m.length === undefined ? m.needed : m.length - packet.length;
    let more: Uint8Array;
    try {
      more = await reader.readExactly(m.length === undefined ? Math.max(want, 4) : want, options);
    } catch (error) {
      if (EofError.isInstance(error)) {
        throw new EofError(
          'OptoMMP packet',
          concatBytes([packet, error.partial]),
          m.length ?? packet.length + want,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    packet = concatBytes([packet, more]);
    m = measurePacket(packet, 0, options);
  }
  return decodePacketAt(packet, 0, m.length);
}
