// Ready-made loopback servers: echo, and a tagging server that answers every fixed-size request with a
// reply naming the request, so a test can tell which caller got which reply (docs/protocols/tcpinterface.md G8, G9).

import { viewOf } from '@labwire/framing';
import { LoopbackServer, type LoopbackServerOptions, type ServerConnection } from './loopback-server';

/** Echoes every byte back as it arrives. */
export function startEchoServer(options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  return LoopbackServer.start((connection) => {
    connection.socket.on('data', (chunk: Uint8Array) => connection.write(chunk));
  }, options);
}

export interface TaggingServerOptions extends LoopbackServerOptions {
  /** Size of one request. Default 16. */
  requestBytes?: number;
  /** Size of one reply (at least requestBytes + 8). Default 24. */
  replyBytes?: number;
  /** Delay before replying to request number `seq` (0-based, across connections), in ms. Default none. */
  replyDelayMs?: (seq: number, request: Uint8Array) => number;
  /** Called for every request before the reply is sent. */
  onRequest?: (request: Uint8Array, seq: number, connection: ServerConnection) => void;
}

/**
 * Reply layout: the request bytes, then u32 BE sequence number of the request (0-based, across all
 * connections), then u32 BE connection id, then zero padding up to `replyBytes`.
 */
export interface TaggingServer extends LoopbackServer {
  /** Requests received. */
  readonly requests: number;
  /** Requests whose bytes had been received before (a replayed write). */
  readonly duplicates: number;
}

export async function startTaggingServer(options: TaggingServerOptions = {}): Promise<TaggingServer> {
  const requestBytes = options.requestBytes ?? 16;
  const replyBytes = options.replyBytes ?? 24;
  if (replyBytes < requestBytes + 8) throw new RangeError('replyBytes must be >= requestBytes + 8');
  const seen = new Set<string>();
  let requests = 0;
  let duplicates = 0;
  const server = await LoopbackServer.start(async (connection) => {
    for (;;) {
      const request = await connection.reader.readExactly(requestBytes);
      const seq = requests++;
      const key = Buffer.from(request.buffer, request.byteOffset, request.byteLength).toString('latin1');
      if (seen.has(key)) duplicates++;
      else seen.add(key);
      options.onRequest?.(request, seq, connection);
      const delay = options.replyDelayMs?.(seq, request) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const reply = new Uint8Array(replyBytes);
      reply.set(request, 0);
      const view = viewOf(reply);
      view.setUint32(requestBytes, seq);
      view.setUint32(requestBytes + 4, connection.id);
      connection.write(reply);
    }
  }, options);
  return Object.defineProperties(server, {
    requests: { get: () => requests },
    duplicates: { get: () => duplicates },
  }) as TaggingServer;
}

/** A request for the tagging server: `tag` as u32 BE in the first four bytes, the rest zero. */
export function taggedRequest(tag: number, requestBytes = 16): Uint8Array {
  const out = new Uint8Array(requestBytes);
  viewOf(out).setUint32(0, tag >>> 0);
  return out;
}

/** The tag (first four bytes, u32 BE) of a request or of the reply that echoes it. */
export function tagOf(bytes: Uint8Array): number {
  return viewOf(bytes).getUint32(0);
}
