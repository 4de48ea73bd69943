// `pymodaq client actuator|detector`: a simulated instrument that connects to a PyMoDAQ server (a real
// PyMoDAQ TCPServer plugin or `pymodaq serve`): a stage moving at a finite speed, or a camera returning a
// noisy 2-D gaussian. Runs until the signal; says Quit before leaving. A server that rejects the
// handshake (another generation or role) ends it: the error is reported once, exit status 1.

import type { EventEmitter } from 'node:events';
import { escapeControl } from '@labwire/cli-kit';
import {
  GaussianDetector,
  HandshakeRejectedError,
  PymodaqActuator,
  type PymodaqClientEvents,
  PymodaqDetector,
  SimulatedStage,
} from '@labwire/pymodaq';
import { formatData, formatError, formatPosition } from './format';
import { line, type PymodaqIo } from './io';

export interface ClientOptions {
  kind: 'actuator' | 'detector';
  protocol: string;
  host: string;
  port: number;
  /** Stage speed, units per second. */
  speed: number;
  units: string;
  width: number;
  height: number;
}

/** Runs `pymodaq client`; resolves with the exit status once the signal fired (or at once if none). */
export async function runClient(options: ClientOptions, io: PymodaqIo): Promise<number> {
  const out = (text: string) => line(io.stdout, text);
  const common = {
    protocol: options.protocol,
    host: options.host,
    port: options.port,
    reconnect: { initialDelayMs: 200, maxDelayMs: 5000 },
  };
  let role: PymodaqActuator | PymodaqDetector;
  if (options.kind === 'actuator') {
    const stage = new SimulatedStage({ speed: options.speed, units: options.units });
    const actuator = new PymodaqActuator({ ...common, units: options.units, handlers: stage.handlers() });
    actuator.on('moveDone', (e) =>
      out(
        `${e.command}${e.target === undefined ? '' : ` ${e.target}`} -> move_done ${formatPosition({ value: e.position, units: actuator.units })}`,
      ),
    );
    role = actuator;
  } else {
    const camera = new GaussianDetector({ width: options.width, height: options.height });
    const detector = new PymodaqDetector({ ...common, handlers: camera.handlers() });
    detector.on('grabbed', (e) => out(`Send Data ${e.dim} -> Done ${formatData(e.data).join('; ')}`));
    role = detector;
  }
  // Both roles share these events.
  let rejected = false;
  const events = role as unknown as EventEmitter<PymodaqClientEvents>;
  events.on('connected', (e) =>
    out(`connected to ${e.remoteAddress}:${e.remotePort} as ${role.type} (${role.profile.description})`),
  );
  events.on('disconnected', (e) => {
    if (!io.signal?.aborted && !rejected)
      out(`disconnected (${escapeControl(String(e.reason))}); reconnecting`);
  });
  events.on('command', (e) => {
    if (e.command === 'stop_motion' || e.command === 'get_actuator_value' || e.command === 'check_position') {
      out(`${e.command}`);
    }
  });
  events.on('setInfo', (e) =>
    out(`set_info ${escapeControl(`${e.path.join('/')} = ${e.parameter.value ?? ''}`)}`),
  );
  events.on('serverQuit', () => out('the server said Quit'));
  // A rejected handshake ends the run (the client would only back off and retry): the error goes to the
  // program's error report, said once (as JSON under --json), exit status 1.
  let rejection: HandshakeRejectedError | undefined;
  const stopped = new Promise<void>((resolve) => {
    events.once('handshakeRejected', (e) => {
      rejected = true;
      rejection = e;
      resolve();
    });
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  events.on('error', (e) => {
    if (!HandshakeRejectedError.isInstance(e)) line(io.stderr, `error: ${formatError(e)}`);
  });
  try {
    await role.connect();
  } catch (e) {
    // The connection keeps being retried in the background (backoff up to 5 s), unless the server
    // rejected the handshake (said below, once).
    if (!HandshakeRejectedError.isInstance(e)) line(io.stderr, `error: ${formatError(e)}; retrying`);
  }
  if ((io.signal !== undefined && !io.signal.aborted) || rejected) await stopped;
  await role.close();
  if (rejection !== undefined) throw rejection;
  out('closed (Quit sent)');
  return 0;
}
