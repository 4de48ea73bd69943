// Child process for framing.message-32MiB-rss: receive one large length-prefixed message and report the
// peak RSS growth of the process relative to the message size. The sender's payload is allocated before
// the measurement starts; the sender writes it without copying.

import net from 'node:net';
import { ByteReader, encodeFrameHeader, OnreadSource } from '@labwire/framing';
import { listen } from '../baselines';
import { rssSampler } from '../harness';

const size = Number(process.argv[2] ?? 32 * 1024 * 1024);
const payload = Buffer.alloc(size, 0x77);
const header = encodeFrameHeader(size);
const server = net.createServer();
const port = await listen(server);
const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
// The receiving side reads through an OnreadSource (one reused landing buffer, no per-read garbage);
// the frame itself goes into a fresh allocation sized from its header.
const source = new OnreadSource();
const receiver = net.connect({ port, host: '127.0.0.1', onread: source.onread });
await new Promise((r) => receiver.once('connect', r));
const client = await accepted;
const reader = new ByteReader(source.attach(receiver), { maxFrame: size, timeoutMs: 60_000 });
(globalThis as { gc?: () => void }).gc?.();
const sampler = rssSampler(1);
const t0 = performance.now();
client.cork();
client.write(header);
client.write(payload);
client.uncork();
const frame = await reader.readFrame();
const seconds = (performance.now() - t0) / 1000;
const growth = sampler.stop();
if (frame.length !== size) throw new Error('short frame');
reader.close();
client.destroy();
receiver.destroy();
server.close();
console.log(JSON.stringify({ size, growth, growthRatio: growth / size, mibPerS: size / 1048576 / seconds }));
