// Does a device answer pipelined requests correctly? Sends a burst of reads on a connection of its own
// and looks at what comes back; then measures the rate at a few windows to recommend one.
//
// The burst reads 4, 8, 12, … bytes from the status area, each with its own label, in one write: the
// data_length of a reply tells which request it answers whatever its label says, so a device that
// mislabels is caught even when the wrong label belongs to another request of the burst.

import { AbortedError, type Logger, type OperationOptions, silentLogger } from '@labwire/framing';
import { TcpInterface } from '@labwire/tcp';
import { Address } from './codec/addresses';
import type { DecodedPacket } from './codec/decode';
import { encodeReadBlockRequest } from './codec/encode';
import { offsetOf } from './codec/packet';
import { PacketDecoder } from './codec/packet-decoder';
import { MAX_WINDOW } from './pipeline';
import { TcpTransport } from './tcp-transport';

export interface ProbeOptions extends OperationOptions {
  /** Requests in the burst (2…16). Default 8. */
  burst?: number;
  /** Windows whose rates are measured when the burst came back right. Default [1, 2, 4, 8, 16]. */
  windows?: readonly number[];
  /** Reads per window for the rate. Default 64. */
  requestsPerWindow?: number;
  /** How long to wait for the burst's replies, ms. Default 2 000. */
  burstTimeoutMs?: number;
  logger?: Logger;
}

/** What `probePipelining()` found. */
export interface PipeliningProbe {
  /** Every request of the burst answered, in order, each reply with its own request's label. */
  ok: boolean;
  /** Requests in the burst. */
  sent: number;
  /** Replies that came back within the wait. */
  answered: number;
  /** The replies came in the order the requests went out. */
  inOrder: boolean;
  /** Every reply carried the label of the request it answers. */
  rightLabels: boolean;
  /** Rates at the windows tried (only when `ok`). */
  rates: {
    window: number;
    /** Reads per second with that many in flight. */
    perSecond: number;
  }[];
  /** 1 when pipelining is not safe; else the smallest window within 10 % of the best rate. */
  recommendedWindow: number;
  /** What went wrong, in words. */
  problems: string[];
}

/** The burst's request i reads 4·(i+1) bytes: its reply's data_length names it. */
const burstLength = (i: number) => 4 * (i + 1);

export async function probePipelining(
  host: string,
  port: number,
  options: ProbeOptions = {},
): Promise<PipeliningProbe> {
  const burst = options.burst ?? 8;
  if (!Number.isInteger(burst) || burst < 2 || burst > 16) {
    throw new RangeError(`burst must be 2..16, got ${burst}`);
  }
  const waitMs = options.burstTimeoutMs ?? 2_000;
  const log = options.logger ?? silentLogger;
  const problems: string[] = [];
  const tcp = new TcpInterface(host, port, {
    autoConnect: false,
    reconnect: false,
    logger: log,
    timeoutMs: waitMs,
  });
  const replies: DecodedPacket[] = [];
  try {
    await tcp.connect({ signal: options.signal, timeoutMs: options.timeoutMs ?? waitMs });
    const reader = tcp.reader!;
    const labels = Array.from({ length: burst }, (_, i) => i + 1);
    const requests = labels.map((tl, i) =>
      encodeReadBlockRequest({ tl, offset: offsetOf(Address.MemoryMapVersion), dataLength: burstLength(i) }),
    );
    const bytes = new Uint8Array(requests.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of requests) {
      bytes.set(r, at);
      at += r.length;
    }
    await tcp.send(bytes, { signal: options.signal });
    const decoder = new PacketDecoder();
    const deadline = performance.now() + waitMs;
    // At most one read per reply expected, plus partial reads: bounded by the burst and the deadline.
    for (let reads = 0; replies.length < burst && reads < burst * 64; reads++) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      let chunk: Uint8Array;
      try {
        chunk = await reader.readAvailable(64 * 1024, { timeoutMs: left, signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        break; // the wait is over (timeout) or the device closed the connection
      }
      try {
        replies.push(...decoder.push(chunk));
      } catch (error) {
        problems.push(`the device sent bytes that are not OptoMMP packets (${(error as Error).message})`);
        break;
      }
    }
  } finally {
    await tcp.close();
  }

  let inOrder = true;
  let rightLabels = true;
  const seen = new Set<number>();
  let last = -1;
  for (const reply of replies) {
    const length = reply.tcode === 7 ? reply.data.length : -1;
    const index = length > 0 && length % 4 === 0 ? length / 4 - 1 : -1;
    if (reply.tcode !== 7 || index < 0 || index >= burst) {
      rightLabels = false;
      problems.push(`a reply that answers none of the requests (tcode ${reply.tcode}, label ${reply.tl})`);
      continue;
    }
    if (reply.rcode !== 0) problems.push(`request ${index + 1} was refused with rcode ${reply.rcode}`);
    if (reply.tl !== index + 1) {
      rightLabels = false;
      problems.push(`the reply to label ${index + 1} came back labelled ${reply.tl}`);
    }
    if (seen.has(index)) problems.push(`request ${index + 1} was answered twice`);
    seen.add(index);
    if (index < last) inOrder = false;
    last = Math.max(last, index);
  }
  const answered = seen.size;
  if (answered < burst) {
    problems.push(`${burst - answered} of ${burst} pipelined requests were not answered within ${waitMs} ms`);
  }
  if (!inOrder) problems.push('the replies came back in another order than the requests went out');
  const ok = answered === burst && inOrder && rightLabels && problems.length === 0;

  const rates: PipeliningProbe['rates'] = [];
  let recommendedWindow = 1;
  if (ok) {
    const windows = (options.windows ?? [1, 2, 4, 8, 16]).filter(
      (w) => Number.isInteger(w) && w >= 1 && w <= MAX_WINDOW,
    );
    const count = options.requestsPerWindow ?? 64;
    for (const window of windows) {
      rates.push({ window, perSecond: await measure(host, port, window, count, options, log) });
    }
    const best = Math.max(...rates.map((r) => r.perSecond));
    recommendedWindow = rates.find((r) => r.perSecond >= 0.9 * best)?.window ?? 1;
  }
  return { ok, sent: burst, answered, inOrder, rightLabels, rates, recommendedWindow, problems };
}

/** Reads per second of `count` uptime reads with `window` in flight, on a connection of its own. */
async function measure(
  host: string,
  port: number,
  window: number,
  count: number,
  options: OperationOptions,
  log: Logger,
): Promise<number> {
  const transport = new TcpTransport(host, port, {
    window,
    reconnect: false,
    logger: log,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  // One listener on the caller's signal for the whole measurement (not one per request in flight): an
  // abort closes the transport, which settles every request.
  const signal = options.signal;
  const onAbort = () => void transport.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await transport.connect({ signal, timeoutMs: options.timeoutMs ?? 5_000 });
    const request = { tcode: 5 as const, offset: offsetOf(Address.Uptime), dataLength: 4 };
    const ignore = () => undefined;
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        await transport.exchange(request, {}, ignore);
      }
    };
    try {
      await Promise.all(Array.from({ length: window }, worker));
    } catch (error) {
      if (signal?.aborted) throw new AbortedError('probePipelining', signal.reason);
      throw error;
    }
    return count / ((performance.now() - t0) / 1000);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await transport.close();
  }
}
