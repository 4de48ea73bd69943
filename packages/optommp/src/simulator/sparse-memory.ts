// Byte-addressed device memory over the 32-bit address space, allocated in 4 KiB pages on first write, so
// a simulator costs only what it touches. Unwritten bytes read as zero. Aligned scalar accesses go straight
// to the page's DataView (the simulator's hot path: every request touches a few status fields).

const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
const ZERO_VIEW = new DataView(ZERO_PAGE.buffer);

interface Page {
  bytes: Uint8Array;
  view: DataView;
}

export class SparseMemory {
  readonly #pages = new Map<number, Page>();
  // The last page looked up: a request touches one or two pages many times (status fields, a module).
  #lastIndex = -1;
  #last: Page | undefined;

  /** The page, or undefined when it was never written (reads as zero). */
  #find(page: number): Page | undefined {
    if (page === this.#lastIndex) return this.#last;
    const p = this.#pages.get(page);
    if (p !== undefined) {
      this.#lastIndex = page;
      this.#last = p;
    }
    return p;
  }

  #page(page: number): Page {
    let p = this.#find(page);
    if (p === undefined) {
      const bytes = new Uint8Array(PAGE_SIZE);
      p = { bytes, view: new DataView(bytes.buffer) };
      this.#pages.set(page, p);
      this.#lastIndex = page;
      this.#last = p;
    }
    return p;
  }

  /** A copy of `length` bytes from `address`. */
  read(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(address, out);
    return out;
  }

  /** Copies `out.length` bytes from `address` into `out`. */
  readInto(address: number, out: Uint8Array): void {
    const length = out.length;
    let done = 0;
    while (done < length) {
      const at = address + done;
      const page = Math.floor(at / PAGE_SIZE);
      const within = at - page * PAGE_SIZE;
      const take = Math.min(PAGE_SIZE - within, length - done);
      const source = this.#find(page)?.bytes ?? ZERO_PAGE;
      out.set(source.subarray(within, within + take), done);
      done += take;
    }
  }

  write(address: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const at = address + done;
      const page = Math.floor(at / PAGE_SIZE);
      const within = at - page * PAGE_SIZE;
      const take = Math.min(PAGE_SIZE - within, bytes.length - done);
      this.#page(page).bytes.set(bytes.subarray(done, done + take), within);
      done += take;
    }
  }

  // Set by #locate: the page view and offset of the scalar being accessed.
  #view: DataView = ZERO_VIEW;
  #at = 0;

  /** Points #view/#at at a `size`-byte scalar when it does not cross a page (no allocation). */
  #locate(address: number, size: number, forWrite: boolean): boolean {
    const page = Math.floor(address / PAGE_SIZE);
    const within = address - page * PAGE_SIZE;
    if (within + size > PAGE_SIZE) return false;
    this.#view = forWrite ? this.#page(page).view : (this.#find(page)?.view ?? ZERO_VIEW);
    this.#at = within;
    return true;
  }

  getU32(address: number): number {
    if (this.#locate(address, 4, false)) return this.#view.getUint32(this.#at, false);
    return new DataView(this.read(address, 4).buffer).getUint32(0, false);
  }

  setU32(address: number, value: number): void {
    if (this.#locate(address, 4, true)) this.#view.setUint32(this.#at, value >>> 0, false);
    else
      this.write(
        address,
        Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff),
      );
  }

  getF32(address: number): number {
    if (this.#locate(address, 4, false)) return this.#view.getFloat32(this.#at, false);
    return new DataView(this.read(address, 4).buffer).getFloat32(0, false);
  }

  setF32(address: number, value: number): void {
    if (this.#locate(address, 4, true)) {
      this.#view.setFloat32(this.#at, value, false);
      return;
    }
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, false);
    this.write(address, b);
  }

  getU64(address: number): bigint {
    if (this.#locate(address, 8, false)) return this.#view.getBigUint64(this.#at, false);
    return new DataView(this.read(address, 8).buffer).getBigUint64(0, false);
  }

  setU64(address: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    if (this.#locate(address, 8, true)) {
      this.#view.setBigUint64(this.#at, v, false);
      return;
    }
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, false);
    this.write(address, b);
  }

  setU16(address: number, value: number): void {
    if (this.#locate(address, 2, true)) this.#view.setUint16(this.#at, value & 0xffff, false);
    else this.write(address, Uint8Array.of((value >>> 8) & 0xff, value & 0xff));
  }

  /** Pages allocated so far (for tests and diagnostics). */
  get pages(): number {
    return this.#pages.size;
  }
}
