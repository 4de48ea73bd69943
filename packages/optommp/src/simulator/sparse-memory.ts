// Byte-addressed device memory over the 32-bit address space, allocated in 4 KiB pages on first write, so
// a simulator costs only what it touches. Unwritten bytes read as zero.

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

export class SparseMemory {
  readonly #pages = new Map<number, Uint8Array>();

  /** A copy of `length` bytes from `address`. */
  read(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = address + done;
      const page = Math.floor(at / PAGE_SIZE);
      const within = at - page * PAGE_SIZE;
      const take = Math.min(PAGE_SIZE - within, length - done);
      const source = this.#pages.get(page) ?? ZERO_PAGE;
      out.set(source.subarray(within, within + take), done);
      done += take;
    }
    return out;
  }

  write(address: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const at = address + done;
      const page = Math.floor(at / PAGE_SIZE);
      const within = at - page * PAGE_SIZE;
      const take = Math.min(PAGE_SIZE - within, bytes.length - done);
      let target = this.#pages.get(page);
      if (target === undefined) {
        target = new Uint8Array(PAGE_SIZE);
        this.#pages.set(page, target);
      }
      target.set(bytes.subarray(done, done + take), within);
      done += take;
    }
  }

  getU32(address: number): number {
    const b = this.read(address, 4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }

  setU32(address: number, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, false);
    this.write(address, b);
  }

  getF32(address: number): number {
    return new DataView(this.read(address, 4).buffer).getFloat32(0, false);
  }

  setF32(address: number, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, false);
    this.write(address, b);
  }

  getU64(address: number): bigint {
    return new DataView(this.read(address, 8).buffer).getBigUint64(0, false);
  }

  setU64(address: number, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), false);
    this.write(address, b);
  }

  setU16(address: number, value: number): void {
    this.write(address, Uint8Array.of((value >>> 8) & 0xff, value & 0xff));
  }

  /** Pages allocated so far (for tests and diagnostics). */
  get pages(): number {
    return this.#pages.size;
  }
}
