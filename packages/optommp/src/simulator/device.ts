// A groov EPIC device model behind the OptoMMP protocol: memory map, status area, scratch pad, a rack of I/O
// modules, and the error behaviour of docs/protocols/optommp.md §2.6. It answers decoded packets and knows nothing of sockets;
// the TCP and UDP servers feed it.

import { EventEmitter } from 'node:events';
import type { Logger } from '@labwire/framing';
import { silentLogger } from '@labwire/framing';
import {
  Address,
  AnalogReadField,
  DigitalReadField,
  EPIC_CHANNEL_STRIDE,
  EPIC_MODULE_STRIDE,
  EpicArea,
  epicAnalogReadAddress,
  epicAnalogWriteAddress,
  epicDigitalReadAddress,
  epicDigitalWriteAddress,
  epicPointConfigurationAddress,
  PACKED_DIGITAL_MODULES,
  ScratchPad,
  SnapArea,
  scratchPadFloat32Address,
  scratchPadInt32Address,
  scratchPadInt64Address,
  scratchPadStringAddress,
} from '../codec/addresses';
import type { DecodedPacket } from '../codec/decode';
import { encodeReadBlockResponse, encodeReadQuadletResponse, encodeWriteResponse } from '../codec/encode';
import { MEMORY_MAP, type MemoryArea } from '../codec/memory-map';
import { addressOf, offsetPrefixOf } from '../codec/packet';
import { Rcode } from '../codec/rcode';
import { STATUS_AREA_BYTES, STATUS_AREA_START } from '../codec/status-area';
import { encodeFloat32, encodeInt32, encodeInt64, encodeIPv4, encodeMac, latin1Bytes } from '../codec/values';
import { DEFAULT_IDENTITY, type DeviceIdentity, type DeviceIdentityInit, resolveIdentity } from './identity';
import { DEFAULT_RACK, type RackConfig, type RackModule } from './rack';
import { SparseMemory } from './sparse-memory';

/** An inclusive address range, as vectors/README.md writes them (`F0D81024–F0D81027`). */
export interface AddressRange {
  from: number;
  to: number;
}

export interface ScratchPadInit {
  int32?: Record<number, number>;
  float32?: Record<number, number>;
  int64?: Record<number, bigint>;
  strings?: Record<number, string>;
  bits?: bigint;
}

export interface EpicDeviceOptions {
  /** The I/O modules. Default: DEFAULT_RACK. */
  rack?: RackConfig;
  /** Status-area identity, merged over `identityBase`. */
  identity?: DeviceIdentityInit;
  /** The identity the `identity` fields are merged over. Default DEFAULT_IDENTITY. */
  identityBase?: DeviceIdentity;
  /** Start with a Powerup Clear pending (docs/protocols/optommp.md §2.8): every request but status reads is NAKed with rcode 4. */
  powerupClearPending?: boolean;
  /** Milliseconds clock for uptime, drift and toggling. Default `performance.now()`. */
  clock?: () => number;
  /** Seed of the analog noise. Default 1. */
  seed?: number;
  /** Largest block accepted; larger requests are NAKed with rcode 6 (docs/protocols/optommp.md §2.7 [sim]). Default 2048. */
  maxBlockBytes?: number;
  /**
   * How often drifting analog inputs are sampled, in ms of `clock`: a read within one scan of the last
   * sample returns the same values, as a real I/O unit's scan does. 0 samples on every read. Default 1.
   */
  inputScanMs?: number;
  /**
   * Shifts the time drifting analog inputs and toggling digital inputs follow, ms, so that devices built
   * from the same rack do not move in lockstep (a simulated fleet gives each device its own). Default 0.
   */
  inputOffsetMs?: number;
  /** Extra ranges NAKed with rcode 5 although mapped (vector V31 uses F0D81024–F0D81027). */
  unmapped?: readonly AddressRange[];
  /**
   * `'areas'` (default): only the areas of the memory map the simulator models are mapped, and writes to
   * read-only areas are NAKed. `'all'`: every address under the `FFFF` prefix is plain read-write memory
   * except `unmapped` (the simulator behind the shared V vectors works this way).
   */
  addressMap?: 'areas' | 'all';
  /** Initial scratch-pad contents. */
  scratchPad?: ScratchPadInit;
  logger?: Logger;
}

/** Emitted for every request the device answers. */
export interface DeviceRequestEvent {
  request: DecodedPacket;
  /** 0 for ACK, else the rcode of the NAK. */
  rcode: number;
  /** The response bytes. */
  response: Uint8Array;
}

export interface EpicDeviceEvents {
  request: [DeviceRequestEvent];
}

