// `pymodaq serve`: a PyMoDAQ TCP server driven from a console or a script. Every command waits for a
// client of the type it needs (so a script may start before the instruments connect) and prints what
// comes back; events from the clients (connects, Infos, pushed data, errors) are printed as they come,
// above the prompt. The console is @labwire/cli-kit's InteractiveShell: prompt, line editing, history,
// Tab completion; Ctrl-C cancels the running command (or clears the line), Ctrl-D leaves. Strings from
// the clients are escaped before they are printed.

import fs from 'node:fs/promises';
import {
  checkListenHost,
  escapeControl,
  formatTable,
  InteractiveShell,
  ShellInterrupt,
  terminalWidth,
  UsageError,
} from '@labwire/cli-kit';
import {
  type ClientType,
  GRAB_DIMS,
  type GrabDim,
  PymodaqServer,
  parameter,
  type ServerRole,
} from '@labwire/pymodaq';
import { formatClient, formatData, formatError, formatPosition } from './format';
import { line, type PymodaqIo } from './io';

export interface ServeOptions {
  role: ServerRole;
  protocol: string;
  host: string;
  port: number;
  /** The user allowed a non-loopback host (--allow-remote). */
  allowRemote?: boolean;
  /** Read no commands: serve until the signal (--no-console). */
  console?: boolean;
  /** Keep the console history in this file. */
  history?: string | undefined;
  /** Run these commands, then stop (instead of reading a prompt). */
  script?: string | undefined;
  /** Deadline of each command, including the wait for a client (ms). */
  timeoutMs: number;
  /** Deadline of moves (ms). */
  moveTimeoutMs: number;
}

interface CommandSpec {
  usage: string;
  help: string;
  run(console: ServeConsole, args: string[]): Promise<string[] | 'quit'>;
}

