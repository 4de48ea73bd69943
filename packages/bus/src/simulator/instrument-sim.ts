// A line-oriented, SCPI-like instrument for trying the bus, and for tests, benchmarks and demos that start
// it in-process (the `tcpbus sim` command runs it as a program). It listens on 127.0.0.1 unless told
// otherwise. Commands end with LF (a CR before it is ignored); queries answer one line ending with LF; set
// commands answer nothing, as SCPI instruments do. Unknown commands answer nothing and queue an error for
// SYST:ERR?.
//
//   *IDN?                 identification: LABWIRE,TCPBUS-SIM,<serial>,1.0
//   *RST                  value 0, stream off, prompt off, error queue cleared
//   *OPC?                 1
//   VOLT <v> | VOLT?      the settable value (a number), answered as %.6E
//   MEAS?                 a measurement: the value plus a small deterministic ripple
//   STREAM ON|OFF         send "MEAS <reading>" lines every `streamIntervalMs` (at most `maxStreamLines`)
//   PROMPT ON|OFF         send the prompt ("> ", no newline) after every command, and at once when enabled
//   ECHO <bytes>          answers the bytes after "ECHO ", unchanged (any byte but LF; a final CR is the
//                         line end's)
//   SYST:ERR?             the oldest queued error, or 0,"No error"
//
// Bytes, not text: a line is read as latin1 (one character per byte) and replies are written as latin1,
// so ECHO gives back exactly the bytes it got (0xff stays 0xff).
//
// No client can make it hoard memory: when a client does not read its replies (the socket's write buffer
// is over its high-water mark), the simulator stops reading that client's commands and resumes on
// `drain`; the client's further bytes wait in the kernel, and TCP flow control stops the sender. What the
// simulator holds per client is bounded by one input chunk (or one line) plus the socket's buffer. A
// measurement stream skips its lines while the client is not reading. A line longer than `maxLineBytes`
// is dropped (with an error), never buffered.

import net from 'node:net';

export interface InstrumentSimOptions {
  /**
   * Where to listen. Default `127.0.0.1`. Anything but a loopback address exposes the simulator to the
   * network: that is the caller's decision (the `tcpbus sim` command asks for --allow-remote).
   */
  host?: string;
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
  /** Received bytes (latin1) not yet handled, from `at` on. */
  pending: string;
  at: number;
  /** Dropping the rest of an over-long line, up to its LF. */
  discarding: boolean;
  /** Reading is paused until the socket drains. */
  blocked: boolean;
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

/** What a simulator holds for its clients right now, and the most it ever held for one. */
export interface InstrumentSimStats {
  /** Open connections. */
  open: number;
  /** Connections whose commands are not read because their replies have not drained. */
  paused: number;
  /** The most bytes held for one connection since start: unhandled input plus unsent replies. */
  peakBufferedBytes: number;
  /** Stream lines skipped because their client was not reading. */
  droppedStreamLines: number;
}

export class InstrumentSim implements AsyncDisposable {
  readonly host: string;
  readonly #server: net.Server;
  readonly #sessions = new Set<Session>();
  readonly #options: Required<Omit<InstrumentSimOptions, 'host' | 'port'>>;
  #port = 0;
  #commands = 0;
  #accepts = 0;
  #paused = 0;
  #peakBuffered = 0;
  #droppedStreamLines = 0;
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

  /** Open and paused connections, and the most bytes ever held for one (see the file comment). */
  get stats(): InstrumentSimStats {
    return {
      open: this.#sessions.size,
      paused: this.#paused,
      peakBufferedBytes: this.#peakBuffered,
      droppedStreamLines: this.#droppedStreamLines,
    };
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
      pending: '',
      at: 0,
      discarding: false,
      blocked: false,
      value: 0,
      prompt: false,
      errors: [],
      stream: undefined,
      streamed: 0,
      measurements: 0,
    };
    this.#sessions.add(session);
    socket.on('error', () => {});
    socket.on('close', () => this.#end(session));
    socket.on('drain', () => {
      if (!session.blocked) return;
      session.blocked = false;
      this.#paused--;
      socket.resume();
      this.#pump(session);
    });
    socket.on('data', (chunk: Buffer) => {
      session.pending = session.pending.slice(session.at) + chunk.toString('latin1');
      session.at = 0;
      this.#pump(session);
    });
  }

  /** Handles the complete lines received, until they run out or the client stops reading replies. */
  #pump(session: Session): void {
    const max = this.#options.maxLineBytes;
    let lf = session.pending.indexOf('\n', session.at);
    while (lf >= 0 && !session.blocked && !session.socket.destroyed) {
      const line = session.pending.slice(session.at, lf);
      session.at = lf + 1;
      if (session.discarding) session.discarding = false;
      else if (line.length > max) this.#error(session, ERR_TOO_LONG);
      else this.#handle(session, line.endsWith('\r') ? line.slice(0, -1) : line);
      lf = session.pending.indexOf('\n', session.at);
    }
    if (session.at > 0 && (lf < 0 || session.at === session.pending.length)) {
      session.pending = session.pending.slice(session.at);
      session.at = 0;
    }
    if (lf < 0 && session.pending.length - session.at > max) {
      // Refuse to buffer an endless line: drop it up to its LF and remember why.
      session.pending = '';
      session.at = 0;
      session.discarding = true;
      this.#error(session, ERR_TOO_LONG);
    }
    this.#measure(session);
  }

  #measure(session: Session): void {
    const held = session.pending.length - session.at + session.socket.writableLength;
    if (held > this.#peakBuffered) this.#peakBuffered = held;
  }

  #end(session: Session): void {
    if (session.stream !== undefined) clearInterval(session.stream);
    session.stream = undefined;
    if (session.blocked) {
      session.blocked = false;
      this.#paused--;
    }
    session.pending = '';
    session.at = 0;
    this.#sessions.delete(session);
    session.socket.destroy();
  }

  /** Writes a reply (latin1: byte for byte); a full write buffer pauses reading until `drain`. */
  #send(session: Session, text: string): void {
    const socket = session.socket;
    if (socket.destroyed || !socket.writable) return;
    const flushed = socket.write(text, 'latin1');
    this.#measure(session);
    if (flushed || session.blocked) return;
    session.blocked = true;
    this.#paused++;
    socket.pause();
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
    // Only ASCII blanks separate words: trim() would also eat bytes such as 0xa0 (NBSP in latin1).
    const text = line.replace(/^[ \t]+/, '');
    const space = text.indexOf(' ');
    const header = (space < 0 ? text.replace(/[ \t]+$/, '') : text.slice(0, space)).toUpperCase();
    const raw = space < 0 ? '' : text.slice(space + 1);
    const arg = raw.replace(/^[ \t]+|[ \t]+$/g, '');
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
        this.#send(session, `${raw}\n`);
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
      // A client that does not read loses stream lines rather than piling them up here.
      if (session.blocked || session.socket.writableNeedDrain) {
        this.#droppedStreamLines++;
        return;
      }
      this.#send(session, `MEAS ${this.#reading(session)}\n`);
    }, this.#options.streamIntervalMs);
  }
}