/** Memory areas the simulator maps (everything else is NAKed with rcode 5). */
const SIMULATED_AREAS = new Set([
  'epic-point-configuration',
  'epic-analog-calc-set',
  'epic-analog-read-clear',
  'epic-digital-read',
  'epic-digital-write',
  'epic-analog-read',
  'epic-analog-write',
  'status-read',
  'date-time',
  'status-write',
  'streaming-configuration',
  'snap-digital-bank-read',
  'snap-digital-bank-write',
  'snap-analog-bank-read',
  'snap-analog-bank-write',
  'snap-digital-point-read',
  'snap-digital-point-write',
  'snap-analog-point-read',
  'snap-analog-point-write',
  'snap-point-configuration',
  'custom-area-addresses',
  'custom-area-data',
  'scratch-pad-bits',
  'scratch-pad-bit-masks',
  'scratch-pad-int32-1',
  'scratch-pad-float-1',
  'scratch-pad-strings',
  'scratch-pad-int32-2-3',
  'scratch-pad-float-2-3',
  'scratch-pad-int64',
  'stream-read',
  'epic-packed-states',
  'epic-packed-digital',
  'epic-module-quality',
  'epic-channel-quality',
  'ip-settings',
]);

/** Status-write operation codes the simulator accepts (docs/protocols/optommp.md §3.2); others are NAKed with rcode 5. */
const OPERATION_CODES = new Set([...Array.from({ length: 16 }, (_, i) => i + 1), 0x8765_4321]);

/** Status-write fields mirrored into the status area (write address → read address). */
const STATUS_WRITE_MIRROR: readonly [number, number][] = [
  [0xf038_0004, 0xf030_0048], // BootP mode
  [0xf038_0008, 0xf030_004c], // temperature units
  [0xf038_0010, 0xf030_0054], // watchdog, ms
  [0xf038_0014, 0xf030_0058], // TCP minimum RTO
  [0xf038_0018, 0xf030_0064], // TCP initial RTO
  [0xf038_001c, 0xf030_0068], // TCP retries
  [0xf038_0020, 0xf030_006c], // TCP idle timeout
];

/** F0350000: `YYYY-MM-DD HH:MM:SS:hh` (22 characters) and a NUL, 23 bytes (docs/protocols/optommp.md §3.2). */
const DATE_TIME_BYTES = 23;
const DATE_TIME_CHARS = 22;

function overlaps(a: number, aLength: number, b: number, bLength: number): boolean {
  return a < b + bLength && b < a + aLength;
}

/** Deterministic noise (mulberry32). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DigitalInputState {
  module: RackModule;
  /** Channels written through the write area stop toggling. */
  forced: Set<number>;
  /** Last evaluated state per channel, for the latches. */
  last: number[];
}

/**
 * The device. `handle(packet)` answers one request; the helpers (`setDigital`, `setAnalog`, `poke`, …) let
 * tests arrange state without going through the protocol.
 */
export class EpicDevice extends EventEmitter<EpicDeviceEvents> {
  readonly memory = new SparseMemory();
  readonly rack: RackConfig;
  readonly identity: DeviceIdentity;
  readonly maxBlockBytes: number;
  readonly #clock: () => number;
  readonly #bootAt: number;
  readonly #areas: readonly MemoryArea[];
  readonly #rejected: { range: AddressRange; rcode: number }[] = [];
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #digitalInputs: DigitalInputState[] = [];
  readonly #analogInputs: RackModule[] = [];
  /** Clock time of each analog input module's last sample (same order as #analogInputs). */
  readonly #analogSampledAt: number[] = [];
  readonly #inputScanMs: number;
  readonly #inputOffsetMs: number;
  /** Analog channels whose value was set (written or configured): they no longer drift. */
  readonly #frozen = new Set<number>();
  readonly #mapAll: boolean;
  #pucPending: boolean;
  #dateOffsetMs = 0;
  #requests = 0;

  constructor(options: EpicDeviceOptions = {}) {
    super();
    this.rack = options.rack ?? DEFAULT_RACK;
    this.identity = resolveIdentity(options.identityBase ?? DEFAULT_IDENTITY, options.identity);
    this.maxBlockBytes = options.maxBlockBytes ?? 2048;
    this.#inputScanMs = Math.max(0, options.inputScanMs ?? 1);
    this.#inputOffsetMs = options.inputOffsetMs ?? 0;
    this.#clock = options.clock ?? (() => performance.now());
    this.#bootAt = this.#clock();
    this.#random = prng(options.seed ?? 1);
    this.#log = options.logger ?? silentLogger;
    this.#pucPending = options.powerupClearPending ?? false;
    this.#areas = MEMORY_MAP.filter((a) => SIMULATED_AREAS.has(a.id));
    this.#mapAll = options.addressMap === 'all';
    for (const range of options.unmapped ?? []) this.#rejected.push({ range, rcode: Rcode.InvalidAddress });
    this.#writeIdentity();
    this.#setUpRack();
    this.#setUpScratchPad(options.scratchPad ?? {});
  }

