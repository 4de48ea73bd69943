// `host:port` arguments of `bridge --server` and `probe`. Kept apart from the commands' code so the
// command line is parsed (and --help shown) without loading @labwire/pymodaq.

import { isLoopbackAddress } from '@labwire/cli-kit';
import { InvalidArgumentError } from 'commander';

/** The PyMoDAQ TCPServer plugin's default port. */
export const DEFAULT_PYMODAQ_PORT = 6341;

/** `host:port`, `[v6]:port`, or `host` (port 6341). A usage error (exit 2) otherwise. */
export function parseEndpoint(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(text.trim());
  const port = m?.[3] === undefined ? DEFAULT_PYMODAQ_PORT : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(`expected host:port (port 1..65535), got ${JSON.stringify(text)}`);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** A host on this machine by its name or a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLocalHost(host: string): boolean {
  return host.toLowerCase() === 'localhost' || isLoopbackAddress(host);
}
