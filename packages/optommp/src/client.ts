// OptoMmpClient: every O22MMP method of the python `optommp` package, done right (docs/protocols/optommp.md §4), plus what the
// C++ SDK offers users of groov EPIC and SNAP PAC (docs/protocols/optommp.md §5.1): the whole status area, EPIC digital and
// analog points, packed states and quality, scratch pad (bits, int32, float, strings, int64), SNAP banks,
// raw block and quadlet access, Powerup Clear, and polling.

import {
  AbortedError,
  checkTimeout,
  delay,
  type Logger,
  type OperationOptions,
  toHex,
  viewOf,
} from '@labwire/framing';
import { toLogger } from '@labwire/tcp';
import { Budget } from './budget';
import {
  DEFAULT_MAX_BLOCK_BYTES,
  DEFAULT_TIMEOUT_MS,
  OPTOMMP_PORT,
  type OptoMmpClientOptions,
} from './client-options';
import {
  Address,
  AnalogReadField,
  EPIC_CHANNEL_STRIDE,
  EPIC_CHANNELS,
  EpicArea,
  epicAnalogReadAddress,
  epicAnalogWriteAddress,
  epicChannelQualityAddress,
  epicDigitalReadAddress,
  epicDigitalWriteAddress,
  epicPackedDigitalAddress,
  SCRATCH_PAD_STRING_MAX,
  SCRATCH_PAD_STRING_SLOT_BYTES,
  SCRATCH_PAD_STRING_SLOTS,
  ScratchPad,
  SnapArea,
  StatusOperation,
  scratchPadFloat32Address,
  scratchPadInt32Address,
  scratchPadInt64Address,
  scratchPadRuns,
  scratchPadStringAddress,
} from './codec/addresses';
import type { RequestInit } from './codec/encode';
import { DeviceError } from './codec/errors';
import { OFFSET_PREFIX } from './codec/packet';
import {
  decodeEth1Block,
  decodeStatusArea,
  ETH1_BLOCK,
  STATUS_AREA_B3000_BYTES,
  STATUS_AREA_BYTES,
  STATUS_AREA_START,
} from './codec/status-area';
import { MAX_DATA_LENGTH } from './codec/tcode';
import {
  decodeAsciiz,
  decodeFirmwareVersion,
  decodeIPv4,
  decodeMac,
  encodeFloat32,
  encodeInt32,
  encodeInt64,
  encodeMask64,
  latin1Bytes,
  latin1Of,
  readF32,
  readI32,
  readI64,
  readU32,
  readU64,
} from './codec/values';
import type { DecodeAt, Pipeline } from './pipeline';
import { type PipeliningProbe, type ProbeOptions, probePipelining } from './probe';
import { TcpTransport } from './tcp-transport';
import type { MmpTransport } from './transport';
import type {
  AnalogBank,
  AnalogPoint,
  DeviceStatus,
  DigitalBank,
  DigitalPoint,
  PackedDigital,
  RawType,
} from './types';
import { UdpTransport } from './udp-transport';
import { type WatchOptions, type WatchPoint, type WatchSample, watchPointName } from './watch';

/** The value `readRawOffset` returns for each type. */
export type RawValue<T extends RawType> = T extends 'bytes'
  ? Uint8Array
  : T extends 'u32' | 'i32' | 'f32'
    ? number
    : string;

type Tcode = 0 | 1 | 4 | 5;

/** A block for `readBlocksInto`: `length` bytes from `address`, copied to `into` from `at` (default 0). */
export interface BlockInto {
  readonly address: number;
  readonly length: number;
  readonly into: Uint8Array;
  readonly at?: number;
}

function checkSpan(address: number, length: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff_ffff) {
    throw new RangeError(`address must be a 32-bit unsigned integer, got ${address}`);
  }
  if (!Number.isInteger(length) || length < 0 || address + length > 0x1_0000_0000) {
    throw new RangeError(`${length} byte(s) from ${address.toString(16)} leave the 32-bit address space`);
  }
}

export class OptoMmpClient implements AsyncDisposable {
  /** The transport requests travel over. */
  readonly transport: MmpTransport;
  readonly #timeoutMs: number;
  readonly #sourceId: number;
  readonly #verifySourceId: boolean;
  readonly #autoPuc: boolean;
  readonly #maxBlock: number;
  readonly #log: Logger;
  readonly #pipelined: boolean;
  /** The pipeline one-packet reads go to directly (a pipelined link without automatic Powerup Clear). */
  readonly #fastPipeline: Pipeline | undefined;
  #pucChecked = false;
  #pucCheck: Promise<void> | undefined;
  #requests = 0;

