// Push-style OptoMMP stream decoder: feed it chunks as they arrive (a socket's 'data' events), get whole
// packets back. Each packet's length comes from its own header (docs/protocols/optommp.md §1).

import { EofError } from '@labwire/framing';
import {
  type DecodedPacket,
  type DecodeOptions,
  decodePacketAt,
  measurePacket,
  packetLengthAt,
} from './decode';

const MIN_CAPACITY = 4096;

export class PacketDecoder {
  readonly #options: DecodeOptions;
  readonly #copy: boolean;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;

  constructor(
    options: DecodeOptions & {
      /**
       * Return packets whose data are views of the pushed chunk or of the decoder's buffer instead of copies:
       * no allocation per packet, but the data are valid only until the next `push` (use them at once).
       * Default false.
       */
      views?: boolean;
    } = {},
  ) {
    this.#options = options;
    this.#copy = options.views !== true;
  }

  /** Bytes buffered for packets not yet complete. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * The least number of bytes still needed to complete the next packet (0 when a whole packet is
   * buffered). Before the header is complete this counts up to the end of the header only.
   */
  get needed(): number {
    const m = measurePacket(this.#view(), 0, this.#options);
    return m.complete ? 0 : m.needed;
  }

  /** Appends a chunk and returns every packet it completes, in order. */
  push(chunk: Uint8Array): DecodedPacket[] {
    const packets: DecodedPacket[] = [];
    let rest = chunk;
    if (this.buffered === 0) {
      // Fast path: whole packets straight from the chunk, no copy into the buffer.
      let at = 0;
      for (;;) {
        let length: number;
        try {
          length = packetLengthAt(chunk, at, this.#options);
        } catch (error) {
          // The bad header stays buffered (nothing is lost); it is raised now, or by the next call when
          // packets came before it.
          this.#append(chunk.subarray(at));
          if (packets.length === 0) throw error;
          return packets;
        }
        if (length < 0 || chunk.length - at < length) break;
        packets.push(decodePacketAt(chunk, at, length, this.#copy));
        at += length;
      }
      if (at === chunk.length) return packets;
      rest = chunk.subarray(at);
      if (packets.length > 0) {
        this.#append(rest);
        return packets;
      }
    }
    this.#append(rest);
    for (;;) {
      let packet: DecodedPacket | undefined;
      try {
        packet = this.next();
      } catch (error) {
        if (packets.length === 0) throw error;
        return packets;
      }
      if (packet === undefined) return packets;
      packets.push(packet);
    }
  }

  /** Decodes one packet from the buffered bytes, or returns undefined when it is not complete yet. */
  next(): DecodedPacket | undefined {
    const view = this.#view();
    const m = measurePacket(view, 0, this.#options);
    if (!m.complete) return undefined;
    const packet = decodePacketAt(view, 0, m.length, this.#copy);
    this.#start += m.length;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return packet;
  }

  /** Discards `n` buffered bytes (at most what is buffered), to resynchronise after an error. */
  skip(n: number): number {
    const k = Math.max(0, Math.min(n, this.buffered));
    this.#start += k;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return k;
  }

  /** Discards everything buffered. */
  reset(): void {
    this.#start = this.#end = 0;
  }

  /** The stream ended: throws EofError with the partial packet when one was started. */
  end(): void {
    if (this.buffered === 0) return;
    const partial = this.#view().slice();
    const m = measurePacket(partial, 0, this.#options);
    this.reset();
    throw new EofError(
      'OptoMMP packet',
      partial,
      m.complete ? m.length : (m.length ?? partial.length + m.needed),
    );
  }

  #view(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  #append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const live = this.buffered;
    if (this.#end + chunk.length > this.#buf.length) {
      const needed = live + chunk.length;
      if (needed <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(Math.max(needed, MIN_CAPACITY, this.#buf.length * 2));
        next.set(this.#buf.subarray(this.#start, this.#end), 0);
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}
