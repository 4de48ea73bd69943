// The Pyrame-compatible façade: cmd_tcp's functions by their own names, string arguments, and Pyrame's
// `(retcode, message)` results (docs/protocols/cmd_tcp.md §1, §5): 1 = success with the result, 0 = failure with
// `tcp: <message>`, the messages being cmd_tcp's own. Code written against cmd_tcp can call these as it is.

import { BusError, InvalidIdError } from './errors';
import { canonicalLinkId } from './link-id';
import { TcpBus, type TcpBusOptions } from './tcp-bus';

/**
 * A Pyrame result: the tuple `[retcode, message]`, which also answers `.retcode` and `.message` (not
 * enumerable, so it compares and serialises as the plain tuple).
 */
export type PyrameResult = readonly [retcode: 0 | 1, message: string] & {
  /** 1: success (the message is the result), 0: failure (the message says why, after `tcp: `). */
  readonly retcode: 0 | 1;
  readonly message: string;
};

export function pyrameResult(retcode: 0 | 1, message: string): PyrameResult {
  const result = [retcode, message] as const;
  Object.defineProperties(result, {
    retcode: { value: retcode, enumerable: false },
    message: { value: message, enumerable: false },
  });
  return Object.freeze(result) as PyrameResult;
}

/** Prefix of every cmd_tcp failure message. */
export const CMD_TCP_PREFIX = 'tcp: ';

/** cmd_tcp's API (docs/protocols/cmd_tcp.md §5), in its own words; `init_tcp` also takes the 2.1.3 form without id. */
export const CMD_TCP_API: readonly {
  readonly name: string;
  readonly params: readonly string[];
  /** How many leading parameters are required. */
  readonly required: number;
  readonly doc: string;
}[] = [
  {
    name: 'init_tcp',
    params: ['tcp_id', 'conf_string'],
    required: 1,
    doc: 'Register link tcp_id from conf_string tcp(host=…,port=…[,timeout=s]); no I/O. With only a conf_string, the id is chosen (max + 1) and returned.',
  },
  {
    name: 'config_tcp',
    params: ['tcp_id'],
    required: 1,
    doc: 'Connect link tcp_id; returns the canonical key "<ip>,<port>".',
  },
  {
    name: 'inval_tcp',
    params: ['tcp_id'],
    required: 1,
    doc: 'Undo config_tcp (the socket closes when no other link shares it).',
  },
  {
    name: 'deinit_tcp',
    params: ['tcp_id'],
    required: 1,
    doc: 'Invalidate if needed and forget link tcp_id.',
  },
  {
    name: 'write_tcp',
    params: ['tcp_id', 'data'],
    required: 2,
    doc: 'Write data (backslash escapes decoded: \\n \\r \\t \\e \\xHH …).',
  },
  {
    name: 'write_bin_tcp',
    params: ['tcp_id', 'data'],
    required: 2,
    doc: 'Write hex data (pairs of hex digits).',
  },
  {
    name: 'read_tcp',
    params: ['tcp_id', 'bytes_to_read', 'timeout'],
    required: 2,
    doc: 'Read exactly bytes_to_read bytes; NUL, CR and LF are removed.',
  },
  {
    name: 'read_bin_tcp',
    params: ['tcp_id', 'bytes_to_read', 'timeout'],
    required: 2,
    doc: 'Read exactly bytes_to_read bytes, returned as lowercase hex.',
  },
  {
    name: 'read_until_tcp',
    params: ['tcp_id', 'eot', 'timeout'],
    required: 2,
    doc: 'Read until one of the comma-separated eot patterns; the eot is removed, then NUL, CR and LF.',
  },
  {
    name: 'read_bin_until_tcp',
    params: ['tcp_id', 'eot', 'timeout'],
    required: 2,
    doc: 'Read until one of the eot patterns; the rest as lowercase hex.',
  },
  {
    name: 'wrnrd_tcp',
    params: ['tcp_id', 'data', 'bytes_to_read', 'timeout'],
    required: 3,
    doc: 'Write data, then read exactly bytes_to_read bytes (one atomic exchange).',
  },
  {
    name: 'wrnrd_bin_tcp',
    params: ['tcp_id', 'data', 'bytes_to_read', 'timeout'],
    required: 3,
    doc: 'Write hex data, then read exactly bytes_to_read bytes as hex.',
  },
  {
    name: 'wrnrd_until_tcp',
    params: ['tcp_id', 'data', 'eot', 'timeout'],
    required: 3,
    doc: 'Write data, then read until one of the eot patterns.',
  },
  {
    name: 'wrnrd_bin_until_tcp',
    params: ['tcp_id', 'data', 'eot', 'timeout'],
    required: 3,
    doc: 'Write hex data, then read until one of the eot patterns, as hex.',
  },
  {
    name: 'expect_tcp',
    params: ['tcp_id', 'pattern', 'timeout'],
    required: 2,
    doc: 'Read until pattern has arrived (NUL bytes skipped); answers "Pattern found".',
  },
  { name: 'getapi_tcp', params: [], required: 0, doc: 'This list of functions.' },
];

const API_BY_NAME = new Map(CMD_TCP_API.map((f) => [f.name, f]));

export type Arg = string | number;

/** Calls of code written against cmd_tcp, on a TcpBus. Every method resolves; none rejects. */
export class CmdTcp implements AsyncDisposable {
  readonly bus: TcpBus;
  readonly #ownsBus: boolean;