  constructor(options: OptoMmpClientOptions) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#sourceId = options.sourceId ?? 0;
    if (!Number.isInteger(this.#sourceId) || this.#sourceId < 0 || this.#sourceId > 0xffff) {
      throw new RangeError(`sourceId must be 0..65535, got ${options.sourceId}`);
    }
    this.#verifySourceId = options.verifySourceId ?? false;
    this.#autoPuc = options.autoPuc ?? false;
    this.#maxBlock = options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
    if (!Number.isInteger(this.#maxBlock) || this.#maxBlock < 4 || this.#maxBlock > MAX_DATA_LENGTH) {
      throw new RangeError(`maxBlockBytes must be 4..${MAX_DATA_LENGTH}, got ${options.maxBlockBytes}`);
    }
    this.#log = toLogger(options.logger);
    if (typeof options.transport === 'object') {
      this.transport = options.transport;
    } else {
      const host = options.host;
      if (host === undefined || host === '') throw new TypeError('OptoMmpClient: options.host is required');
      const port = options.port ?? OPTOMMP_PORT;
      this.transport =
        options.transport === 'udp'
          ? new UdpTransport(host, port, { timeoutMs: this.#timeoutMs, logger: this.#log })
          : new TcpTransport(host, port, {
              ...options.tcp,
              window: options.window,
              timeoutMs: this.#timeoutMs,
              connectTimeoutMs: options.connectTimeoutMs,
              reconnect: options.reconnect ?? false,
              logger: this.#log,
            });
    }
    this.#pipelined = this.transport instanceof TcpTransport && this.transport.pipeline !== undefined;
    this.#fastPipeline =
      this.#pipelined && !this.#autoPuc ? (this.transport as TcpTransport).pipeline : undefined;
    // A device may have rebooted while the link was down: check Powerup Clear again after every connect.
    this.transport.onConnected(() => {
      this.#pucChecked = false;
    });
  }

  /** Requests sent so far (each chunk of a block transfer counts). */
  get requestCount(): number {
    return this.#requests;
  }

  // --- connection ----------------------------------------------------------------------------------------

  /** Resolves once the transport is ready (TCP: connected). Calls connect on their own; this is optional. */
  async connect(options: OperationOptions = {}): Promise<void> {
    await this.transport.connect({ signal: options.signal, timeoutMs: options.timeoutMs ?? this.#timeoutMs });
  }

  /** Closes the transport; pending calls reject. Idempotent. */
  close(): Promise<void> {
    return this.transport.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Whether the device answers pipelined requests correctly (all answered, in order, each reply with its
   * own label), and a recommended `window`: a burst of reads on a connection of its own, then the read
   * rate at a few windows. TCP only; the client's own connection is not touched.
   */
  async probePipelining(options: ProbeOptions = {}): Promise<PipeliningProbe> {
    const t = this.transport;
    if (!(t instanceof TcpTransport)) throw new TypeError('probePipelining needs the TCP transport');
    return probePipelining(t.tcp.host, t.tcp.port, { logger: this.#log, ...options });
  }

  /** Sends the Powerup Clear: the quadlet 00000001 written to F0380000 (docs/protocols/optommp.md §2.8, vector V39). */
  async powerupClear(options: OperationOptions = {}): Promise<void> {
    const b = new Budget('powerupClear', options, this.#timeoutMs);
    await this.#send(0, Address.StatusWriteOperation, encodeInt32(StatusOperation.PowerupClear), b, ignore);
    this.#pucChecked = true;
  }

  /** True when the device asks for a Powerup Clear (u32 at F0300004 ≠ 0). Status reads work without one. */
  async powerupClearNeeded(options: OperationOptions = {}): Promise<boolean> {
    const b = new Budget('powerupClearNeeded', options, this.#timeoutMs);
    return (await this.#send(5, Address.PowerupClearFlag, 4, b, readU32)) !== 0;
  }

  // --- the request core ----------------------------------------------------------------------------------

  /**
   * One packet: the transport labels it, sends what the codec encodes and checks the response (§2.11);
   * `decode` turns the response data into the result while the transport still owns the memory.
   */
  #send<T>(
    tcode: Tcode,
    address: number,
    payload: Uint8Array | number,
    b: Budget,
    decode: (data: Uint8Array) => T,
  ): Promise<T> {
    const offset = OFFSET_PREFIX + address;
    const sourceId = this.#sourceId;
    const request: RequestInit =
      tcode === 5
        ? { tcode, offset, sourceId, dataLength: payload as number }
        : tcode === 4
          ? { tcode, offset, sourceId }
          : { tcode, offset, sourceId, data: payload as Uint8Array };
    this.#requests++;
    const timeoutMs = b.next();
    return this.transport.exchange(
      request,
      { signal: b.signal, timeoutMs, verifySourceId: this.#verifySourceId },
      decode,
    );
  }

  /** #send, with the automatic Powerup Clear around it when enabled. Not async on the plain path (speed). */
  #request<T>(
    tcode: Tcode,
    address: number,
    payload: Uint8Array | number,
    b: Budget,
    decode: (data: Uint8Array) => T,
  ): Promise<T> {
    if (!this.#autoPuc) return this.#send(tcode, address, payload, b, decode);
    return this.#requestWithPuc(tcode, address, payload, b, decode);
  }

  async #requestWithPuc<T>(
    tcode: Tcode,
    address: number,
    payload: Uint8Array | number,
    b: Budget,
    decode: (data: Uint8Array) => T,
  ): Promise<T> {
    if (!this.#pucChecked) await this.#ensurePuc(b);
    try {
      return await this.#send(tcode, address, payload, b, decode);
    } catch (error) {
      if (!DeviceError.isInstance(error) || error.rcode !== 4) throw error;
      this.#log.info(
        'optommp: device asks for a Powerup Clear (0xE004); sending it and repeating the request',
      );
      this.#pucChecked = false;
      await this.#ensurePuc(b);
      return this.#send(tcode, address, payload, b, decode);
    }
  }

  /** The SDK's IsOpenDone with nAutoPUC: read F0300004, and when non-zero write 1 to F0380000. */
  #ensurePuc(b: Budget): Promise<void> {
    this.#pucCheck ??= (async () => {
      try {
        const flag = await this.#send(5, Address.PowerupClearFlag, 4, b, readU32);
        if (flag !== 0) {
          this.#log.info('optommp: Powerup Clear pending; sending it');
          const puc = encodeInt32(StatusOperation.PowerupClear);
          await this.#send(0, Address.StatusWriteOperation, puc, b, ignore);
        }
        this.#pucChecked = true;
      } finally {
        this.#pucCheck = undefined;
      }
    })();
    return this.#pucCheck;
  }

  /**
   * #readAs with its budget, for the methods that are not async themselves (one promise less per call):
   * a bad argument becomes a rejection, never a synchronous throw.
   */
  #readTyped<T>(
    operation: string,
    address: number,
    length: number,
    options: OperationOptions,
    decode: (data: Uint8Array) => T,
  ): Promise<T> {
    try {
      if (this.#fastPipeline !== undefined && length <= this.#maxBlock) {
        return this.#readOnePipelined(this.#fastPipeline, operation, address, length, options, decode);
      }
      return this.#readAs(address, length, this.#readBudget(operation, options, length), decode);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A read of one packet on a pipelined link without Powerup Clear checks: what #readAs with a one-packet
   * budget does (the same checks, in the same order, the same errors), straight to the pipeline without
   * a budget, request or options object per call. Throws for a bad argument (callers turn it into a
   * rejection).
   */
  #readOnePipelined<T>(
    pipeline: Pipeline,
    operation: string,
    address: number,
    length: number,
    options: OperationOptions,
    decode: (data: Uint8Array) => T,
    decodeAt?: DecodeAt<T>,
  ): Promise<T> {
    const timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    checkSpan(address, length);
    const signal = options.signal;
    if (signal?.aborted) throw new AbortedError(operation, signal.reason);
    this.#requests++;
    return pipeline.readBlock(
      OFFSET_PREFIX + address,
      length,
      this.#sourceId,
      this.#verifySourceId,
      timeoutMs,
      signal,
      decodeAt === undefined ? decode : undefined,
      decodeAt,
    );
  }

  /** `length` bytes from `address`, as a copy the caller owns. */
  #read(address: number, length: number, b: Budget): Promise<Uint8Array> {
    return this.#readAs(address, length, b, copy);
  }

  /**
   * `length` bytes from `address`, decoded by `decode` (which sees them only while it runs). Callers are
   * async, so a RangeError thrown here becomes their rejection.
   */
  #readAs<T>(address: number, length: number, b: Budget, decode: (data: Uint8Array) => T): Promise<T> {
    checkSpan(address, length);
    if (length <= this.#maxBlock) return this.#request(5, address, length, b, decode);
    return this.#readChunks(address, length, b, decode);
  }

  async #readChunks<T>(
    address: number,
    length: number,
    b: Budget,
    decode: (data: Uint8Array) => T,
  ): Promise<T> {
    // Longer transfers are split, each chunk its own packet and tl (docs/protocols/optommp.md §2.7). On a pipelined link the
    // chunks are in flight together.
    const out = new Uint8Array(length);
    if (this.#pipelined) {
      const parts: Promise<void>[] = [];
      for (let at = 0; at < length; at += this.#maxBlock) {
        const n = Math.min(this.#maxBlock, length - at);
        parts.push(this.#request(5, address + at, n, b, (data) => out.set(data, at)));
      }
      await Promise.all(parts);
    } else {
      for (let at = 0; at < length; at += this.#maxBlock) {
        const n = Math.min(this.#maxBlock, length - at);
        await this.#request(5, address + at, n, b, (data) => out.set(data, at));
      }
    }
    return decode(out);
  }

  async #write(address: number, data: Uint8Array, b: Budget): Promise<void> {
    checkSpan(address, data.length);
    if (data.length <= this.#maxBlock) {
      await this.#request(1, address, data, b, ignore);
      return;
    }
    for (let at = 0; at < data.length; at += this.#maxBlock) {
      const chunk = data.subarray(at, Math.min(data.length, at + this.#maxBlock));
      await this.#request(1, address + at, chunk, b, ignore);
    }
  }

  #budget(operation: string, options: OperationOptions): Budget {
    return new Budget(operation, options, this.#timeoutMs);
  }

  /** The budget of a call that reads `length` bytes and nothing else (one packet when they fit in one). */
  #readBudget(operation: string, options: OperationOptions, length: number): Budget {
    const b = new Budget(operation, options, this.#timeoutMs);
    // With autoPuc a Powerup Clear check may go first on the same budget: then it is not one packet.
    return length <= this.#maxBlock && !this.#autoPuc ? b.onePacket() : b;
  }

  // --- raw access ----------------------------------------------------------------------------------------

  /** Reads `length` bytes from `address` with read block requests of at most `maxBlockBytes` each. */
  async readBlock(address: number, length: number, options: OperationOptions = {}): Promise<Uint8Array> {
    return this.#read(address, length, this.#budget('readBlock', options));
  }

  /**
   * Reads `length` bytes from `address` and returns what `decode` makes of them. `decode` sees the bytes
   * only while it runs (they may sit in memory the transport reuses), so nothing is copied or allocated
   * for them: the way to turn a large block into values.
   */
  readBlockAs<T>(
    address: number,
    length: number,
    decode: (data: Uint8Array) => T,
    options: OperationOptions = NO_OPTIONS,
  ): Promise<T> {
    return this.#readTyped('readBlockAs', address, length, options, decode);
  }

  /**
   * Reads several blocks, each copied into caller memory (`into` from `at`). On a pipelined link (`window`
   * above 1) every request is in flight together, up to the window, and one promise resolves once all
   * blocks are in: no promise, decoder or result object per block, the way to read many blocks (or the
   * same blocks again and again) at the highest rate. Each packet keeps its own label, checks and the
   * call's deadline. Otherwise the blocks are read one after the other. Rejects with the first error
   * (DeviceError, TimeoutError, PipelineDesyncError, …); nothing is written into `into` after that.
   */
  readBlocksInto(blocks: readonly BlockInto[], options: OperationOptions = {}): Promise<void> {
    try {
      const b = this.#budget('readBlocksInto', options);
      let packets = 0;
      for (const block of blocks) {
        const at = block.at ?? 0;
        checkSpan(block.address, block.length);
        if (!Number.isInteger(at) || at < 0 || at + block.length > block.into.length) {
          throw new RangeError(
            `${block.length} byte(s) at ${at} do not fit into ${block.into.length} byte(s) of memory`,
          );
        }
        packets += Math.ceil(block.length / this.#maxBlock);
      }
      const pipeline = this.#pipelined ? (this.transport as TcpTransport).pipeline : undefined;
      if (pipeline === undefined || this.#autoPuc) return this.#readBlocksOneByOne(blocks, b);
      this.#requests += packets;
      return pipeline.readBlocksInto(blocks, this.#maxBlock, this.#sourceId, {
        signal: b.signal,
        timeoutMs: b.next(),
        verifySourceId: this.#verifySourceId,
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #readBlocksOneByOne(blocks: readonly BlockInto[], b: Budget): Promise<void> {
    for (const block of blocks) {
      if (block.length === 0) continue;
      const into = block.into;
      const at = block.at ?? 0;
      await this.#readAs(block.address, block.length, b, (data) => into.set(data, at));
    }
  }

  /** Writes `data` at `address` with write block requests of at most `maxBlockBytes` each. */
  async writeBlock(address: number, data: Uint8Array, options: OperationOptions = {}): Promise<void> {
    return this.#write(address, data, this.#budget('writeBlock', options));
  }

  /** A real read quadlet request (tcode 4 → 6): 4 bytes. */
  async readQuadlet(address: number, options: OperationOptions = {}): Promise<Uint8Array> {
    checkSpan(address, 4);
    return this.#request(4, address, 4, this.#budget('readQuadlet', options), copy);
  }

  /** A real write quadlet request (tcode 0 → 2). A number is written as a 32-bit integer. */
  async writeQuadlet(
    address: number,
    value: number | Uint8Array,
    options: OperationOptions = {},
  ): Promise<void> {
    checkSpan(address, 4);
    const data = typeof value === 'number' ? encodeInt32(value) : value;
    if (data.length !== 4) throw new RangeError(`a quadlet is 4 bytes, got ${data.length}`);
    await this.#request(0, address, data, this.#budget('writeQuadlet', options), ignore);
  }

  readUint32(address: number, options: OperationOptions = {}): Promise<number> {
    return this.#readTyped('readUint32', address, 4, options, readU32);
  }

  readInt32(address: number, options: OperationOptions = {}): Promise<number> {
    return this.#readTyped('readInt32', address, 4, options, readI32);
  }

  readFloat32(address: number, options: OperationOptions = {}): Promise<number> {
    return this.#readTyped('readFloat32', address, 4, options, readF32);
  }

  /** Writes a 32-bit integer: −2³¹ … 2³² − 1 (unsigned values allowed for masks). */
  async writeInt32(address: number, value: number, options: OperationOptions = {}): Promise<void> {
    return this.#write(address, encodeInt32(value), this.#budget('writeInt32', options));
  }

  /** Writes an IEEE-754 binary32 big-endian (the python package cannot, D2). */
  async writeFloat32(address: number, value: number, options: OperationOptions = {}): Promise<void> {
    return this.#write(address, encodeFloat32(value), this.#budget('writeFloat32', options));
  }

  async readInt32Array(address: number, count: number, options: OperationOptions = {}): Promise<number[]> {
    const b = this.#budget('readInt32Array', options);
    return this.#readAs(address, 4 * count, b, (data) => valuesOf(data, count, 0, 'i32'));
  }

  async readFloat32Array(address: number, count: number, options: OperationOptions = {}): Promise<number[]> {
    const b = this.#budget('readFloat32Array', options);
    return this.#readAs(address, 4 * count, b, (data) => valuesOf(data, count, 0, 'f32'));
  }

  async writeInt32Array(
    address: number,
    values: readonly number[],
    options: OperationOptions = {},
  ): Promise<void> {
    return this.#write(address, packInt32(values), this.#budget('writeInt32Array', options));
  }

  async writeFloat32Array(
    address: number,
    values: readonly number[],
    options: OperationOptions = {},
  ): Promise<void> {
    return this.#write(address, packFloat32(values), this.#budget('writeFloat32Array', options));
  }

  /**
   * The python `ReadRawOffset(hexAddr, size, type)`: `size` bytes at `address` (a number or hex text such
   * as `'F030010C'`), returned as bytes, hex, a number, text (to the first NUL), IPv4, MAC or firmware.
   */
  async readRawOffset<T extends RawType>(
    address: number | string,
    size: number,
    type: T,
    options: OperationOptions = {},
  ): Promise<RawValue<T>> {
    const at = typeof address === 'number' ? address : Number.parseInt(address.replace(/^0x/i, ''), 16);
    if (typeof address === 'string' && !/^(0x)?[0-9a-f]{1,8}$/i.test(address)) {
      throw new RangeError(`not a hex address: ${JSON.stringify(address)}`);
    }
    const need: Partial<Record<RawType, number>> = { u32: 4, i32: 4, f32: 4, ip: 4, mac: 6, firmware: 4 };
    if (need[type] !== undefined && size < need[type])
      throw new RangeError(`type ${type} needs ${need[type]} bytes, got ${size}`);
    const bytes = await this.#read(at, size, this.#budget('readRawOffset', options));
    const value = (() => {
      switch (type) {
        case 'bytes':
          return bytes;
        case 'hex':
          return toHex(bytes);
        case 'u32':
          return readU32(bytes);
        case 'i32':
          return readI32(bytes);
        case 'f32':
          return readF32(bytes);
        case 'string':
          return decodeAsciiz(bytes);
        case 'ip':
          return decodeIPv4(bytes);
        case 'mac':
          return decodeMac(bytes);
        case 'firmware':
          return decodeFirmwareVersion(bytes);
        default:
          throw new RangeError(`unknown raw type ${String(type)}`);
      }
    })();
    return value as RawValue<T>;
  }

  // --- status area -----------------------------------------------------------------------------------------

  /**
   * The whole status area in one read, plus eth1 from the IP-settings area. A device with a short map
   * (a B3000-ENET NAKs above F030007C) gets the short block, and the later fields stay undefined.
   */
  async readStatus(options: OperationOptions = {}): Promise<DeviceStatus> {
    const b = this.#budget('readStatus', options);
    let bytes: Uint8Array;
    try {
      bytes = await this.#read(STATUS_AREA_START, STATUS_AREA_BYTES, b);
    } catch (error) {
      if (!DeviceError.isInstance(error) || error.rcode !== 5) throw error;
      bytes = await this.#read(STATUS_AREA_START, STATUS_AREA_B3000_BYTES, b);
    }
    const area = decodeStatusArea(bytes);
    let eth1: DeviceStatus['eth1'];
    try {
      eth1 = await this.#readAs(ETH1_BLOCK.start, ETH1_BLOCK.size, b, decodeEth1Block);
    } catch (error) {
      if (!DeviceError.isInstance(error) || error.rcode !== 5) throw error;
    }
    return {
      ...area,
      eth0: {
        ipAddress: area.ipAddress,
        subnetMask: area.subnetMask,
        defaultGateway: area.defaultGateway,
        dnsServer: area.dnsServer,
        macAddress: area.macAddress,
      },
      eth1,
    };
  }

  /** Milliseconds since power-up, u32 at F030010C (the seed's uptime script; vectors V01, V36). */
  uptime(options: OperationOptions = {}): Promise<number> {
    return this.#readTyped('readUint32', Address.Uptime, 4, options, readU32);
  }

  /** Milliseconds since power-up, u64 at F0300228. */
  async uptime64(options: OperationOptions = {}): Promise<bigint> {
    return await this.#readAs(Address.Uptime64, 8, this.#budget('uptime64', options), readU64);
  }

  /** The last error code at F030000C: `0x0000E00n`, 0 = none (python `LastError()`; see formatDeviceCode). */
  async lastError(options: OperationOptions = {}): Promise<number> {
    return this.readInt32(Address.LastError, options);
  }

  /** The address of the last failed request (the block start for block requests). */
  async lastErrorAddress(options: OperationOptions = {}): Promise<number> {
    return this.readUint32(Address.LastErrorAddress, options);
  }

  /** Firmware version from its 4 bytes, e.g. `R4.1c` (python `FirmwareVersion()`, broken on Python 3, D1). */
  async firmwareVersion(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(
      Address.FirmwareVersion,
      4,
      this.#budget('firmwareVersion', options),
      decodeFirmwareVersion,
    );
  }

  async loaderVersion(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(0xf030_0018, 4, this.#budget('loaderVersion', options), decodeFirmwareVersion);
  }

  async memoryMapVersion(options: OperationOptions = {}): Promise<number> {
    return this.readUint32(Address.MemoryMapVersion, options);
  }

  async unitType(options: OperationOptions = {}): Promise<number> {
    return this.readUint32(0xf030_0020, options);
  }

  async serialNumber(options: OperationOptions = {}): Promise<number> {
    return this.readUint32(Address.SerialNumber, options);
  }

  /** The part number, all 32 bytes read and cut at the first NUL (python `UnitDescription()`, D11). */
  async unitDescription(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(Address.PartNumber, 32, this.#budget('unitDescription', options), decodeAsciiz);
  }

  async ipAddressE0(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(Address.IpAddressEth0, 4, this.#budget('ipAddressE0', options), decodeIPv4);
  }

  async ipAddressE1(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(Address.IpAddressEth1, 4, this.#budget('ipAddressE1', options), decodeIPv4);
  }

  async macAddressE0(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(Address.MacAddressEth0, 6, this.#budget('macAddressE0', options), decodeMac);
  }

  async macAddressE1(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(Address.MacAddressEth1, 6, this.#budget('macAddressE1', options), decodeMac);
  }

  /** The device's date and time, `YYYY-MM-DD HH:MM:SS:hh` (F0350000). */
  async readDateTime(options: OperationOptions = {}): Promise<string> {
    return await this.#readAs(Address.DateTime, 23, this.#budget('readDateTime', options), decodeAsciiz);
  }

  /** Sets the device's date and time (a Date is written in UTC). */
  async writeDateTime(value: Date | string, options: OperationOptions = {}): Promise<void> {
    let text = value;
    if (value instanceof Date) {
      const p = (n: number) => String(n).padStart(2, '0');
      text = `${value.getUTCFullYear()}-${p(value.getUTCMonth() + 1)}-${p(value.getUTCDate())} ${p(value.getUTCHours())}:${p(value.getUTCMinutes())}:${p(value.getUTCSeconds())}:${p(Math.floor(value.getUTCMilliseconds() / 10))}`;
    }
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}:\d{2}$/.test(text as string)) {
      throw new RangeError(`date and time must be "YYYY-MM-DD HH:MM:SS:hh", got ${JSON.stringify(text)}`);
    }
    const field = new Uint8Array(23);
    field.set(latin1Bytes(text as string));
    await this.#write(Address.DateTime, field, this.#budget('writeDateTime', options));
  }

  // --- groov EPIC digital ----------------------------------------------------------------------------------

  /** State of a digital channel, input or output (EPIC digital read area, D12). */
  async getDigitalPointState(
    module: number,
    channel: number,
    options: OperationOptions = {},
  ): Promise<boolean> {
    const address = epicDigitalReadAddress(module, channel);
    return (await this.#readAs(address, 4, this.#budget('getDigitalPointState', options), readU32)) !== 0;
  }

  /** Turns a digital output on or off: `00000001` / `00000000` to the EPIC digital write area (V10). */
  async setDigitalPointState(
    module: number,
    channel: number,
    state: boolean | 0 | 1,
    options: OperationOptions = {},
  ): Promise<void> {
    const address = epicDigitalWriteAddress(module, channel);
    return this.#write(address, encodeInt32(state ? 1 : 0), this.#budget('setDigitalPointState', options));
  }

  async turnOn(module: number, channel: number, options: OperationOptions = {}): Promise<void> {
    return this.setDigitalPointState(module, channel, true, options);
  }

  async turnOff(module: number, channel: number, options: OperationOptions = {}): Promise<void> {
    return this.setDigitalPointState(module, channel, false, options);
  }

  /** The whole digital channel block: state, latches, feature type and value, quality. */
  async readDigitalPoint(
    module: number,
    channel: number,
    options: OperationOptions = {},
  ): Promise<DigitalPoint> {
    const b = await this.#read(
      epicDigitalReadAddress(module, channel),
      0x18,
      this.#budget('readDigitalPoint', options),
    );
    return {
      state: readU32(b, 0) !== 0,
      onLatch: readU32(b, 4) !== 0,
      offLatch: readU32(b, 8) !== 0,
      featureType: readU32(b, 0xc),
      featureValue: readU32(b, 0x10),
      quality: readU32(b, 0x14),
    };
  }

  /** Packed states, quality and latches of modules 0–15 (F1001900 + m·0x10); bit c is channel c. */
  async readPackedDigital(module: number, options: OperationOptions = {}): Promise<PackedDigital> {
    const b = await this.#read(
      epicPackedDigitalAddress(module),
      16,
      this.#budget('readPackedDigital', options),
    );
    return {
      states: readU32(b, 0),
      quality: readU32(b, 4),
      onLatches: readU32(b, 8),
      offLatches: readU32(b, 12),
    };
  }

  /** Module quality mask (F1002000, 8 bytes): bit m is module m. */
  async readModuleQuality(options: OperationOptions = {}): Promise<bigint> {
    return await this.#readAs(EpicArea.ModuleQuality, 8, this.#budget('readModuleQuality', options), readU64);
  }

  /** The 64 channel-quality words of a module (F1002080 + m·0x100). */
  async readChannelQuality(module: number, options: OperationOptions = {}): Promise<number[]> {
    const b = await this.#read(
      epicChannelQualityAddress(module),
      0x100,
      this.#budget('readChannelQuality', options),
    );
    return valuesOf(b, 64, 0, 'u32');
  }

  // --- groov EPIC analog -----------------------------------------------------------------------------------

  /** Value in engineering units, f32 (python `GetAnalogPointValue`). */
  async getAnalogPointValue(
    module: number,
    channel: number,
    options: OperationOptions = {},
  ): Promise<number> {
    return this.readFloat32(epicAnalogReadAddress(module, channel) + AnalogReadField.Value, options);
  }

  async getAnalogPointMin(module: number, channel: number, options: OperationOptions = {}): Promise<number> {
    return this.readFloat32(epicAnalogReadAddress(module, channel) + AnalogReadField.Minimum, options);
  }

  async getAnalogPointMax(module: number, channel: number, options: OperationOptions = {}): Promise<number> {
    return this.readFloat32(epicAnalogReadAddress(module, channel) + AnalogReadField.Maximum, options);
  }

  /** Writes an analog output value, f32 big-endian (python `SetAnalogPointValue`, broken upstream, D2; V16). */
  async setAnalogPointValue(
    module: number,
    channel: number,
    value: number,
    options: OperationOptions = {},
  ): Promise<void> {
    return this.writeFloat32(epicAnalogWriteAddress(module, channel), value, options);
  }

  /** The analog channel block: value, counts, min, max, quality. */
  async readAnalogPoint(
    module: number,
    channel: number,
    options: OperationOptions = {},
  ): Promise<AnalogPoint> {
    const b = await this.#read(
      epicAnalogReadAddress(module, channel),
      0x14,
      this.#budget('readAnalogPoint', options),
    );
    return analogPointOf(viewOf(b), 0);
  }

  /**
   * Channels 0…`channels`−1 of an analog module in one block (64 × 0x40 bytes for a whole module; split
   * into `maxBlockBytes` packets). The python package cannot: its length field stops at 255 (D7).
   */
  readAnalogModule(
    module: number,
    channels = EPIC_CHANNELS,
    options: OperationOptions = NO_OPTIONS,
  ): Promise<AnalogPoint[]> {
    // Not async (one promise and its turns less per call): a bad argument is a rejection all the same.
    try {
      if (!Number.isInteger(channels) || channels < 1 || channels > EPIC_CHANNELS) {
        throw new RangeError(`channels must be 1..64, got ${channels}`);
      }
      const base = epicAnalogReadAddress(module, 0);
      const size = (channels - 1) * EPIC_CHANNEL_STRIDE + 0x14;
      const decode = channels === EPIC_CHANNELS ? analogModuleOf : analogChannelsOf(channels);
      if (this.#fastPipeline !== undefined && size <= this.#maxBlock) {
        // A whole module is decoded where its reply lies in the receive buffer.
        const at = channels === EPIC_CHANNELS ? analogModuleAt : undefined;
        return this.#readOnePipelined(
          this.#fastPipeline,
          'readAnalogModule',
          base,
          size,
          options,
          decode,
          at,
        );
      }
      return this.#readAs(base, size, this.#readBudget('readAnalogModule', options, size), decode);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // --- scratch pad -----------------------------------------------------------------------------------------

  /** int32 element 0…10 239, in whichever of the three areas it lives (python D4 fixed; V17, V22). */
  async getScratchPadIntegerArea(index: number, options: OperationOptions = {}): Promise<number> {
    return await this.#readAs(
      scratchPadInt32Address(index),
      4,
      this.#budget('getScratchPadIntegerArea', options),
      readI32,
    );
  }

  /** Writes an int32 element: −2³¹ … 2³² − 1 (the python package stops at 255, D3; V20). */
  async setScratchPadIntegerArea(
    index: number,
    value: number,
    options: OperationOptions = {},
  ): Promise<void> {
    return this.#write(
      scratchPadInt32Address(index),
      encodeInt32(value),
      this.#budget('setScratchPadIntegerArea', options),
    );
  }

  async getScratchPadFloatArea(index: number, options: OperationOptions = {}): Promise<number> {
    return await this.#readAs(
      scratchPadFloat32Address(index),
      4,
      this.#budget('getScratchPadFloatArea', options),
      readF32,
    );
  }

  async setScratchPadFloatArea(index: number, value: number, options: OperationOptions = {}): Promise<void> {
    return this.#write(
      scratchPadFloat32Address(index),
      encodeFloat32(value),
      this.#budget('setScratchPadFloatArea', options),
    );
  }

  /** `count` int32 elements from `index` (two transfers when the range crosses 1023/1024). */
  async readScratchPadIntegers(
    index: number,
    count: number,
    options: OperationOptions = {},
  ): Promise<number[]> {
    return this.#readScratchPad('int32', index, count, this.#budget('readScratchPadIntegers', options));
  }

  async writeScratchPadIntegers(
    index: number,
    values: readonly number[],
    options: OperationOptions = {},
  ): Promise<void> {
    const b = this.#budget('writeScratchPadIntegers', options);
    return this.#writeScratchPad('int32', index, packInt32(values), b);
  }

  async readScratchPadFloats(
    index: number,
    count: number,
    options: OperationOptions = {},
  ): Promise<number[]> {
    return this.#readScratchPad('float32', index, count, this.#budget('readScratchPadFloats', options));
  }

  async writeScratchPadFloats(
    index: number,
    values: readonly number[],
    options: OperationOptions = {},
  ): Promise<void> {
    const b = this.#budget('writeScratchPadFloats', options);
    return this.#writeScratchPad('float32', index, packFloat32(values), b);
  }

  /** `count` 4-byte elements from `index`: one block per run, as area 1 and area 2 are not adjacent. */
  async #readScratchPad(
    kind: 'int32' | 'float32',
    index: number,
    count: number,
    b: Budget,
  ): Promise<number[]> {
    const out: number[] = [];
    for (const run of scratchPadRuns(kind, index, count)) {
      const type = kind === 'int32' ? 'i32' : 'f32';
      out.push(
        ...(await this.#readAs(run.address, 4 * run.count, b, (d) => valuesOf(d, run.count, 0, type))),
      );
    }
    return out;
  }

  /** Writes the packed 4-byte elements in `bytes` from `index`, one block per run. */
  async #writeScratchPad(
    kind: 'int32' | 'float32',
    index: number,
    bytes: Uint8Array,
    b: Budget,
  ): Promise<void> {
    let at = 0;
    for (const run of scratchPadRuns(kind, index, bytes.length / 4)) {
      await this.#write(run.address, bytes.subarray(4 * at, 4 * (at + run.count)), b);
      at += run.count;
    }
  }

  /**
   * String slot 0…63: the whole 130-byte slot in one read, the u16 length at +0, then that many latin-1
   * characters (python D5 fixed; V25, V27b).
   */
  async getScratchPadStringArea(slot: number, options: OperationOptions = {}): Promise<string> {
    const bytes = await this.#read(
      scratchPadStringAddress(slot),
      SCRATCH_PAD_STRING_SLOT_BYTES,
      this.#budget('getScratchPadStringArea', options),
    );
    return stringOfSlot(bytes, 0, this.#log, slot);
  }

  /** `count` consecutive string slots from `slot`. */
  async readScratchPadStrings(
    slot: number,
    count: number,
    options: OperationOptions = {},
  ): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || slot + count > SCRATCH_PAD_STRING_SLOTS) {
      throw new RangeError(`${count} string slot(s) from ${slot} exceed slots 0..63`);
    }
    const bytes = await this.#read(
      scratchPadStringAddress(slot),
      count * SCRATCH_PAD_STRING_SLOT_BYTES,
      this.#budget('readScratchPadStrings', options),
    );
    return Array.from({ length: count }, (_, i) =>
      stringOfSlot(bytes, i * SCRATCH_PAD_STRING_SLOT_BYTES, this.#log, slot + i),
    );
  }

  /**
   * Writes a string slot: the length word and the characters in one block (V26), or with `pad` the whole
   * 130-byte slot NUL-padded as the C++ SDK does. At most 128 latin-1 characters (python D6 fixed).
   */
  async setScratchPadStringArea(
    slot: number,
    text: string,
    options: OperationOptions & { pad?: boolean } = {},
  ): Promise<void> {
    const chars = latin1Bytes(text);
    if (chars.length > SCRATCH_PAD_STRING_MAX) {
      throw new RangeError(
        `a scratch-pad string holds at most ${SCRATCH_PAD_STRING_MAX} characters, got ${chars.length}`,
      );
    }
    const data = new Uint8Array(options.pad ? SCRATCH_PAD_STRING_SLOT_BYTES : 2 + chars.length);
    data[0] = chars.length >>> 8;
    data[1] = chars.length & 0xff;
    data.set(chars, 2);
    return this.#write(scratchPadStringAddress(slot), data, this.#budget('setScratchPadStringArea', options));
  }

  /** int64 element 0…1023 at F0DE0000 + 8·i (experimental: the SDK's layout is inconsistent, docs/protocols/optommp.md §3.3). */
  async getScratchPadInt64(index: number, options: OperationOptions = {}): Promise<bigint> {
    return await this.#readAs(
      scratchPadInt64Address(index),
      8,
      this.#budget('getScratchPadInt64', options),
      readI64,
    );
  }

  async setScratchPadInt64(index: number, value: bigint, options: OperationOptions = {}): Promise<void> {
    return this.#write(
      scratchPadInt64Address(index),
      encodeInt64(value),
      this.#budget('setScratchPadInt64', options),
    );
  }

  /** The 64 scratch-pad bits (F0D80000): bit n of the result is bit n. */
  async getScratchPadBits(options: OperationOptions = {}): Promise<bigint> {
    return await this.#readAs(ScratchPad.Bits, 8, this.#budget('getScratchPadBits', options), readU64);
  }

  /** Overwrites all 64 bits. */
  async setScratchPadBits(mask: bigint, options: OperationOptions = {}): Promise<void> {
    return this.#write(ScratchPad.Bits, encodeMask64(mask), this.#budget('setScratchPadBits', options));
  }

  /** Turns on the bits set in `mask`, leaving the others (turn-on mask at F0D80400). */
  async setScratchPadBitsOn(mask: bigint, options: OperationOptions = {}): Promise<void> {
    return this.#write(
      ScratchPad.BitsTurnOn,
      encodeMask64(mask),
      this.#budget('setScratchPadBitsOn', options),
    );
  }

  /** Turns off the bits set in `mask` (turn-off mask at F0D80408). */
  async setScratchPadBitsOff(mask: bigint, options: OperationOptions = {}): Promise<void> {
    return this.#write(
      ScratchPad.BitsTurnOff,
      encodeMask64(mask),
      this.#budget('setScratchPadBitsOff', options),
    );
  }

  // --- SNAP PAC banks --------------------------------------------------------------------------------------

  /** The SNAP 64-point digital bank (F0400000): states, latches, active counters and the 64 counters. */
  async readDigitalBank(options: OperationOptions = {}): Promise<DigitalBank> {
    const budget = this.#budget('readDigitalBank', options);
    return this.#readAs(SnapArea.DigitalBankRead, 0x200, budget, (b) => ({
      states: readU64(b, 0),
      onLatches: readU64(b, 8),
      offLatches: readU64(b, 0x10),
      activeCounters: readU64(b, 0x18),
      counters: valuesOf(b, 64, 0x100, 'u32'),
    }));
  }

  /** Turns on the points in `on` and off the points in `off` in one write (F0500000, as the SDK does). */
  async setDigitalBankMasks(
    masks: { on?: bigint; off?: bigint },
    options: OperationOptions = {},
  ): Promise<void> {
    const data = new Uint8Array(16);
    data.set(encodeMask64(masks.on ?? 0n), 0);
    data.set(encodeMask64(masks.off ?? 0n), 8);
    return this.#write(SnapArea.DigitalBankWrite, data, this.#budget('setDigitalBankMasks', options));
  }

  /** The SNAP 64-point analog bank (F0600000): values, counts, min, max. */
  async readAnalogBank(options: OperationOptions = {}): Promise<AnalogBank> {
    const budget = this.#budget('readAnalogBank', options);
    return this.#readAs(SnapArea.AnalogBankRead, 0x400, budget, (b) => ({
      values: valuesOf(b, 64, 0, 'f32'),
      counts: valuesOf(b, 64, 0x100, 'u32'),
      min: valuesOf(b, 64, 0x200, 'f32'),
      max: valuesOf(b, 64, 0x300, 'f32'),
    }));
  }

  /** Writes up to 64 analog bank values (F0700000); NaN leaves a channel unchanged on firmware ≥ R9.4d. */
  async writeAnalogBank(values: readonly number[], options: OperationOptions = {}): Promise<void> {
    if (values.length > 64)
      throw new RangeError(`the analog bank has 64 points, got ${values.length} values`);
    return this.#write(
      SnapArea.AnalogBankWrite,
      packFloat32(values),
      this.#budget('writeAnalogBank', options),
    );
  }

  // --- polling ---------------------------------------------------------------------------------------------

  /**
   * Polls `points` every `intervalMs` and yields one sample per round. Ends after `count` samples, when
   * `signal` aborts, or when the loop is left; a failed read ends it with that error.
   */
  async *watch(
    points: readonly WatchPoint[],
    options: WatchOptions = {},
  ): AsyncGenerator<WatchSample, void, undefined> {
    const intervalMs = options.intervalMs ?? 1000;
    if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be >= 0, got ${intervalMs}`);
    if (points.length === 0) throw new RangeError('watch needs at least one point');
    const names = points.map(watchPointName);
    const started = performance.now();
    for (let sequence = 0; options.count === undefined || sequence < options.count; sequence++) {
      if (options.signal?.aborted) return;
      const b = this.#budget('watch', { signal: options.signal, timeoutMs: options.timeoutMs });
      const values = [];
      for (let i = 0; i < points.length; i++) {
        let value: number | boolean;
        try {
          value = await this.#readPoint(points[i]!, b);
        } catch (error) {
          if (options.signal?.aborted) return;
          throw error;
        }
        values.push({ name: names[i]!, point: points[i]!, value });
      }
      yield { sequence, time: Date.now(), values };
      if (options.count !== undefined && sequence + 1 >= options.count) return;
      // Fixed rate: the next sample starts at started + (k+1)·interval; a late round starts at once.
      const wait = started + (sequence + 1) * intervalMs - performance.now();
      if (wait > 0 && !(await delay(wait, options.signal))) return;
    }
  }

  async #readPoint(p: WatchPoint, b: Budget): Promise<number | boolean> {
    switch (p.kind) {
      case 'digital':
        return (await this.#readAs(epicDigitalReadAddress(p.module, p.channel), 4, b, readU32)) !== 0;
      case 'analog':
        return await this.#readAs(epicAnalogReadAddress(p.module, p.channel), 4, b, readF32);
      case 'int32':
        return await this.#readAs(scratchPadInt32Address(p.index), 4, b, readI32);
      case 'float32':
        return await this.#readAs(scratchPadFloat32Address(p.index), 4, b, readF32);
      case 'uptime':
        return await this.#readAs(Address.Uptime, 4, b, readU32);
      case 'u32':
        return await this.#readAs(p.address, 4, b, readU32);
      case 'i32':
        return await this.#readAs(p.address, 4, b, readI32);
      case 'f32':
        return await this.#readAs(p.address, 4, b, readF32);
    }
  }
}

/** The options of a call that passes none (one shared object, never written: none per call). */
const NO_OPTIONS: OperationOptions = Object.freeze({});

/** Response data the caller keeps: a copy (the transport may reuse its memory). */
function copy(data: Uint8Array): Uint8Array {
  return data.slice();
}

/** Write responses carry no data. */
function ignore(): void {}

/**
 * The decoder of `channels` analog channel blocks, one after the other. The data's length was checked
 * against the request (it is exactly the channels' bytes), so one DataView over the whole memory the
 * data lies in serves every call on the same memory (a transport's reused receive buffer): no view per
 * call. It holds on to the last such memory until another comes.
 */
function analogChannelsOf(channels: number): (data: Uint8Array) => AnalogPoint[] {
  const at = analogChannelsAt(channels);
  return (data) => at(data, 0, data.length);
}

/**
 * The same decoder for data where it lies, `bytes[from, to)` (a pipelined reply in the receive buffer:
 * no view of it per call).
 */
function analogChannelsAt(channels: number): DecodeAt<AnalogPoint[]> {
  let memory: ArrayBufferLike | undefined;
  let view: DataView | undefined;
  return (bytes, from) => {
    if (bytes.buffer !== memory || view === undefined) {
      memory = bytes.buffer;
      view = new DataView(memory);
    }
    const base = bytes.byteOffset + from;
    const out = new Array<AnalogPoint>(channels);
    for (let c = 0; c < channels; c++) out[c] = analogPointOf(view, base + c * EPIC_CHANNEL_STRIDE);
    return out;
  };
}

/** A whole module's channel blocks (made once: no decoder per call). */
const analogModuleOf = analogChannelsOf(EPIC_CHANNELS);
const analogModuleAt = analogChannelsAt(EPIC_CHANNELS);

function analogPointOf(v: DataView, at: number): AnalogPoint {
  return {
    value: v.getFloat32(at, false),
    counts: v.getUint32(at + 4, false),
    min: v.getFloat32(at + 8, false),
    max: v.getFloat32(at + 0xc, false),
    quality: v.getUint32(at + 0x10, false),
  };
}

/** `count` values from one DataView over `bytes` (one view for the whole block, not one per value). */
function valuesOf(bytes: Uint8Array, count: number, at: number, kind: 'u32' | 'i32' | 'f32'): number[] {
  const v = viewOf(bytes);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const o = at + 4 * i;
    out[i] =
      kind === 'f32' ? v.getFloat32(o, false) : kind === 'i32' ? v.getInt32(o, false) : v.getUint32(o, false);
  }
  return out;
}

function stringOfSlot(bytes: Uint8Array, at: number, log: Logger, slot: number): string {
  let length = (bytes[at]! << 8) | bytes[at + 1]!;
  if (length > SCRATCH_PAD_STRING_MAX) {
    log.warn('optommp: string slot length word above 128, truncated', { slot, length });
    length = SCRATCH_PAD_STRING_MAX;
  }
  return latin1Of(bytes.subarray(at + 2, at + 2 + length));
}

function packInt32(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  for (let i = 0; i < values.length; i++) out.set(encodeInt32(values[i]!), 4 * i);
  return out;
}

function packFloat32(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, false);
  return out;
}
