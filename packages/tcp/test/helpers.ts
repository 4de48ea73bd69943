// Shared bits of the tcp test files.
import type { ByteReader, OperationOptions } from '@labwire/framing';
import type { TcpInterface, TcpInterfaceOptions } from '@labwire/tcp';
import { startEchoServer } from '@labwire/testkit';

/** Reads one tagging-server reply (24 bytes). */
export const reply24 = (reader: ByteReader, options: OperationOptions) => reader.readExactly(24, options);

/** Small deadlines so failures show quickly. */
export const fast: TcpInterfaceOptions = {
  timeoutMs: 1_000,
  connectTimeoutMs: 500,
  reconnect: { initialDelayMs: 5, maxDelayMs: 40 },
};

/** Collects the events of an interface for assertions. */
export function record(tcp: TcpInterface): { events: string[]; reasons: string[] } {
  const events: string[] = [];
  const reasons: string[] = [];
  for (const name of ['connecting', 'connected', 'disconnected', 'reconnectScheduled'] as const) {
    tcp.on(name, (payload: unknown) => {
      events.push(name);
      if (name === 'disconnected') reasons.push((payload as { reason: string }).reason);
    });
  }
  return { events, reasons };
}

/** The `code` of the error a `settle(...)` result failed with (a TypeError when it succeeded). */
export const codeOf = (settled: unknown): string => (settled as { error: { code: string } }).error.code;

/** A loopback port that nothing listens on (bound once, then released): connects to it are refused. */
export async function freePort(): Promise<number> {
  const s = await startEchoServer();
  const port = s.port;
  await s.close();
  return port;
}
