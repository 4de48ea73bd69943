// Which wire generation does a PyMoDAQ server speak? Nothing on the wire says so and the server sends
// nothing until it has a client (docs/protocols/pymodaq.md §0, §8.1), but the generations split in two families at the very
// first message: the type string is a bare `str` in A–C and a tagged frame in D (docs/protocols/pymodaq.md §6.1). A server closes
// the connection on a type string it does not take (docs/protocols/pymodaq.md §8.5, §9 f). So the probe identifies, and
// watches whether the server keeps the connection.
//
// Order matters. A 4.x (or older) server reads a gen D type frame as a 19-byte string, logs "… is not a
// valid type" and closes: harmless. A connection is never closed before its handshake went out: PyMoDAQ
// reads the type string as soon as it accepts, and an EOF there makes it spin forever (§9 a); so the
// greeting check (nothing may arrive before the handshake) waits on the first handshake's connection. A real 5.0 server that reads a gen A–C type string fails inside its
// polling loop and never serves anyone again (§9 d). So the probe tries D first (ACTUATOR, then GRABBER)
// and tries A–C only when D was refused both ways, i.e. the server is not a 5.x one. Every connection that
// was accepted is left with `Quit` (a server that loses a client silently spins, §9 a).
//
// Within A–C the bytes of a handshake tell nothing more; when the server sends a command while the probe
// listens (a move, a set_info), its payload narrows the family down to the generations that decode it.

import net from 'node:net';
import { AbortedError, checkTimeout } from '@labwire/framing';
import { decodeMessage, type Generation, type PymodaqProfile, resolveProfile } from './codec';
import { type ClientType, grabDimOf, SERVER_COMMANDS, ServerCommand } from './commands';

/** What one connection of the probe showed. */
type ProbeStep = ProbeResult['steps'][number];

export interface ProbeResult {
  readonly host: string;
  readonly port: number;
  /**
   * `pymodaq`: a PyMoDAQ TCP server took a handshake; `not-pymodaq`: the peer greeted first or refused
   * every handshake; `unreachable`: nothing accepted a connection.
   */
  readonly verdict: 'pymodaq' | 'not-pymodaq' | 'unreachable';
  /** The generations consistent with what the server did, the one to try first first. */
  readonly generations: readonly Generation[];
  /** How sure: `confirmed` (the server sent a command of that generation) or `likely` (it kept the link). */
  readonly confidence: 'confirmed' | 'likely' | 'none';
  /** The type strings the server took (`ACTUATOR`: a DAQ_Move server, `GRABBER`: a DAQ_Viewer server). */
  readonly accepts: readonly ClientType[];
  /** A command the server sent while the probe listened, if any. */
  readonly command: string | undefined;
  /** Every connection, in order. */
  readonly steps: readonly {
    /** What the probe sent: `D ACTUATOR`, `A-C GRABBER`. */
    readonly sent: string;
    /**
     * `greeted`: the peer spoke before the handshake (then nothing was sent); `closed` / `reset`: it ended
     * the connection (a refusal); `silent`: it kept the connection quiet; `data`: it sent something.
     */
    readonly outcome: 'refused' | 'connect-timeout' | 'greeted' | 'closed' | 'reset' | 'silent' | 'data';
    /** Milliseconds from the handshake (or the connect) to the outcome. */
    readonly afterMs: number;
    /** The bytes the server sent on this connection (at most 4 KiB kept). */
    readonly bytes: Uint8Array;
  }[];
  /** One sentence saying what was found. */
  readonly summary: string;
}

const KEEP_BYTES = 4096;
/** After the first byte of a command, how long a pause ends the message. */
const QUIET_MS = 100;

const DESCRIPTION: Record<Generation, string> = {
  A: 'PyMoDAQ 1.6.0-2.0.0',
  B: 'PyMoDAQ 2.0.1-4.0.x',
  C1: 'PyMoDAQ 4.1.0-4.1.2',
  C2: 'PyMoDAQ 4.1.3-4.1.5',
  C3: 'PyMoDAQ 4.2-4.3',
  C4: 'PyMoDAQ 4.4',
  D: 'PyMoDAQ 5',
};

/** The A–C family, the one most in use first. */
const FAMILY_AC: readonly Generation[] = ['C4', 'C3', 'C2', 'C1', 'B', 'A'];

/**
 * The generations whose server could have sent `bytes` as its first message to a client: a command (a
 * known server command, docs/protocols/pymodaq.md §7) and, for moves and set_info, the payload that follows. Gen D frames name
 * themselves; A–C are told apart by the payload only (a scalar position is A or B, a DataActuator C1–C4
 * by its layout, a set_info path A or B–C). Empty when no generation reads the bytes as a server message.
 */
