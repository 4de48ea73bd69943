// A TcpBus whose calls can be cancelled from the tcpbus shell. cmd_tcp's façade (CmdTcp) has Pyrame's
// signatures, without an AbortSignal; this bus gives the signal of the running shell command to every
// call the façade makes on it, so Ctrl-C ends a call that would otherwise wait for its deadline (60 s by
// default). A cancelled read consumes nothing: the bytes stay for the next call. It also remembers why
// the last config failed, for the message (cmd_tcp's own text is only "Error connecting to …").

import {
  type BusCallOptions,
  type Eot,
  type LinkId,
  TcpBus,
  type TcpBusOptions,
  type TimeoutArg,
} from '@labwire/bus';

export class CancellableBus extends TcpBus {
  #signal: AbortSignal | undefined;
  #lastConfigError: unknown;

  constructor(options: TcpBusOptions = {}) {
    super(options);
  }

  /** Runs `fn`; every bus call it makes meanwhile gets `signal`. Calls are one at a time in tcpbus. */
  async during<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const previous = this.#signal;
    this.#signal = signal;
    this.#lastConfigError = undefined;
    try {
      return await fn();
    } finally {
      this.#signal = previous;
    }
  }

  /** Why the last `config` inside `during` failed, if it did. */
  get lastConfigError(): unknown {
    return this.#lastConfigError;
  }

  #o(options: BusCallOptions | undefined): BusCallOptions {
    if (this.#signal === undefined || options?.signal !== undefined) return options ?? {};
    return { ...options, signal: this.#signal };
  }

  override config(id: LinkId, options?: BusCallOptions): Promise<string> {
    return super.config(id, this.#o(options)).catch((e: unknown) => {
      this.#lastConfigError = e;
      throw e;
    });
  }
  override inval(id: LinkId, options?: BusCallOptions): Promise<boolean> {
    return super.inval(id, this.#o(options));
  }
  override deinit(id: LinkId, options?: BusCallOptions): Promise<boolean> {
    return super.deinit(id, this.#o(options));
  }
  override write(id: LinkId, data: string | Uint8Array, options?: BusCallOptions): Promise<void> {
    return super.write(id, data, this.#o(options));
  }
  override writeBin(id: LinkId, hex: string, options?: BusCallOptions): Promise<void> {
    return super.writeBin(id, hex, this.#o(options));
  }
  override read(
    id: LinkId,
    n: number | string,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.read(id, n, timeout, this.#o(options));
  }
  override readBin(
    id: LinkId,
    n: number | string,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.readBin(id, n, timeout, this.#o(options));
  }
  override readUntil(id: LinkId, eot: Eot, timeout?: TimeoutArg, options?: BusCallOptions): Promise<string> {
    return super.readUntil(id, eot, timeout, this.#o(options));
  }
  override readBinUntil(
    id: LinkId,
    eot: Eot,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.readBinUntil(id, eot, timeout, this.#o(options));
  }
  override expect(
    id: LinkId,
    pattern: string | Uint8Array,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<Uint8Array> {
    return super.expect(id, pattern, timeout, this.#o(options));
  }
  override wrnrd(
    id: LinkId,
    data: string | Uint8Array,
    n: number | string,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.wrnrd(id, data, n, timeout, this.#o(options));
  }
  override wrnrdBin(
    id: LinkId,
    hex: string,
    n: number | string,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.wrnrdBin(id, hex, n, timeout, this.#o(options));
  }
  override wrnrdUntil(
    id: LinkId,
    data: string | Uint8Array,
    eot: Eot,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.wrnrdUntil(id, data, eot, timeout, this.#o(options));
  }
  override wrnrdBinUntil(
    id: LinkId,
    hex: string,
    eot: Eot,
    timeout?: TimeoutArg,
    options?: BusCallOptions,
  ): Promise<string> {
    return super.wrnrdBinUntil(id, hex, eot, timeout, this.#o(options));
  }
}
