// A line-oriented, SCPI-like instrument on 127.0.0.1 for trying the bus (and for tests, benchmarks and the
// demo, which start it in-process). Commands end with LF (a CR before it is ignored); queries answer one
// line ending with LF; set commands answer nothing, as SCPI instruments do. Unknown commands answer nothing
// and queue an error for SYST:ERR?.
//
//   *IDN?                 identification: LABWIRE,TCPBUS-SIM,<serial>,1.0
//   *RST                  value 0, stream off, prompt off, error queue cleared
//   *OPC?                 1
//   VOLT <v> | VOLT?      the settable value (a number), answered as %.6E
//   MEAS?                 a measurement: the value plus a small deterministic ripple
//   STREAM ON|OFF         send "MEAS <reading>" lines every `streamIntervalMs` (at most `maxStreamLines`)
//   PROMPT ON|OFF         send the prompt ("> ", no newline) after every command, and at once when enabled
//   ECHO <text>           answers <text>
//   SYST:ERR?             the oldest queued error, or 0,"No error"

import net from 'node:net';

export interface InstrumentSimOptions {
  /** `127.0.0.1` (default) or `::1`; the simulator only listens on loopback. */
  host?: '127.0.0.1' | '::1';
  /** Default 0: an ephemeral port. */
  port?: number;
  /** The serial number in *IDN?. Default `0001`. */
  serial?: string;
  /** Interval of the measurement stream, in ms. Default 100. */
  streamIntervalMs?: number;
  /** The most lines one stream sends before it stops by itself. Default 10 000. */
  maxStreamLines?: number;
  /** The prompt PROMPT ON sends. Default `"> "`. */
  prompt?: string;
  /** Longest command line accepted; a longer one is discarded with an error. Default 4 096. */
  maxLineBytes?: number;
}

interface Session {
  readonly socket: net.Socket;
  value: number;
  prompt: boolean;
  errors: string[];
  stream: ReturnType<typeof setInterval> | undefined;
  streamed: number;
  measurements: number;
}

const ERR_UNDEFINED_HEADER = '-113,"Undefined header"';
const ERR_DATA = '-104,"Data type error"';
const ERR_TOO_LONG = '-112,"Program mnemonic too long"';
const MAX_ERRORS = 16;

/** SCPI's NR3 form with six decimals and a two-digit exponent: 1.500000E+00. */
function nr3(value: number): string {
  return value
    .toExponential(6)
    .toUpperCase()
    .replace(/E([+-])(\d)$/, 'E$10$2');
}