export function generationsOfServerBytes(bytes: Uint8Array): { generations: Generation[]; command?: string } {
  const found: Generation[] = [];
  let command: string | undefined;
  for (const generation of ['D', ...FAMILY_AC] as Generation[]) {
    const p = resolveProfile(generation);
    let cmd: string;
    let used: number;
    try {
      const c = decodeMessage(bytes, p, 'command');
      cmd = c.value;
      used = c.bytesUsed;
    } catch {
      continue;
    }
    if (!SERVER_COMMANDS.includes(cmd) && grabDimOf(cmd) === undefined) continue;
    const rest = bytes.subarray(used);
    if (!payloadFits(rest, p, cmd)) continue;
    found.push(generation);
    command ??= cmd;
  }
  return command === undefined ? { generations: found } : { generations: found, command };
}

/**
 * Whether `rest` (the bytes after a command) is the payload `command` takes in `p`, ending where the bytes
 * end or where the next command of `p` starts (an older layout reading a newer one stops early: excluded).
 */
function payloadFits(rest: Uint8Array, p: PymodaqProfile, command: string): boolean {
  let used = 0;
  try {
    if (command === ServerCommand.moveAbs || command === ServerCommand.moveRel) {
      used = decodeMessage(rest, p, 'position').bytesUsed;
    } else if (command === ServerCommand.setInfo) {
      used = decodeMessage(rest, p, 'path').bytesUsed;
      used += decodeMessage(rest.subarray(used), p, 'string').bytesUsed;
    }
  } catch {
    return false;
  }
  if (used === rest.length) return true;
  try {
    const next = decodeMessage(rest.subarray(used), p, 'command').value;
    return SERVER_COMMANDS.includes(next) || grabDimOf(next) !== undefined;
  } catch {
    return false;
  }
}

/** The handshake of one family: a `str` (A–C) or a tagged frame (D). */
function typeBytes(family: 'D' | 'A-C', type: ClientType): Uint8Array {
  return resolveProfile(family === 'D' ? 'D' : 'C4').encodeCommand(type);
}

function quitBytes(family: 'D' | 'A-C'): Uint8Array {
  return resolveProfile(family === 'D' ? 'D' : 'C4').encodeCommand(ServerCommand.quit);
}

/**
 * One connection: connect, listen `greetingMs` (nothing may come), send `hello`, watch for `waitMs`, say
 * Quit when the connection was kept.
 */
