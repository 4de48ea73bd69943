// The loopback rule of every labwire server and simulator: listen on loopback unless told otherwise.
// Another address needs an explicit --allow-remote, and even then a warning says what it means, in the
// same words in every app.

import dns from 'node:dns/promises';
import net from 'node:net';
import { UsageError } from './exit-codes';

/** The flag that allows a non-loopback address, for messages and option definitions. */
export const ALLOW_REMOTE_FLAG = '--allow-remote';
export const ALLOW_REMOTE_HELP = 'allow a --host that is not a loopback address (prints a warning)';

/** 127.0.0.0/8, ::1, and IPv4-mapped 127.x addresses. Names are not resolved here. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (net.isIPv4(a)) return a.startsWith('127.');
  if (net.isIPv6(a)) {
    if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

export interface ListenCheckOptions {
  /** The user passed --allow-remote. */
  allowRemote: boolean;
  /** Name resolution (tests inject one). Default: the system resolver, all addresses. */
  lookup?: (host: string) => Promise<string[]>;
  /** Deadline of the name resolution. Default 5 s. */
  timeoutMs?: number;
}

async function systemLookup(host: string): Promise<string[]> {
  return (await dns.lookup(host, { all: true })).map((r) => r.address);
}

/**
 * Checks `host` before a server listens there. Loopback (an address, or a name whose every address is
 * loopback): resolves undefined. Anything else: a UsageError, unless `allowRemote`; then resolves the
 * warning to print (on stderr).
 */
export async function checkListenHost(
  host: string,
  options: ListenCheckOptions,
): Promise<string | undefined> {
  let addresses: string[];
  if (net.isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0) addresses = [host];
  else {
    const lookup = options.lookup ?? systemLookup;
    const timeoutMs = options.timeoutMs ?? 5000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      addresses = await Promise.race([
        lookup(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      throw new UsageError(`cannot resolve --host ${host}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  if (addresses.length > 0 && addresses.every(isLoopbackAddress)) return undefined;
  const what = addresses.length === 1 && addresses[0] === host ? host : `${host} (${addresses.join(', ')})`;
  if (!options.allowRemote) {
    throw new UsageError(
      `refusing to listen on ${what}: not a loopback address. Pass ${ALLOW_REMOTE_FLAG} to accept connections from other machines.`,
    );
  }
  return `warning: listening on ${what}, which is not a loopback address: anyone who can reach this machine can connect (${ALLOW_REMOTE_FLAG}).`;
}
