// `pymodaq bridge`: instruments written for one PyMoDAQ generation talk to a PyMoDAQ server of another
// (PymodaqBridge from @labwire/pymodaq). Prints what happens, one line per event (every string that came
// from the network escaped), or JSON lines with --json; runs until the signal.

import { checkListenHost, escapeControl, UsageError } from '@labwire/cli-kit';
import { type BridgeClientInfo, PymodaqBridge, type ServerRole } from '@labwire/pymodaq';
import { type Generation, resolveProfile } from '@labwire/pymodaq/codec';
import { isLocalHost } from './endpoint';
import { formatError } from './format';
import { line, type PymodaqIo } from './io';

export interface BridgeOptions {
  /** What the instruments speak. */
  clientProtocol: string;
  /** What the PyMoDAQ server speaks. */
  serverProtocol: string;
  /** The PyMoDAQ server. */
  server: { host: string; port: number };
  /** Where instruments connect. */
  host: string;
  /** The user allowed a non-loopback --host (--allow-remote). */
  allowRemote?: boolean;
  port: number;
  role: ServerRole;
  maxClients: number;
  /** One JSON object per event (the program's --json). */
  json: boolean;
}

/** How often dropped frames are summed up in a line (human output). */
const DROPS_EVERY_MS = 5000;

function errorJson(error: unknown): { code?: string; message: string } {
  const e = error as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string'
    ? { code: e.code, message: String(e.message) }
    : { message: error instanceof Error ? error.message : String(error) };
}

function describe(generation: Generation): string {
  return resolveProfile(generation).description;
}

