// `tcpbus sim`: the SCPI-like instrument of @labwire/bus/simulator as a program. It prints where it
// listens as its first line and serves until SIGINT, SIGTERM or SIGHUP.

import { InstrumentSim } from '@labwire/bus/simulator';
import { type CliIo, checkListenHost, toJson } from '@labwire/cli-kit';

export interface SimOptions {
  host: string;
  port: number;
  interval: number;
  allowRemote?: boolean;
  json?: boolean;
}

export async function serveSim(opts: SimOptions, io: CliIo): Promise<void> {
  const warning = await checkListenHost(opts.host, { allowRemote: opts.allowRemote === true });
  let sim: InstrumentSim;
  try {
    sim = await InstrumentSim.start({ port: opts.port, host: opts.host, streamIntervalMs: opts.interval });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
    const why = e.code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message;
    throw Object.assign(new Error(`cannot listen on ${where}: ${why}`), { code: e.code });
  }
  try {
    if (warning !== undefined) io.stderr.write(`tcpbus: ${warning}\n`);
    io.stdout.write(
      opts.json
        ? `${toJson({ listening: { host: sim.host, port: sim.port }, confString: sim.confString() })}\n`
        : `listening on ${sim.address}\n`,
    );
    await new Promise<void>((resolve) => {
      if (io.signal === undefined) return; // until the process is stopped
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await sim.close();
  }
}