  /** Wraps `bus`, or a new TcpBus made from `options` (closed by `close()`). */
  constructor(bus: TcpBus | TcpBusOptions = {}) {
    this.#ownsBus = !(bus instanceof TcpBus);
    this.bus = bus instanceof TcpBus ? bus : new TcpBus(bus);
  }

  /** `init_tcp(tcp_id, conf_string)`, or the 2.1.3 form `init_tcp(conf_string)`: the id. */
  init_tcp(idOrConf: Arg, conf?: string): Promise<PyrameResult> {
    return this.#run(() =>
      conf === undefined ? this.bus.init(String(idOrConf)) : this.bus.init(idOrConf, conf),
    );
  }

  /** The canonical key `"<ip>,<port>"`. */
  config_tcp(id: Arg): Promise<PyrameResult> {
    return this.#run(() => this.bus.config(id));
  }

  /** `ok`, or `not configured` (a success). */
  inval_tcp(id: Arg): Promise<PyrameResult> {
    return this.#run(async () => ((await this.bus.inval(id)) ? 'ok' : 'not configured'));
  }

  /** `ok`; an unknown id also succeeds, with the pool's message. */
  deinit_tcp(id: Arg): Promise<PyrameResult> {
    let key: string;
    try {
      key = canonicalLinkId(id);
    } catch (e) {
      // cmd_tcp answers success whenever the pool lookup fails, an unparsable id included.
      if (InvalidIdError.isInstance(e)) return Promise.resolve(pyrameResult(1, e.pyrameMessage));
      throw e;
    }
    return this.#run(async () => {
      if (await this.bus.deinit(key)) return 'ok';
      return `link_id ${key} has not been found in the pool`;
    });
  }

  write_tcp(id: Arg, data: string): Promise<PyrameResult> {
    return this.#run(async () => {
      await this.bus.write(id, data);
      return 'ok';
    });
  }

  write_bin_tcp(id: Arg, data: string): Promise<PyrameResult> {
    return this.#run(async () => {
      await this.bus.writeBin(id, data);
      return 'ok';
    });
  }

  read_tcp(id: Arg, bytesToRead: Arg, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.read(id, bytesToRead, timeout));
  }

  read_bin_tcp(id: Arg, bytesToRead: Arg, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.readBin(id, bytesToRead, timeout));
  }

  read_until_tcp(id: Arg, eot: string, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.readUntil(id, eot, timeout));
  }

  read_bin_until_tcp(id: Arg, eot: string, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.readBinUntil(id, eot, timeout));
  }

  wrnrd_tcp(id: Arg, data: string, bytesToRead: Arg, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.wrnrd(id, data, bytesToRead, timeout));
  }

  wrnrd_bin_tcp(id: Arg, data: string, bytesToRead: Arg, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.wrnrdBin(id, data, bytesToRead, timeout));
  }

  wrnrd_until_tcp(id: Arg, data: string, eot: string, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.wrnrdUntil(id, data, eot, timeout));
  }

  wrnrd_bin_until_tcp(id: Arg, data: string, eot: string, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(() => this.bus.wrnrdBinUntil(id, data, eot, timeout));
  }

  /** `Pattern found`; the bytes consumed are dropped, as in Pyrame (the native `expect` returns them). */
  expect_tcp(id: Arg, pattern: string, timeout: Arg = 'undef'): Promise<PyrameResult> {
    return this.#run(async () => {
      await this.bus.expect(id, pattern, timeout);
      return 'Pattern found';
    });
  }

  /** The API description: one `name(params)` line per function. */
  getapi_tcp(): Promise<PyrameResult> {
    return Promise.resolve(
      pyrameResult(1, CMD_TCP_API.map((f) => `${f.name}(${f.params.join(',')})`).join('\n')),
    );
  }

  /**
   * Calls a cmd_tcp function by name with string arguments, as Pyrame's command protocol does. Unknown
   * functions and wrong argument counts answer retcode 0.
   */
  call(name: string, args: readonly string[]): Promise<PyrameResult> {
    const fn = API_BY_NAME.get(name);
    if (fn === undefined)
      return Promise.resolve(pyrameResult(0, `${CMD_TCP_PREFIX}unknown function ${name}`));
    if (args.length < fn.required || args.length > fn.params.length) {
      const range =
        fn.required === fn.params.length ? `${fn.required}` : `${fn.required} to ${fn.params.length}`;
      return Promise.resolve(
        pyrameResult(
          0,
          `${CMD_TCP_PREFIX}${name} takes ${range} parameter(s) (${fn.params.join(', ')}), got ${args.length}`,
        ),
      );
    }
    const method = (this as unknown as Record<string, (...a: string[]) => Promise<PyrameResult>>)[name]!;
    return method.apply(this, args as string[]);
  }

  /** Closes the bus when this façade created it. */
  async close(): Promise<void> {
    if (this.#ownsBus) await this.bus.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(body: () => string | Promise<string>): Promise<PyrameResult> {
    try {
      return pyrameResult(1, await body());
    } catch (e) {
      return pyrameResult(0, CMD_TCP_PREFIX + pyrameText(e));
    }
  }
}

/** cmd_tcp's text for an error: the bus's `pyrameMessage`, else the error's message. */
export function pyrameText(error: unknown): string {
  if (BusError.isInstance(error)) return error.pyrameMessage;
  return (error as Error)?.message ?? String(error);
}
