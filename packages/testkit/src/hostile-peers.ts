// Peers that accept a connection and then speak nothing any labwire protocol understands: the servers
// behind a wrong port. A client must back off from them, never storm (issue 10).

import { LoopbackServer, type LoopbackServerOptions } from './loopback-server';
import { seededRandom } from './random';

/** What OpenSSH 9.6 sends first on every connection (RFC 4253 §4.2: the identification string). */
export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.6\r\n';

export interface GarbagePeerOptions extends LoopbackServerOptions {
  /** Bytes of noise per burst. Default 256. */
  bytes?: number;
  /** Send another burst every this many ms (0: one burst on accept). Default 0. */
  repeatMs?: number;
  /** Seed of the noise. Default 10. */
  seed?: number;
}

/**
 * Accepts, sends binary noise and keeps the connection open, discarding whatever the client sends. The
 * noise starts with 0xff bytes (any u32 length prefix reads as about 4 GiB) and holds no CR or LF (no line
 * protocol finds a line in it), so a client can only time out, hit a limit or fail to decode.
 */
export function startGarbagePeer(options: GarbagePeerOptions = {}): Promise<LoopbackServer> {
  const size = Math.max(4, options.bytes ?? 256);
  const random = seededRandom(options.seed ?? 10);
  const noise = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    let b = i < 4 ? 0xff : Math.floor(random() * 256);
    if (b === 0x0a || b === 0x0d) b = 0xa5;
    noise[i] = b;
  }
  return LoopbackServer.start((c) => {
    c.socket.on('data', () => {});
    c.write(noise);
    if ((options.repeatMs ?? 0) > 0) {
      const timer = setInterval(() => c.write(noise), options.repeatMs);
      c.socket.once('close', () => clearInterval(timer));
    }
  }, options);
}

/**
 * Behaves like an OpenSSH server reached on the wrong port: sends its identification string at once;
 * when the client sends a whole line that is not an SSH identification, answers "Invalid SSH
 * identification string." and closes, as sshd does. Until then it waits.
 */
export function startSshBannerPeer(options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  return LoopbackServer.start((c) => {
    c.write(new TextEncoder().encode(SSH_BANNER));
    let received = '';
    c.socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      const end = received.indexOf('\n');
      if (end < 0) return;
      if (!received.startsWith('SSH-')) {
        c.socket.end('Invalid SSH identification string.\r\n');
      }
    });
  }, options);
}