export class InstrumentSim implements AsyncDisposable {
  readonly host: '127.0.0.1' | '::1';
  readonly #server: net.Server;
  readonly #sessions = new Set<Session>();
  readonly #options: Required<Omit<InstrumentSimOptions, 'host' | 'port'>>;
  #port = 0;
  #commands = 0;
  #accepts = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: InstrumentSimOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.#options = {
      serial: options.serial ?? '0001',
      streamIntervalMs: options.streamIntervalMs ?? 100,
      maxStreamLines: options.maxStreamLines ?? 10_000,
      prompt: options.prompt ?? '> ',
      maxLineBytes: options.maxLineBytes ?? 4096,
    };
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /** Starts listening; resolves once the port is known. */
  static async start(options: InstrumentSimOptions = {}): Promise<InstrumentSim> {
    const sim = new InstrumentSim(options);
    await new Promise<void>((resolve, reject) => {
      sim.#server.once('error', reject);
      sim.#server.listen({ host: sim.host, port: options.port ?? 0 }, () => {
        sim.#server.off('error', reject);
        resolve();
      });
    });
    sim.#port = (sim.#server.address() as net.AddressInfo).port;
    return sim;
  }

  get port(): number {
    return this.#port;
  }

  /** `host:port`, for messages. */
  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.#port}` : `${this.host}:${this.#port}`;
  }

  /** A conf_string for the bus: `tcp(host=…,port=…)`. */
  confString(extra = ''): string {
    return `tcp(host=${this.host},port=${this.#port}${extra})`;
  }

  /** Command lines handled since start. */
  get commands(): number {
    return this.#commands;
  }

  /** Connections accepted since start. */
  get accepts(): number {
    return this.#accepts;
  }

  /** Stops listening, closes every connection and stops every stream. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const s of this.#sessions) this.#end(s);
      this.#server.close(() => resolve());
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #accept(socket: net.Socket): void {
    this.#accepts++;
    socket.setNoDelay(true);
    const session: Session = {
      socket,
      value: 0,
      prompt: false,
      errors: [],
      stream: undefined,
      streamed: 0,
      measurements: 0,
    };
    this.#sessions.add(session);
    let pending = '';
    let discarding = false;
    socket.on('error', () => {});
    socket.on('close', () => this.#end(session));
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let at = pending.indexOf('\n');
      while (at >= 0) {
        const line = pending.slice(0, at);
        pending = pending.slice(at + 1);
        if (discarding) discarding = false;
        else if (line.length > this.#options.maxLineBytes) this.#error(session, ERR_TOO_LONG);
        else this.#handle(session, line.endsWith('\r') ? line.slice(0, -1) : line);
        at = pending.indexOf('\n');
      }
      if (pending.length > this.#options.maxLineBytes) {
        // Refuse to buffer an endless line: drop it up to its LF and remember why.
        pending = '';
        discarding = true;
        this.#error(session, ERR_TOO_LONG);
      }
    });
  }

  #end(session: Session): void {
    if (session.stream !== undefined) clearInterval(session.stream);
    session.stream = undefined;
    this.#sessions.delete(session);
    session.socket.destroy();
  }

  #send(session: Session, text: string): void {
    if (!session.socket.destroyed && session.socket.writable) session.socket.write(text);
  }

  #error(session: Session, error: string): void {
    if (session.errors.length < MAX_ERRORS) session.errors.push(error);
  }

  #reading(session: Session): string {
    // A deterministic ripple so that successive readings differ without randomness.
    const ripple = Math.sin(session.measurements++ / 3) * 1e-3;
    return nr3(session.value + ripple);
  }

  #handle(session: Session, line: string): void {
    this.#commands++;
    const text = line.trim();
    const space = text.indexOf(' ');
    const header = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const arg = space < 0 ? '' : text.slice(space + 1).trim();
    switch (header) {
      case '':
        break;
      case '*IDN?':
        this.#send(session, `LABWIRE,TCPBUS-SIM,${this.#options.serial},1.0\n`);
        break;
      case '*RST':
        session.value = 0;
        session.prompt = false;
        session.errors = [];
        if (session.stream !== undefined) clearInterval(session.stream);
        session.stream = undefined;
        break;
      case '*OPC?':
        this.#send(session, '1\n');
        break;
      case 'VOLT':
      case 'SOUR:VOLT': {
        const v = Number(arg);
        if (arg === '' || !Number.isFinite(v)) this.#error(session, ERR_DATA);
        else session.value = v;
        break;
      }
      case 'VOLT?':
      case 'SOUR:VOLT?':
        this.#send(session, `${nr3(session.value)}\n`);
        break;
      case 'MEAS?':
      case 'MEAS:VOLT?':
        this.#send(session, `${this.#reading(session)}\n`);
        break;
      case 'STREAM':
        this.#stream(session, arg.toUpperCase());
        break;
      case 'PROMPT':
        if (arg.toUpperCase() === 'ON') session.prompt = true;
        else if (arg.toUpperCase() === 'OFF') session.prompt = false;
        else this.#error(session, ERR_DATA);
        break;
      case 'ECHO':
        this.#send(session, `${arg}\n`);
        break;
      case 'SYST:ERR?':
        this.#send(session, `${session.errors.shift() ?? '0,"No error"'}\n`);
        break;
      default:
        this.#error(session, ERR_UNDEFINED_HEADER);
    }
    if (session.prompt) this.#send(session, this.#options.prompt);
  }

  #stream(session: Session, mode: string): void {
    if (mode === 'OFF') {
      if (session.stream !== undefined) clearInterval(session.stream);
      session.stream = undefined;
      return;
    }
    if (mode !== 'ON') {
      this.#error(session, ERR_DATA);
      return;
    }
    if (session.stream !== undefined) return;
    session.streamed = 0;
    session.stream = setInterval(() => {
      if (session.streamed++ >= this.#options.maxStreamLines) {
        clearInterval(session.stream);
        session.stream = undefined;
        return;
      }
      this.#send(session, `MEAS ${this.#reading(session)}\n`);
    }, this.#options.streamIntervalMs);
  }
}