function number(text: string | undefined, what: string): number {
  const v = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(v)) {
    throw new Error(`${what} must be a number, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
  }
  return v;
}

function clientType(text: string | undefined): ClientType | undefined {
  switch (text?.toLowerCase()) {
    case undefined:
    case 'any':
      return undefined;
    case 'actuator':
      return 'ACTUATOR';
    case 'detector':
    case 'grabber':
      return 'GRABBER';
    default:
      throw new Error(`expected actuator, detector or any, got ${JSON.stringify(text)}`);
  }
}

const COMMANDS: Record<string, CommandSpec> = {
  move_abs: {
    usage: 'move_abs <position> [units]',
    help: 'move the actuator to an absolute position',
    run: async (c, [x, units]) => {
      await c.need('ACTUATOR');
      const p = await c.server.moveAbs(number(x, 'position'), { ...c.call(c.moveTimeoutMs), units });
      return [`move_done ${formatPosition(p)}`];
    },
  },
  move_rel: {
    usage: 'move_rel <offset> [units]',
    help: 'move the actuator by an offset',
    run: async (c, [x, units]) => {
      await c.need('ACTUATOR');
      const p = await c.server.moveRel(number(x, 'offset'), { ...c.call(c.moveTimeoutMs), units });
      return [`move_done ${formatPosition(p)}`];
    },
  },
  move_home: {
    usage: 'move_home',
    help: 'move the actuator home',
    run: async (c) => {
      await c.need('ACTUATOR');
      return [`move_done ${formatPosition(await c.server.moveHome(c.call(c.moveTimeoutMs)))}`];
    },
  },
  get_actuator_value: {
    usage: 'get_actuator_value',
    help: 'ask the actuator where it is (aliases: get, check_position)',
    run: async (c) => {
      await c.need('ACTUATOR');
      return [`position_is ${formatPosition(await c.server.getActuatorValue(c.call(c.timeoutMs)))}`];
    },
  },
  stop_motion: {
    usage: 'stop_motion',
    help: 'stop the actuator (alias: stop)',
    run: async (c) => {
      await c.need('ACTUATOR');
      await c.server.stopMotion(c.call(c.timeoutMs));
      return ['stop_motion sent'];
    },
  },
  grab: {
    usage: 'grab <0D|1D|2D|ND>',
    help: 'ask the detector for data',
    run: async (c, [dim]) => {
      const d = (dim ?? '').toUpperCase() as GrabDim;
      if (!GRAB_DIMS.includes(d)) throw new Error(`grab needs 0D, 1D, 2D or ND, got ${JSON.stringify(dim)}`);
      await c.need('GRABBER');
      const data = await c.server.grab(d, c.call(c.timeoutMs));
      return [`Done ${data.name}`, ...formatData(data).map((l) => `  ${l}`)];
    },
  },
  set_info: {
    usage: 'set_info <actuator|detector> <path/to/param> <value> [type]',
    help: 'change a client parameter (e.g. set_info detector exposure 0.2 float)',
    run: async (c, [who, path, value, type]) => {
      const t = clientType(who);
      if (path === undefined || value === undefined)
        throw new Error('set_info needs a client type, a path and a value');
      await c.need(t);
      const names = path.split('/').filter((n) => n !== '');
      const node = parameter(names[names.length - 1]!, { type: type ?? 'str', value });
      await c.server.setInfo(names, node, { ...c.call(c.timeoutMs), type: t });
      return [`set_info ${names.join('/')} = ${value}`];
    },
  },
  clients: {
    usage: 'clients',
    help: 'list the connected clients',
    run: async (c) => {
      const list = c.server.clients;
      return list.length === 0
        ? ['no clients']
        : list.map((x) => `${formatClient(x)}${x.units ? ` units=${escapeControl(x.units)}` : ''}`);
    },
  },
  wait: {
    usage: 'wait [actuator|detector|any]',
    help: 'wait until a client of that type is connected',
    run: async (c, [who]) => {
      const client = await c.server.waitForClient(clientType(who), c.call(c.timeoutMs));
      return [`client ${formatClient(client)}`];
    },
  },
  sleep: {
    usage: 'sleep <ms>',
    help: 'pause the script',
    run: async (_c, [ms]) => {
      const duration = Math.min(60_000, Math.max(0, number(ms, 'duration')));
      await new Promise((r) => setTimeout(r, duration));
      return [];
    },
  },
  help: {
    usage: 'help',
    help: 'this list',
    run: async (c) =>
      formatTable(
        Object.values(COMMANDS).map((s) => [s.usage, s.help]),
        { width: c.width, verticalBelow: 0 },
      ).split('\n'),
  },
  quit: {
    usage: 'quit',
    help: 'close the server (alias: exit)',
    run: async () => 'quit',
  },
};
const ALIASES: Record<string, string> = {
  get: 'get_actuator_value',
  check_position: 'get_actuator_value',
  stop: 'stop_motion',
  exit: 'quit',
};

/** Executes console command lines against a server. */
export class ServeConsole {
  readonly server: PymodaqServer;
  readonly timeoutMs: number;
  readonly moveTimeoutMs: number;
  /** Columns of the terminal, for tables. */
  readonly width: number;
  readonly #signal: AbortSignal | undefined;
  #command: AbortSignal | undefined;

  constructor(
    server: PymodaqServer,
    options: { timeoutMs: number; moveTimeoutMs: number; signal?: AbortSignal | undefined; width?: number },
  ) {
    this.server = server;
    this.timeoutMs = options.timeoutMs;
    this.moveTimeoutMs = options.moveTimeoutMs;
    this.width = options.width ?? 80;
    this.#signal = options.signal;
  }

  /** Per-call options: a deadline, and a signal for the console's end and the running command's Ctrl-C. */
  call(timeoutMs: number): { timeoutMs: number; signal?: AbortSignal } {
    const signals = [this.#signal, this.#command].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length === 0) return { timeoutMs };
    return { timeoutMs, signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals) };
  }

  /** Waits (bounded) until a client of `type` is connected. */
  async need(type: ClientType | undefined): Promise<void> {
    const role = this.server.role;
    if ((type === 'ACTUATOR' && role === 'detector') || (type === 'GRABBER' && role === 'actuator')) {
      throw new Error(`a ${role} server has no ${type === 'ACTUATOR' ? 'actuator' : 'detector'} clients`);
    }
    await this.server.waitForClient(type, this.call(this.timeoutMs));
  }

  /**
   * Runs one line; returns the lines to print, or 'quit'. Empty lines and `#` comments do nothing.
   * `signal` cancels this command only (Ctrl-C).
   */
  async execute(text: string, signal?: AbortSignal): Promise<string[] | 'quit'> {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return [];
    const [word, ...args] = trimmed.split(/\s+/);
    const name = ALIASES[word!.toLowerCase()] ?? word!.toLowerCase();
    const spec = COMMANDS[name];
    if (spec === undefined) throw new Error(`unknown command ${JSON.stringify(word)}; try help`);
    this.#command = signal;
    try {
      return await spec.run(this, args);
    } finally {
      this.#command = undefined;
    }
  }
}

/** Console words for Tab completion. */
const WORDS = [...Object.keys(COMMANDS), ...Object.keys(ALIASES)].sort();

function complete(line: string): [string[], string] {
  const word = line.trimStart();
  if (word.includes(' ')) return [[], line];
  const hits = WORDS.filter((w) => w.startsWith(word));
  return [hits.length > 0 ? hits : WORDS, line];
}

function printEvents(server: PymodaqServer, out: (text: string) => void): void {
  server.on('client', (c) => out(`+ client ${formatClient(c)}`));
  server.on('clientClosed', (e) => out(`- client ${e.client.id} left (${escapeControl(e.reason)})`));
  server.on('rejected', (e) => out(`! rejected ${e.remoteAddress}:${e.remotePort}: ${formatError(e.error)}`));
  server.on('clientError', (e) => out(`! ${e.client.id}: ${formatError(e.error)}`));
  server.on('infos', (e) =>
    out(
      `  infos ${e.client.id}: ${escapeControl(e.settings.children.map((p) => (p.value === undefined ? p.name : `${p.name}=${p.value}`)).join(', ')) || '(empty)'}`,
    ),
  );
  server.on('info', (e) => out(`  info ${e.client.id}: ${escapeControl(`${e.name} = ${e.value}`)}`));
  server.on('infoXml', (e) =>
    out(`  info_xml ${e.client.id}: ${escapeControl(`${e.path.join('/')} = ${e.parameter.value ?? ''}`)}`),
  );
  server.on('data', (e) => {
    if (e.solicited) return;
    out(`  data ${e.client.id} (pushed) ${escapeControl(e.data.name)}`);
    for (const l of formatData(e.data)) out(`    ${l}`);
  });
  server.on('position', (e) => {
    if (!e.solicited) out(`  ${e.kind} ${e.client.id} (unrequested) ${formatPosition(e.position)}`);
  });
  server.on('axis', (e) => out(`  ${e.which} ${e.client.id}: ${escapeControl(`${e.label} (${e.units})`)}`));
}

/** Runs `pymodaq serve`; resolves with the exit status. */
export async function serve(options: ServeOptions, io: PymodaqIo): Promise<number> {
  const warning = await checkListenHost(options.host, { allowRemote: options.allowRemote === true });
  // Read the script first: a missing file is the user's mistake, found before anything listens.
  let script: string | undefined;
  if (options.script !== undefined) {
    try {
      script = await fs.readFile(options.script, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(
        `cannot read the script ${options.script}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      );
    }
  }
  const server = new PymodaqServer({
    protocol: options.protocol,
    role: options.role,
    host: options.host,
    port: options.port,
    timeoutMs: options.timeoutMs,
    moveTimeoutMs: options.moveTimeoutMs,
  });
  let address: { host: string; port: number };
  try {
    address = await server.listen();
  } catch (error) {
    await server.close();
    const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = e.code === 'EADDRINUSE' || e.cause?.code === 'EADDRINUSE' ? 'EADDRINUSE' : e.code;
    const why = code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message;
    throw Object.assign(new Error(`cannot listen on ${options.host}:${options.port}: ${why}`), { code });
  }
  if (warning !== undefined) line(io.stderr, `pymodaq: ${warning}`);
  line(io.stdout, `listening on ${address.host}:${address.port}`);
  line(io.stdout, `role ${options.role}, protocol ${server.profile.description}`);
  const commands = new ServeConsole(server, {
    ...options,
    signal: io.signal,
    width: terminalWidth(io.stdout, io.env),
  });
  let status = 0;
  const run = async (text: string, signal?: AbortSignal): Promise<boolean> => {
    try {
      const result = await commands.execute(text, signal);
      if (result === 'quit') return false;
      for (const l of result) print(l);
    } catch (e) {
      status = 1;
      const cancelled = signal?.aborted && signal.reason instanceof ShellInterrupt;
      line(io.stderr, cancelled ? 'cancelled (Ctrl-C)' : `error: ${formatError(e)}`);
    }
    return !io.signal?.aborted;
  };
  let shell: InteractiveShell | undefined;
  const print = (text: string) => (shell ? shell.print(text) : line(io.stdout, text));
  printEvents(server, print);
  try {
    if (script !== undefined) {
      for (const l of script.split(/\r?\n/)) {
        if (l.trim() !== '' && !l.trim().startsWith('#')) line(io.stdout, `> ${escapeControl(l.trim())}`);
        if (!(await run(l))) break;
      }
    } else if (io.stdin !== undefined && options.console !== false) {
      shell = new InteractiveShell({
        input: io.stdin,
        output: io.stdout as unknown as NodeJS.WritableStream,
        prompt: 'pymodaq> ',
        terminal: io.terminal ?? (io.stdin as { isTTY?: boolean }).isTTY === true,
        historyFile: options.history,
        completer: complete,
        run: async (text, signal) => ((await run(text, signal)) ? undefined : 'quit'),
      });
      const stop = () => shell?.close();
      io.signal?.addEventListener('abort', stop, { once: true });
      try {
        await shell.run();
      } finally {
        io.signal?.removeEventListener('abort', stop);
        shell = undefined;
      }
    } else if (io.signal !== undefined && !io.signal.aborted) {
      await new Promise((resolve) => io.signal!.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    await server.close();
    line(io.stdout, 'server closed');
  }
  return status;
}
