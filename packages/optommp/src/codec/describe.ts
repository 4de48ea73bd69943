// A field-by-field explanation of OptoMMP packets, for tools (`mmp decode`) and error reports.

import { type DecodedPacket, decodePacketAt, measurePacket } from './decode';
import { findMemoryArea, formatAddress } from './memory-map';
import { addressOf, offsetPrefixOf, splitDestinationId } from './packet';
import { formatDeviceCode, rcodeInfo } from './rcode';
import { STATUS_FIELDS } from './status-area';
import { tcodeName } from './tcode';

function hexOf(bytes: Uint8Array, max = 32): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i++) parts.push(bytes[i]!.toString(16).padStart(2, '0'));
  return parts.join(' ') + (bytes.length > max ? ` … (${bytes.length} bytes)` : '');
}

/** Names an address: the status field at it, or the memory area that contains it. */
export function describeAddress(address: number): string {
  const field = STATUS_FIELDS.find((fl) => fl.address === address);
  if (field) return field.title;
  const area = findMemoryArea(address);
  if (area === undefined) return 'not in the known memory map';
  return `${area.title} +0x${(address - area.start).toString(16).toUpperCase()}`;
}

function numberViews(data: Uint8Array): string {
  if (data.length !== 4) return '';
  const v = new DataView(data.buffer, data.byteOffset, 4);
  return `u32 ${v.getUint32(0)}, i32 ${v.getInt32(0)}, f32 ${v.getFloat32(0)}`;
}

function describeOne(
  bytes: Uint8Array,
  at: number,
  length: number,
  packet: DecodedPacket,
): PacketDescription {
  const b = bytes.subarray(at, at + length);
  const fields: DescribedField[] = [];
  const add = (from: number, to: number, field: string, meaning: string) =>
    fields.push({
      range: from === to ? `${from}` : `${from}-${to}`,
      hex: hexOf(b.subarray(from, to + 1)),
      field,
      meaning,
    });
  const dst = splitDestinationId(packet.destinationId);
  add(
    0,
    1,
    'destination_ID',
    `0x${packet.destinationId.toString(16).padStart(4, '0')}${dst.flag ? ` (flag set, boot_ID ${dst.bootId})` : ''}`,
  );
  add(2, 2, 'tl / rt', `transaction label ${packet.tl}, retry code ${packet.rt}`);
  add(3, 3, 'tcode / pri', `tcode ${packet.tcode} (${tcodeName(packet.tcode)}), priority ${packet.pri}`);
  add(4, 5, 'source_ID', `0x${packet.sourceId.toString(16).padStart(4, '0')}`);
  let summary = `${tcodeName(packet.tcode)}, tl ${packet.tl}`;
  if ('offset' in packet) {
    const address = addressOf(packet.offset);
    const prefix = offsetPrefixOf(packet.offset);
    add(
      6,
      11,
      'destination_offset',
      `0x${packet.offset.toString(16).toUpperCase().padStart(12, '0')}: address ${formatAddress(address)}, ${describeAddress(address)}` +
        (prefix === 0xffff ? '' : ` (high 16 bits 0x${prefix.toString(16)}, not FFFF: no device maps this)`),
    );
    summary += `, ${formatAddress(address)} (${describeAddress(address)})`;
  } else {
    const rcode = 'rcode' in packet ? packet.rcode : 0;
    const info = rcodeInfo(rcode);
    add(
      6,
      6,
      'rcode',
      rcode === 0
        ? 'rcode 0: ACK'
        : `rcode ${rcode}: NAK ${formatDeviceCode(info.deviceCode)}, ${info.meaning}`,
    );
    add(7, 11, 'reserved', 'reserved (ignored)');
    summary += rcode === 0 ? ', ACK' : `, NAK ${formatDeviceCode(info.deviceCode)} (${info.meaning})`;
  }
  if ('undefinedTcode' in packet) {
    summary += ' (read as a 12-byte header + offset; a device answers rcode 1)';
  } else {
    switch (packet.tcode) {
      case 0:
      case 6:
        add(12, 15, 'quadlet_data', numberViews(packet.data));
        if (packet.tcode === 6) summary += `, data ${hexOf(packet.data)}`;
        break;
      case 5:
        add(12, 13, 'data_length', `${packet.dataLength} byte(s) to read`);
        add(14, 15, 'extended_tcode', `${packet.extendedTcode}`);
        summary += `, ${packet.dataLength} byte(s)`;
        break;
      case 1:
      case 7:
        add(12, 13, 'data_length', `${packet.data.length} byte(s)`);
        add(
          14,
          15,
          'extended_tcode',
          `${packet.extendedTcode}${packet.tcode === 7 ? " (don't-care in responses)" : ''}`,
        );
        if (packet.data.length > 0)
          add(16, length - 1, 'data_block', numberViews(packet.data) || `${packet.data.length} byte(s)`);
        summary += `, ${packet.data.length} data byte(s)`;
        break;
      default:
        break;
    }
  }
  return { packet, at, length, summary, fields };
}

/**
 * Explains every packet in `bytes` (one or several back to back, requests and responses alike). A
 * trailing partial packet is reported in `leftover`; a header that cannot start a packet throws.
 */
export function describePackets(bytes: Uint8Array): {
  readonly packets: readonly {
    readonly packet: DecodedPacket;
    /** Offset of the packet in the input. */
    readonly at: number;
    readonly length: number;
    /** One line: `read block request, tl 0, F030010C (milliseconds since power-up), 4 bytes`. */
    readonly summary: string;
    readonly fields: readonly {
      /** Byte range in the packet, e.g. `0-1`. */
      readonly range: string;
      /** The bytes in hex, space separated (long data shortened). */
      readonly hex: string;
      /** The field name as the Wireshark dissector calls it. */
      readonly field: string;
      /** What the bytes mean. */
      readonly meaning: string;
    }[];
  }[];
  /** Bytes after the last whole packet (a truncated packet), if any. */
  readonly leftover: Uint8Array;
  /** Bytes still needed to complete the leftover packet. */
  readonly needed: number;
} {
  const packets: PacketDescription[] = [];
  let at = 0;
  for (;;) {
    const m = measurePacket(bytes, at, { undefinedTcodes: 'header' });
    if (!m.complete)
      return { packets, leftover: bytes.slice(at), needed: at === bytes.length ? 0 : m.needed };
    packets.push(describeOne(bytes, at, m.length, decodePacketAt(bytes, at, m.length)));
    at += m.length;
  }
}

/** One packet of a DescribeResult. */
type PacketDescription = ReturnType<typeof describePackets>['packets'][number];
/** One field of a described packet. */
type DescribedField = PacketDescription['fields'][number];