  /** Requests answered so far. */
  get requestCount(): number {
    return this.#requests;
  }

  /** Milliseconds since the simulated power-up. */
  get uptimeMs(): number {
    return Math.max(0, Math.floor(this.#clock() - this.#bootAt));
  }

  /** Whether a Powerup Clear is pending (F0300004 ≠ 0). Setting it to true re-arms PUC gating. */
  get powerupClearPending(): boolean {
    return this.#pucPending;
  }

  set powerupClearPending(value: boolean) {
    this.#pucPending = value;
  }

  // --- test helpers --------------------------------------------------------------------------------------

  /** Raw memory, without protocol checks (dynamic areas are refreshed first). */
  peek(address: number, length: number): Uint8Array {
    this.#refresh(address, length);
    return this.memory.read(address, length);
  }

  /** Writes raw memory with the same side effects a protocol write has (mirroring, latches, PUC). */
  poke(address: number, bytes: Uint8Array): void {
    this.#applyWrite(address, bytes);
  }

  /** Sets a digital channel's state in the read area (as if the field changed), updating its latches. */
  setDigital(module: number, channel: number, state: boolean | 0 | 1): void {
    this.#setDigitalState(module, channel, state ? 1 : 0);
    const input = this.#digitalInputs.find((d) => d.module.slot === module);
    input?.forced.add(channel);
  }

  /** A digital channel's state from the read area. */
  getDigital(module: number, channel: number): 0 | 1 {
    this.#refresh(epicDigitalReadAddress(module, channel), 4);
    return this.memory.getU32(epicDigitalReadAddress(module, channel)) === 0 ? 0 : 1;
  }

  /** Sets an analog channel's value (and optionally min/max) in the read area; stops its drift. */
  setAnalog(
    module: number,
    channel: number,
    value: number,
    extremes: { min?: number; max?: number } = {},
  ): void {
    const base = epicAnalogReadAddress(module, channel);
    this.#frozen.add(module * 64 + channel);
    this.memory.setF32(base + AnalogReadField.Value, value);
    this.memory.setF32(
      base + AnalogReadField.Minimum,
      extremes.min ?? Math.min(value, this.memory.getF32(base + AnalogReadField.Minimum)),
    );
    this.memory.setF32(
      base + AnalogReadField.Maximum,
      extremes.max ?? Math.max(value, this.memory.getF32(base + AnalogReadField.Maximum)),
    );
  }

  /** An analog channel's value from the read area. */
  getAnalog(module: number, channel: number): number {
    const address = epicAnalogReadAddress(module, channel);
    this.#refresh(address, 4);
    return this.memory.getF32(address);
  }

  /**
   * NAKs every request that touches `range` with `rcode` (default 5) until the returned function is called.
   * Use it to provoke device errors (busy = 8, watchdog = 15, …).
   */
  reject(range: AddressRange, rcode: number = Rcode.InvalidAddress): () => void {
    const entry = { range, rcode };
    this.#rejected.push(entry);
    return () => {
      const at = this.#rejected.indexOf(entry);
      if (at >= 0) this.#rejected.splice(at, 1);
    };
  }

  // --- the protocol --------------------------------------------------------------------------------------

  /**
   * Answers one request packet with the response bytes. Every request gets exactly one response, shaped as
   * real devices send them (docs/protocols/optommp.md §2.6): a NAKed block read is a bare 16-byte header, a NAKed quadlet read
   * has zero data, a write NAK is the 12-byte write response. With `into`, an ACK that fits is written
   * there and a view of it is returned (no allocation per request: the servers reuse one buffer per
   * connection); otherwise the response is fresh memory.
   */
  handle(request: DecodedPacket, into?: Uint8Array): Uint8Array {
    this.#requests++;
    // The device records the last label and source_ID of every request (docs/protocols/optommp.md §2.9, F0300010/12).
    this.memory.setU16(0xf030_0010, request.tl);
    this.memory.setU16(0xf030_0012, request.sourceId);
    let rcode = 0;
    let response: Uint8Array;
    if ('undefinedTcode' in request || request.tcode === 2 || request.tcode === 6 || request.tcode === 7) {
      // [sim] An undefined (or device-bound response) tcode gets a write response with rcode 1 (V46).
      rcode = Rcode.UndefinedCommand;
      this.#recordError(rcode, 'offset' in request ? addressOf(request.offset) : 0);
      response = encodeWriteResponse({ ...replyHeader(request), rcode });
    } else {
      const address = addressOf(request.offset);
      switch (request.tcode) {
        case 4:
        case 5: {
          const length = request.tcode === 4 ? 4 : request.dataLength;
          rcode = this.#check('read', request.offset, length);
          if (rcode !== 0) {
            this.#recordError(rcode, address);
            response =
              request.tcode === 4
                ? encodeReadQuadletResponse({ ...replyHeader(request), rcode, data: new Uint8Array(4) })
                : encodeReadBlockResponse({ ...replyHeader(request), rcode, data: new Uint8Array(0) });
          } else {
            response = this.#readResponse(request.tcode, request.sourceId, request.tl, address, length, into);
          }
          break;
        }
        case 0:
        case 1: {
          rcode = this.#check('write', request.offset, request.data.length);
          if (rcode === 0) rcode = this.#validateWrite(address, request.data);
          if (rcode !== 0) this.#recordError(rcode, address);
          else this.#applyWrite(address, request.data);
          response =
            rcode === 0
              ? ackWrite(request.sourceId, request.tl, into)
              : encodeWriteResponse({ ...replyHeader(request), rcode });
          break;
        }
      }
    }
    if (rcode !== 0) this.#log.debug('epic-sim: NAK', { tcode: request.tcode, tl: request.tl, rcode });
    if (this.listenerCount('request') > 0) {
      // Listeners may keep the bytes: never hand them the caller's reusable buffer.
      this.emit('request', { request, rcode, response: into === undefined ? response : response.slice() });
    }
    return response;
  }

  /**
   * An ACKed read response built in place: header, then the memory copied straight into it. tl and
   * source_ID are echoed; [sim] bytes 0–1 carry the requester's source_ID, 1394 style (docs/protocols/optommp.md §2.10).
   */
  #readResponse(
    tcode: 4 | 5,
    sourceId: number,
    tl: number,
    address: number,
    length: number,
    into: Uint8Array | undefined,
  ): Uint8Array {
    this.#refresh(address, length);
    // Every byte is written below (the header, reserved zeros, then the data), so the memory may hold
    // anything: the caller's buffer, or a Buffer from Node's pool (no conversion when it is written).
    const size = tcode === 5 ? 16 + length : 16;
    const out = into !== undefined && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
    out.fill(0, 6, 16);
    out[0] = sourceId >>> 8;
    out[1] = sourceId & 0xff;
    out[2] = tl << 2;
    out[3] = tcode === 5 ? 0x70 : 0x60;
    out[4] = sourceId >>> 8;
    out[5] = sourceId & 0xff;
    if (tcode === 5) {
      out[12] = length >>> 8;
      out[13] = length & 0xff;
      this.memory.readInto(address, out.subarray(16));
    } else {
      this.memory.readInto(address, out.subarray(12));
    }
    return out;
  }

  /** The rcode for an access, or 0: PUC gating, size limit, address map, rejected ranges, write access. */
  #check(kind: 'read' | 'write', offset: number, length: number): number {
    const address = addressOf(offset);
    const inStatusRead =
      kind === 'read' &&
      offsetPrefixOf(offset) === 0xffff &&
      address >= STATUS_AREA_START &&
      address + length <= STATUS_AREA_START + STATUS_AREA_BYTES;
    const isPuc =
      kind === 'write' &&
      offsetPrefixOf(offset) === 0xffff &&
      address === Address.StatusWriteOperation &&
      length === 4;
    // Until a Powerup Clear, everything but status-area reads is refused with rcode 4 (docs/protocols/optommp.md §2.8).
    if (this.#pucPending && !inStatusRead && !isPuc) return Rcode.PowerupClearExpected;
    if (length > this.maxBlockBytes) return Rcode.InvalidLength;
    if (offsetPrefixOf(offset) !== 0xffff) return Rcode.InvalidAddress;
    for (const { range, rcode } of this.#rejected) {
      if (overlaps(address, Math.max(length, 1), range.from, range.to - range.from + 1)) return rcode;
    }
    if (this.#mapAll) return address + length <= 0x1_0000_0000 ? 0 : Rcode.InvalidAddress;
    // The whole range must lie in mapped areas (adjacent areas may be crossed); writes need writable ones.
    let at = address;
    const end = address + Math.max(length, 1);
    while (at < end) {
      const area = this.#areaAt(at);
      if (area === undefined) return Rcode.InvalidAddress;
      if (kind === 'write' && area.access === 'read') return Rcode.InvalidAddress;
      at = area.start + area.size;
    }
    return 0;
  }

  #lastArea: MemoryArea | undefined;

  #areaAt(address: number): MemoryArea | undefined {
    const last = this.#lastArea;
    if (last !== undefined && address >= last.start && address < last.start + last.size) return last;
    for (const a of this.#areas) {
      if (address >= a.start && address < a.start + a.size) {
        this.#lastArea = a;
        return a;
      }
    }
    return undefined;
  }

  /** Data checks before a write takes effect: operation codes, floats of the analog write area. */
  #validateWrite(address: number, data: Uint8Array): number {
    const end = address + data.length;
    const u32At = (a: number) =>
      new DataView(data.buffer, data.byteOffset + (a - address), 4).getUint32(0, false);
    if (address <= Address.StatusWriteOperation && end >= Address.StatusWriteOperation + 4) {
      if (!OPERATION_CODES.has(u32At(Address.StatusWriteOperation))) return Rcode.InvalidAddress;
    }
    // [sim] A NaN or infinite value for an EPIC analog output is "invalid float" (rcode 3).
    if (overlaps(address, data.length, EpicArea.AnalogWrite, 64 * EPIC_MODULE_STRIDE)) {
      for (let a = address; a + 4 <= end; a++) {
        const rel = a - EpicArea.AnalogWrite;
        if (rel >= 0 && rel % EPIC_CHANNEL_STRIDE === 0) {
          const v = new DataView(data.buffer, data.byteOffset + (a - address), 4).getFloat32(0, false);
          if (!Number.isFinite(v)) return Rcode.InvalidFloat;
        }
      }
    }
    if (address === Address.DateTime && data.length >= DATE_TIME_CHARS) {
      const text = String.fromCharCode(...data.subarray(0, DATE_TIME_CHARS));
      if (Number.isNaN(parseDeviceTime(text))) return Rcode.InvalidAddress;
    }
    return 0;
  }

