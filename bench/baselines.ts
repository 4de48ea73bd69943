// Baselines: what plain Node `net` achieves on this machine, measured in the same run as the cases.
// Only 127.0.0.1.

import net from 'node:net';

export const MiB = 1024 * 1024;

export function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Raw bulk transfer: a client writes `totalBytes` in `writeSize` writes (honouring backpressure) and a
 * server counts what arrives. Returns MiB/s from the first write to the last byte received.
 */
export async function rawBulkThroughput(totalBytes: number, writeSize = 64 * 1024): Promise<number> {
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const server = net.createServer((sock) => {
    sock.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= totalBytes) done();
    });
  });
  const port = await listen(server);
  const client = await connect(port);
  const block = Buffer.alloc(writeSize, 0x5a);
  const t0 = performance.now();
  let sent = 0;
  while (sent < totalBytes) {
    const n = Math.min(writeSize, totalBytes - sent);
    const ok = client.write(n === writeSize ? block : block.subarray(0, n));
    sent += n;
    if (!ok) await new Promise((r) => client.once('drain', r));
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  server.close();
  return totalBytes / MiB / seconds;
}

export interface PingPongOptions {
  requestBytes: number;
  replyBytes: number;
  count: number;
}

/**
 * Raw request/response on one connection with setNoDelay: the client writes `requestBytes`, the server
 * answers `replyBytes` once a whole request has arrived, the client waits for the whole reply. Returns
 * round trips per second.
 */
export async function rawPingPong({ requestBytes, replyBytes, count }: PingPongOptions): Promise<number> {
  const reply = Buffer.alloc(replyBytes, 0x52);
  const request = Buffer.alloc(requestBytes, 0x51);
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let pending = 0;
    sock.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      while (pending >= requestBytes) {
        pending -= requestBytes;
        sock.write(reply);
      }
    });
  });
  const port = await listen(server);
  const client = await connect(port);
  let got = 0;
  let wake: (() => void) | undefined;
  client.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got >= replyBytes && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const arrived = new Promise<void>((r) => {
      wake = r;
    });
    client.write(request);
    await arrived;
    got -= replyBytes;
  }
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  server.close();
  return count / seconds;
}
