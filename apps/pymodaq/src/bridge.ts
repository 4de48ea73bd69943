// `pymodaq bridge`: instruments written for one PyMoDAQ generation talk to a PyMoDAQ server of another
// (PymodaqBridge from @labwire/pymodaq). Prints what happens, one line per event (every string that came
// from the network escaped), or JSON lines with --json; runs until the signal.

import {
  type BridgeClientInfo,
  type Generation,
  PymodaqBridge,
  resolveProfile,
  type ServerRole,
} from '@labwire/pymodaq';
import { InvalidArgumentError } from 'commander';
import { escapeControl } from './escape';
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
  port: number;
  role: ServerRole;
  maxClients: number;
  json: boolean;
}

/** How often dropped frames are summed up in a line (human output). */
const DROPS_EVERY_MS = 5000;

/** `host:port`, `[v6]:port`, or `host` (port 6341). */
export function parseEndpoint(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(text.trim());
  const port = m?.[3] === undefined ? 6341 : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new InvalidArgumentError(`expected host:port (port 1..65535), got ${JSON.stringify(text)}`);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

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
  const here = (host: string) => isLoopback(host) || host === '0.0.0.0' || host === '::';
  if (server.port === options.port && isLoopback(server.host) && here(options.host)) {
    throw new InvalidArgumentError(
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
  if (!isLoopback(options.host)) {
    line(
      io.stderr,
      `warning: listening on ${escapeControl(options.host)}: instruments on the network can connect`,
    );
  }
  if (!isLoopback(server.host)) {
    line(io.stderr, `note: the server ${escapeControl(server.host)} is not on this machine`);
  }
  const stopDrops = report(bridge, options, say, out);
  try {
    const address = await bridge.listen();
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