function attempt(
  host: string,
  port: number,
  sent: string,
  hello: Uint8Array,
  quit: Uint8Array,
  greetingMs: number,
  waitMs: number,
  connectTimeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ProbeStep> {
  return new Promise<ProbeStep>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let started = performance.now();
    let settled = false;
    let said = false;
    let watch: ReturnType<typeof setTimeout> | undefined;
    const socket = net.connect({ host, port, noDelay: true });
    socket.on('error', () => {});
    const finish = (outcome: ProbeStep['outcome'], say: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(watch);
      signal?.removeEventListener('abort', onAbort);
      const bytes = new Uint8Array(Buffer.concat(chunks));
      const step: ProbeStep = { sent, outcome, afterMs: Math.round(performance.now() - started), bytes };
      if (say && !socket.destroyed) {
        // Said before closing: PyMoDAQ's server spins on a client that leaves without Quit (docs/protocols/pymodaq.md §9 a).
        socket.end(quit);
        setTimeout(() => socket.destroy(), 500).unref();
      } else socket.destroy();
      resolve(step);
    };
    const onAbort = () => {
      if (settled) return;
      settled = true;
      clearTimeout(watch);
      socket.destroy();
      reject(new AbortedError('probe', signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    watch = setTimeout(() => finish('connect-timeout', false), connectTimeoutMs);
    const sayHello = () => {
      said = true;
      started = performance.now();
      socket.write(hello);
      watch = setTimeout(() => finish('silent', true), waitMs);
    };
    socket.once('connect', () => {
      clearTimeout(watch);
      started = performance.now();
      if (greetingMs > 0) watch = setTimeout(sayHello, greetingMs);
      else sayHello();
    });
    socket.on('data', (chunk: Buffer) => {
      if (kept < KEEP_BYTES) {
        chunks.push(chunk.subarray(0, KEEP_BYTES - kept));
        kept += Math.min(chunk.length, KEEP_BYTES - kept);
      }
      clearTimeout(watch);
      // Not a PyMoDAQ server: it spoke first. Nothing is sent to it.
      if (!said) return finish('greeted', false);
      // The rest of the message: until a short pause.
      watch = setTimeout(() => finish('data', true), QUIET_MS);
    });
    socket.once('end', () => finish(kept > 0 ? 'data' : 'closed', false));
    socket.once('close', (hadError) => {
      if (!socket.connecting) finish(kept > 0 ? 'data' : hadError ? 'reset' : 'closed', false);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish('refused', false);
      else if (e.code === 'ECONNRESET') finish(kept > 0 ? 'data' : 'reset', false);
      else finish('refused', false);
    });
  });
}

/**
 * Tells which generation the PyMoDAQ server at `host:port` speaks, from its first bytes or from which
 * handshakes it refuses (see the top of this file for the order and why it is safe). Resolves with a
 * result in every case (unreachable, not PyMoDAQ); rejects only when `signal` aborts.
 */
export async function probePymodaq(
  options: {
    /** Default `127.0.0.1`. */
    host?: string;
    /** Default 6341. */
    port?: number;
    /**
     * How long to watch each handshake: a close within it is a refusal, silence an acceptance. PyMoDAQ
     * closes within a few hundred ms (its poll timer is 100 ms). Default 1500.
     */
    waitMs?: number;
    /** Silence expected right after connecting (PyMoDAQ sends nothing before the handshake). Default 300. */
    greetingMs?: number;
    /** Deadline of each connect. Default 3000. */
    connectTimeoutMs?: number;
    signal?: AbortSignal;
  } = {},
): Promise<ProbeResult> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 6341;
  const waitMs = checkTimeout(options.waitMs, 1500);
  const greetingMs = checkTimeout(options.greetingMs, 300);
  const connectTimeoutMs = checkTimeout(options.connectTimeoutMs, 3000);
  const signal = options.signal;
  const steps: ProbeStep[] = [];
  const run = async (sent: string, hello: Uint8Array, quit: Uint8Array, greeting: number) => {
    const step = await attempt(host, port, sent, hello, quit, greeting, waitMs, connectTimeoutMs, signal);
    steps.push(step);
    return step;
  };
  const result = (
    verdict: ProbeResult['verdict'],
    generations: Generation[],
    confidence: ProbeResult['confidence'],
    accepts: ClientType[],
    summary: string,
    command?: string,
  ): ProbeResult => ({ host, port, verdict, generations, confidence, accepts, command, steps, summary });

  // D first (harmless to older servers), then A–C. The first connection also checks that the peer says
  // nothing before the handshake, as a PyMoDAQ server does.
  for (const family of ['D', 'A-C'] as const) {
    for (const type of ['ACTUATOR', 'GRABBER'] as const) {
      const first = steps.length === 0;
      const hello = typeBytes(family, type);
      const step = await run(`${family} ${type}`, hello, quitBytes(family), first ? greetingMs : 0);
      if (step.outcome === 'refused' || step.outcome === 'connect-timeout') {
        const what = first
          ? `nothing accepts connections at ${host}:${port}`
          : `${host}:${port} stopped accepting connections`;
        return result('unreachable', [], 'none', [], what);
      }
      if (step.outcome === 'greeted') {
        const what = 'the peer spoke first: PyMoDAQ servers send nothing before a handshake';
        return result('not-pymodaq', [], 'none', [], what);
      }
      if (step.outcome === 'closed' || step.outcome === 'reset') continue;
      const familyGens: Generation[] = family === 'D' ? ['D'] : [...FAMILY_AC];
      const role = type === 'ACTUATOR' ? 'an actuator (DAQ_Move)' : 'a detector (DAQ_Viewer)';
      if (step.outcome === 'data') {
        const seen = generationsOfServerBytes(step.bytes);
        const narrowed = familyGens.filter((g) => seen.generations.includes(g));
        if (narrowed.length > 0) {
          return result(
            'pymodaq',
            narrowed,
            'confirmed',
            [type],
            `${role} server speaking ${narrowed.map((g) => `${g} (${DESCRIPTION[g]})`).join(' or ')}: it took the ${family} handshake and sent ${seen.command}`,
            seen.command,
          );
        }
        return result(
          'not-pymodaq',
          [],
          'none',
          [],
          `the peer took the ${family} handshake but answered with bytes no PyMoDAQ server sends`,
        );
      }
      const also =
        family === 'D'
          ? ''
          : '; A, B and C1-C4 cannot be told apart before the server sends a move or a set_info';
      const caveat = family === 'D' ? ' (or a PyMoDAQ 1.6 server, which keeps connections of any type)' : '';
      return result(
        'pymodaq',
        familyGens,
        'likely',
        [type],
        `${role} server speaking ${family === 'D' ? 'D (PyMoDAQ 5)' : 'A-C (PyMoDAQ 1.6-4.4)'}${caveat}: it kept the ${family} ${type} handshake${family === 'D' ? '' : ' after refusing both D handshakes'}${also}`,
      );
    }
  }
  return result(
    'not-pymodaq',
    [],
    'none',
    [],
    'every handshake was refused (ACTUATOR and GRABBER, in D and in A-C): not a PyMoDAQ TCP server, or one with no free slot',
  );
}