  #recordError(rcode: number, address: number): void {
    // After any NAK: F030000C = 0000E00n and F0300014 = the failing (block start) address (docs/protocols/optommp.md §2.6).
    this.memory.setU32(Address.LastError, 0xe000 + rcode);
    this.memory.setU32(Address.LastErrorAddress, address);
  }

  // --- writes and their side effects ---------------------------------------------------------------------

  #applyWrite(address: number, data: Uint8Array): void {
    const end = address + data.length;
    const covers = (field: number, size = 4) => field >= address && field + size <= end;
    const u32 = (field: number) =>
      new DataView(data.buffer, data.byteOffset + (field - address), 4).getUint32(0, false);
    const f32 = (field: number) =>
      new DataView(data.buffer, data.byteOffset + (field - address), 4).getFloat32(0, false);
    const u64 = (field: number) =>
      new DataView(data.buffer, data.byteOffset + (field - address), 8).getBigUint64(0, false);

    if (address === Address.DateTime && data.length >= DATE_TIME_CHARS) {
      const t = parseDeviceTime(String.fromCharCode(...data.subarray(0, DATE_TIME_CHARS)));
      if (!Number.isNaN(t)) this.#dateOffsetMs = t - Date.now();
      return;
    }
    this.memory.write(address, data);

    if (covers(Address.StatusWriteOperation) && u32(Address.StatusWriteOperation) === 1) {
      this.#pucPending = false; // Powerup Clear (V39)
    }
    for (const [from, to] of STATUS_WRITE_MIRROR) if (covers(from)) this.memory.setU32(to, u32(from));

    // EPIC write areas are mirrored into the read areas so that read-after-write works (docs/protocols/optommp.md §3.4, V11).
    if (overlaps(address, data.length, EpicArea.DigitalWrite, 64 * EPIC_MODULE_STRIDE)) {
      this.#forEachChannel(EpicArea.DigitalWrite, address, end, (m, c, base) => {
        if (covers(base)) {
          this.#setDigitalState(m, c, u32(base) === 0 ? 0 : 1);
          this.#digitalInputs.find((d) => d.module.slot === m)?.forced.add(c);
        }
      });
    }
    if (overlaps(address, data.length, EpicArea.AnalogWrite, 64 * EPIC_MODULE_STRIDE)) {
      this.#forEachChannel(EpicArea.AnalogWrite, address, end, (m, c, base) => {
        if (covers(base)) this.setAnalog(m, c, f32(base));
        if (covers(base + 4))
          this.memory.setU32(epicAnalogReadAddress(m, c) + AnalogReadField.Counts, u32(base + 4));
      });
    }
    // Scratch-pad bit masks: turn-on ORs into the bits, turn-off clears them (docs/protocols/optommp.md §3.3).
    if (covers(ScratchPad.BitsTurnOn, 8)) {
      this.memory.setU64(ScratchPad.Bits, this.memory.getU64(ScratchPad.Bits) | u64(ScratchPad.BitsTurnOn));
    }
    if (covers(ScratchPad.BitsTurnOff, 8)) {
      this.memory.setU64(ScratchPad.Bits, this.memory.getU64(ScratchPad.Bits) & ~u64(ScratchPad.BitsTurnOff));
    }
    // SNAP digital bank write masks (+0 on, +8 off) act on the bank states (docs/protocols/optommp.md §3.5).
    if (covers(SnapArea.DigitalBankWrite, 8) || covers(SnapArea.DigitalBankWrite + 8, 8)) {
      let states = this.memory.getU64(SnapArea.DigitalBankRead);
      const before = states;
      if (covers(SnapArea.DigitalBankWrite, 8)) states |= u64(SnapArea.DigitalBankWrite);
      if (covers(SnapArea.DigitalBankWrite + 8, 8)) states &= ~u64(SnapArea.DigitalBankWrite + 8);
      this.memory.setU64(SnapArea.DigitalBankRead, states);
      this.memory.setU64(
        SnapArea.DigitalBankRead + 8,
        this.memory.getU64(SnapArea.DigitalBankRead + 8) | (states & ~before),
      );
      this.memory.setU64(
        SnapArea.DigitalBankRead + 0x10,
        this.memory.getU64(SnapArea.DigitalBankRead + 0x10) | (before & ~states),
      );
    }
    // SNAP analog bank write: values (+0) and counts (+0x100); NaN leaves a channel unchanged (R9.4d+, [LV]).
    if (overlaps(address, data.length, SnapArea.AnalogBankWrite, 0x200)) {
      for (let p = 0; p < 64; p++) {
        const value = SnapArea.AnalogBankWrite + 4 * p;
        if (covers(value)) {
          const v = f32(value);
          if (!Number.isNaN(v)) this.memory.setF32(SnapArea.AnalogBankRead + 4 * p, v);
        }
        if (covers(value + 0x100))
          this.memory.setU32(SnapArea.AnalogBankRead + 0x100 + 4 * p, u32(value + 0x100));
      }
    }
  }

  #forEachChannel(
    base: number,
    from: number,
    to: number,
    fn: (m: number, c: number, address: number) => void,
  ): void {
    const first = Math.max(0, Math.floor((from - base) / EPIC_CHANNEL_STRIDE));
    const last = Math.min(64 * 64 - 1, Math.floor((to - 1 - base) / EPIC_CHANNEL_STRIDE));
    for (let i = first; i <= last; i++) {
      const m = Math.floor(i / 64);
      const c = i % 64;
      fn(m, c, base + m * EPIC_MODULE_STRIDE + c * EPIC_CHANNEL_STRIDE);
    }
  }

  #setDigitalState(module: number, channel: number, state: 0 | 1): void {
    const base = epicDigitalReadAddress(module, channel);
    const before = this.memory.getU32(base + DigitalReadField.State);
    this.memory.setU32(base + DigitalReadField.State, state);
    if (before === 0 && state === 1) {
      this.memory.setU32(base + DigitalReadField.OnLatch, 1);
      this.memory.setU32(
        base + DigitalReadField.FeatureValue,
        this.memory.getU32(base + DigitalReadField.FeatureValue) + 1,
      );
    }
    if (before !== 0 && state === 0) this.memory.setU32(base + DigitalReadField.OffLatch, 1);
    // The write area holds what was last commanded; keep it in step for reads of the write area.
    this.memory.setU32(epicDigitalWriteAddress(module, channel), state);
  }

  // --- reads of dynamic areas ----------------------------------------------------------------------------

  #refresh(address: number, length: number): void {
    const span = Math.max(length, 1);
    if (overlaps(address, span, STATUS_AREA_START, STATUS_AREA_BYTES)) {
      const uptime = this.uptimeMs;
      this.memory.setU32(Address.PowerupClearFlag, this.#pucPending ? 1 : 0);
      this.memory.setU32(Address.Uptime, uptime % 0x1_0000_0000);
      this.memory.setU32(0xf030_0160, Math.floor(uptime / 1000) % 0x1_0000_0000);
      // The u64 as two u32 halves: no BigInt per request.
      this.memory.setU32(Address.Uptime64, Math.floor(uptime / 0x1_0000_0000));
      this.memory.setU32(Address.Uptime64 + 4, uptime % 0x1_0000_0000);
    }
    if (overlaps(address, span, Address.DateTime, DATE_TIME_BYTES)) {
      const text = latin1Bytes(formatDeviceTime(Date.now() + this.#dateOffsetMs));
      const field = new Uint8Array(DATE_TIME_BYTES);
      field.set(text);
      this.memory.write(Address.DateTime, field);
    }
    const now = this.#clock() - this.#bootAt + this.#inputOffsetMs;
    for (const input of this.#digitalInputs) {
      const m = input.module;
      if (
        !overlaps(address, span, EpicArea.DigitalRead + m.slot * EPIC_MODULE_STRIDE, EPIC_MODULE_STRIDE) &&
        !overlaps(address, span, EpicArea.PackedDigital, 0x100) &&
        !overlaps(address, span, EpicArea.PackedStates, 0x100)
      )
        continue;
      for (let c = 0; c < m.channels; c++) {
        if (input.forced.has(c)) continue;
        const half = m.toggleMs! * (c + 1);
        const state = Math.floor(now / half) % 2 === 1 ? 1 : 0;
        const base = epicDigitalReadAddress(m.slot, c);
        if (state !== input.last[c]) {
          this.memory.setU32(base + DigitalReadField.State, state);
          if (state === 1) this.memory.setU32(base + DigitalReadField.OnLatch, 1);
          else this.memory.setU32(base + DigitalReadField.OffLatch, 1);
          input.last[c] = state;
        }
        // Rising edges since power-up: at half, 3·half, 5·half, … (the counter feature value).
        this.memory.setU32(base + DigitalReadField.FeatureValue, Math.floor((now / half + 1) / 2));
      }
    }
    for (let i = 0; i < this.#analogInputs.length; i++) {
      const m = this.#analogInputs[i]!;
      if (!overlaps(address, span, EpicArea.AnalogRead + m.slot * EPIC_MODULE_STRIDE, EPIC_MODULE_STRIDE))
        continue;
      const last = this.#analogSampledAt[i]!;
      if (now >= last && now - last < this.#inputScanMs) continue;
      this.#analogSampledAt[i] = now;
      const s = m.signal ?? {};
      for (let c = 0; c < m.channels; c++) {
        if (this.#frozen.has(m.slot * 64 + c)) continue;
        const period = (s.periodMs ?? 20_000) * (1 + c / 10);
        const value =
          (s.center ?? 5) +
          (s.amplitude ?? 1) * Math.sin((2 * Math.PI * now) / period + c) +
          (s.noise ?? 0.01) * (2 * this.#random() - 1);
        const base = epicAnalogReadAddress(m.slot, c);
        const v = Math.fround(value);
        this.memory.setF32(base + AnalogReadField.Value, v);
        this.memory.setF32(
          base + AnalogReadField.Minimum,
          Math.min(v, this.memory.getF32(base + AnalogReadField.Minimum)),
        );
        this.memory.setF32(
          base + AnalogReadField.Maximum,
          Math.max(v, this.memory.getF32(base + AnalogReadField.Maximum)),
        );
      }
    }
    // Packed digital (F1001900 + m·0x10: states, quality, on-latches, off-latches) and per-module state masks
    // (F1001800 + 4·m) are views of the channel blocks.
    if (overlaps(address, span, EpicArea.PackedStates, 0x200)) {
      for (let m = 0; m < 64; m++) {
        let states = 0;
        let on = 0;
        let off = 0;
        for (let c = 0; c < 32; c++) {
          const base = epicDigitalReadAddress(m, c);
          if (this.memory.getU32(base + DigitalReadField.State) !== 0) states |= 1 << c;
          if (this.memory.getU32(base + DigitalReadField.OnLatch) !== 0) on |= 1 << c;
          if (this.memory.getU32(base + DigitalReadField.OffLatch) !== 0) off |= 1 << c;
        }
        this.memory.setU32(EpicArea.PackedStates + 4 * m, states >>> 0);
        if (m < PACKED_DIGITAL_MODULES) {
          const p = EpicArea.PackedDigital + 0x10 * m;
          this.memory.setU32(p, states >>> 0);
          this.memory.setU32(p + 8, on >>> 0);
          this.memory.setU32(p + 0xc, off >>> 0);
        }
      }
    }
  }

  // --- set-up ----------------------------------------------------------------------------------------------

  #writeIdentity(): void {
    const id = this.identity;
    const mem = this.memory;
    mem.setU32(Address.MemoryMapVersion, id.memoryMapVersion);
    mem.write(0xf030_0018, Uint8Array.from(id.loaderVersion));
    mem.write(Address.FirmwareVersion, Uint8Array.from(id.firmwareVersion));
    mem.setU32(0xf030_0020, id.unitType);
    mem.write(0xf030_0024, Uint8Array.of(id.hardwareRevision.month, id.hardwareRevision.day));
    mem.setU16(0xf030_0026, id.hardwareRevision.year);
    mem.setU32(0xf030_0028, id.installedRam);
    mem.write(Address.MacAddressEth0, encodeMac(id.eth0.macAddress));
    mem.write(Address.IpAddressEth0, encodeIPv4(id.eth0.ipAddress));
    mem.write(0xf030_0038, encodeIPv4(id.eth0.subnetMask));
    mem.write(0xf030_003c, encodeIPv4(id.eth0.defaultGateway));
    mem.write(0xf030_0040, encodeIPv4(id.eth0.dnsServer));
    mem.write(Address.PartNumber, fixedAscii(id.partNumber, 32));
    mem.write(0xf030_00a0, fixedAscii(id.firmwareDate, 16));
    mem.write(0xf030_00b0, fixedAscii(id.firmwareTime, 16));
    mem.setU32(Address.SerialNumber, id.serialNumber);
    mem.write(Address.IpAddressEth1, encodeIPv4(id.eth1.ipAddress));
    mem.write(0xffff_f054, encodeIPv4(id.eth1.subnetMask));
    mem.write(0xffff_f058, encodeIPv4(id.eth1.defaultGateway));
    mem.write(0xffff_f05c, encodeIPv4(id.eth1.dnsServer));
    mem.write(Address.MacAddressEth1, encodeMac(id.eth1.macAddress));
  }

  #setUpRack(): void {
    let present = 0n;
    for (const m of this.rack.modules) {
      present |= 1n << BigInt(m.slot);
      for (let c = 0; c < m.channels; c++) {
        if (m.moduleType !== undefined)
          this.memory.setU32(epicPointConfigurationAddress(m.slot, c), m.moduleType);
      }
      if (m.kind === 'digital-input' && m.toggleMs !== undefined) {
        this.#digitalInputs.push({
          module: m,
          forced: new Set(),
          last: new Array<number>(m.channels).fill(0),
        });
      }
      if (m.kind === 'analog-input' && (m.drift ?? true)) {
        this.#analogInputs.push(m);
        this.#analogSampledAt.push(Number.NEGATIVE_INFINITY);
      }
      for (const init of m.initial ?? []) {
        if (init.state !== undefined) {
          this.memory.setU32(epicDigitalReadAddress(m.slot, init.channel), init.state);
          this.memory.setU32(epicDigitalWriteAddress(m.slot, init.channel), init.state);
          this.#digitalInputs.find((d) => d.module === m)?.forced.add(init.channel);
        }
        if (init.value !== undefined || init.min !== undefined || init.max !== undefined) {
          const base = epicAnalogReadAddress(m.slot, init.channel);
          if (init.value !== undefined) {
            this.memory.setF32(base, init.value);
            this.memory.setF32(epicAnalogWriteAddress(m.slot, init.channel), init.value);
            this.#frozen.add(m.slot * 64 + init.channel);
          }
          if (init.min !== undefined) this.memory.setF32(base + AnalogReadField.Minimum, init.min);
          if (init.max !== undefined) this.memory.setF32(base + AnalogReadField.Maximum, init.max);
        }
      }
    }
    // [sim] Module quality: one bit per module present and communicating (modules 63–32, then 31–0).
    this.memory.setU64(EpicArea.ModuleQuality, present);
  }

  #setUpScratchPad(init: ScratchPadInit): void {
    for (const [i, v] of Object.entries(init.int32 ?? {}))
      this.memory.write(scratchPadInt32Address(Number(i)), encodeInt32(v));
    for (const [i, v] of Object.entries(init.float32 ?? {}))
      this.memory.write(scratchPadFloat32Address(Number(i)), encodeFloat32(v));
    for (const [i, v] of Object.entries(init.int64 ?? {}))
      this.memory.write(scratchPadInt64Address(Number(i)), encodeInt64(v));
    for (const [s, text] of Object.entries(init.strings ?? {})) {
      const bytes = latin1Bytes(text);
      if (bytes.length > 128) throw new RangeError(`string slot ${s}: ${bytes.length} characters exceed 128`);
      const slot = new Uint8Array(0x82);
      slot[0] = bytes.length >>> 8;
      slot[1] = bytes.length & 0xff;
      slot.set(bytes, 2);
      this.memory.write(scratchPadStringAddress(Number(s)), slot);
    }
    if (init.bits !== undefined) this.memory.setU64(ScratchPad.Bits, init.bits);
  }
}