/** Runs `pymodaq bridge` until the signal; resolves with the exit status. */
export async function runBridge(options: BridgeOptions, io: PymodaqIo): Promise<number> {
  const { server } = options;
  // Usage mistakes first, before anything listens or connects.
  const warning = await checkListenHost(options.host, { allowRemote: options.allowRemote === true });
  const anyAddress = options.host === '0.0.0.0' || options.host === '::';
  if (server.port === options.port && isLocalHost(server.host) && (anyAddress || isLocalHost(options.host))) {
    throw new UsageError(
      `the bridge would connect to itself: it listens on port ${options.port} and the server is ${server.host}:${server.port}`,
    );
  }
  const bridge = new PymodaqBridge({
    clientProtocol: options.clientProtocol,
    serverProtocol: options.serverProtocol,
    serverHost: server.host,
    serverPort: server.port,
    host: options.host,
    port: options.port,
    role: options.role,
    maxClients: options.maxClients,
  });
  const say = options.json
    ? (event: string, fields: Record<string, unknown>) =>
        line(io.stdout, JSON.stringify({ event, ...fields }))
    : undefined;
  const out = (text: string) => line(io.stdout, escapeControl(text));
  let address: { host: string; port: number };
  try {
    address = await bridge.listen();
  } catch (error) {
    await bridge.close();
    const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = e.code === 'EADDRINUSE' || e.cause?.code === 'EADDRINUSE' ? 'EADDRINUSE' : e.code;
    const why = code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : e.message;
    throw Object.assign(new Error(`cannot listen on ${options.host}:${options.port}: ${why}`), { code });
  }
  if (warning !== undefined) line(io.stderr, `pymodaq: ${warning}`);
  if (!isLocalHost(server.host)) {
    line(io.stderr, `pymodaq: note: the server ${escapeControl(server.host)} is not on this machine`);
  }
  const stopDrops = report(bridge, options, say, out);
  try {
    if (say) {
      say('listening', {
        ...address,
        clientProtocol: bridge.clientProfile.generation,
        serverProtocol: bridge.serverProfile.generation,
        server,
      });
    } else {
      out(`listening on ${address.host}:${address.port}`);
      out(
        `bridge: ${describe(bridge.clientProfile.generation)} instruments -> ${describe(bridge.serverProfile.generation)} server at ${server.host}:${server.port}`,
      );
    }
    if (io.signal !== undefined && !io.signal.aborted) {
      await new Promise((resolve) => io.signal!.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    stopDrops();
    await bridge.close();
    const c = bridge.counters;
    if (say) say('closed', { counters: c });
    else {
      out(
        `bridge closed (messages to the server ${c.toServer}, to instruments ${c.toClients}; frames replaced ${c.framesReplaced}, dropped without a server ${c.droppedNoServer}; translation errors ${c.translationErrors})`,
      );
    }
  }
  return 0;
}

/** Prints the bridge's events; returns a function that stops the periodic drop summary. */
function report(
  bridge: PymodaqBridge,
  options: BridgeOptions,
  json: ((event: string, fields: Record<string, unknown>) => void) | undefined,
  out: (text: string) => void,
): () => void {
  const who = (c: BridgeClientInfo) => `${c.id} ${c.type}`;
  if (json) {
    bridge.on('client', (c) => json('client', { ...c }));
    bridge.on('clientClosed', (e) => json('clientClosed', { id: e.client.id, reason: e.reason }));
    bridge.on('serverConnected', (e) =>
      json('serverConnected', { id: e.client.id, remoteAddress: e.remoteAddress, remotePort: e.remotePort }),
    );
    bridge.on('serverDisconnected', (e) => json('serverDisconnected', { id: e.client.id, reason: e.reason }));
    bridge.on('handshakeRejected', (e) =>
      json('handshakeRejected', {
        id: e.client.id,
        error: errorJson(e.error),
        suggestedGenerations: e.error.suggestedGenerations,
      }),
    );
    bridge.on('translationError', (e) =>
      json('translationError', {
        id: e.client.id,
        command: e.error.command,
        from: e.error.from,
        to: e.error.to,
        forwarded: e.error.forwarded,
        lost: e.error.lost,
      }),
    );
    bridge.on('rejected', (e) =>
      json('rejected', {
        remoteAddress: e.remoteAddress,
        remotePort: e.remotePort,
        error: errorJson(e.error),
        suggestedGenerations: e.suggestedGenerations,
      }),
    );
    bridge.on('frameDropped', (e) => json('frameDropped', { id: e.client.id, reason: e.reason }));
    bridge.on('error', (e) => json('error', { id: e.client?.id, error: errorJson(e.error) }));
    return () => {};
  }
  bridge.on('client', (c) => out(`+ ${who(c)} ${c.remoteAddress}:${c.remotePort}`));
  bridge.on('clientClosed', (e) => out(`- ${who(e.client)} left (${e.reason})`));
  bridge.on('serverConnected', (e) =>
    out(`  ${who(e.client)} linked to the server ${e.remoteAddress ?? ''}:${e.remotePort ?? ''}`),
  );
  bridge.on('serverDisconnected', (e) =>
    out(`  ${who(e.client)} server link down (${e.reason}); reconnecting`),
  );
  bridge.on('handshakeRejected', (e) => out(`! ${who(e.client)}: ${formatError(e.error)}`));
  bridge.on('translationError', (e) => out(`! ${who(e.client)}: ${formatError(e.error)}`));
  bridge.on('rejected', (e) => {
    const hint =
      e.suggestedGenerations.length > 0
        ? ` (it seems to speak ${e.suggestedGenerations.join(', ')}: the bridge takes ${options.clientProtocol}; see --client-protocol)`
        : '';
    out(`! refused ${e.remoteAddress}:${e.remotePort}: ${formatError(e.error)}${hint}`);
  });
  bridge.on('error', (e) => out(`! ${e.client ? `${who(e.client)}: ` : ''}${formatError(e.error)}`));
  // Dropped frames can come 30 times a second: summed up, one line per instrument every few seconds.
  const drops = new Map<string, { client: BridgeClientInfo; replaced: number; noServer: number }>();
  bridge.on('frameDropped', (e) => {
    const d = drops.get(e.client.id) ?? { client: e.client, replaced: 0, noServer: 0 };
    if (e.reason === 'replaced') d.replaced++;
    else d.noServer++;
    drops.set(e.client.id, d);
  });
  const flush = () => {
    for (const d of drops.values()) {
      const parts = [];
      if (d.replaced > 0) parts.push(`${d.replaced} replaced by newer ones (the server is slower)`);
      if (d.noServer > 0) parts.push(`${d.noServer} dropped (no server link)`);
      out(`  ${who(d.client)} frames: ${parts.join(', ')}`);
    }
    drops.clear();
  };
  const timer = setInterval(flush, DROPS_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    flush();
  };
}