/** Header fields of a response: tl and source_ID echoed, bytes 0–1 = the source_ID ([sim], docs/protocols/optommp.md §2.10). */
function replyHeader(request: DecodedPacket): { destinationId: number; tl: number; sourceId: number } {
  return { destinationId: request.sourceId, tl: request.tl, sourceId: request.sourceId };
}

/** The 12-byte ACK write response (tcode 2, rcode 0), tl and source_ID echoed. */
function ackWrite(sourceId: number, tl: number, into: Uint8Array | undefined): Uint8Array {
  const out = into !== undefined && into.length >= 12 ? into.subarray(0, 12) : Buffer.allocUnsafe(12);
  out.fill(0, 6, 12);
  out[0] = sourceId >>> 8;
  out[1] = sourceId & 0xff;
  out[2] = tl << 2;
  out[3] = 0x20;
  out[4] = sourceId >>> 8;
  out[5] = sourceId & 0xff;
  return out;
}

function fixedAscii(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(latin1Bytes(text).subarray(0, size));
  return out;
}

/** `YYYY-MM-DD HH:MM:SS:00` (docs/protocols/optommp.md §3.2), UTC. */
export function formatDeviceTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}:${p(Math.floor(d.getUTCMilliseconds() / 10))}`;
}

/** Parses `YYYY-MM-DD HH:MM:SS:hh` (UTC) into ms, NaN when malformed. */
export function parseDeviceTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, hh] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, hh! * 10);
}
