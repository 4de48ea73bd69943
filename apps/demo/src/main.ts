// Interim main job: a runnable @labwire/framing walk-through on a loopback instrument.
// (The full demo across every package replaces this file.)

import net from 'node:net';
import { ByteReader, EofError, encodeFrame, sendAll, TimeoutError, toHex } from '@labwire/framing';

const enc = new TextEncoder();
const dec = new TextDecoder();

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  let line = '';
  sock.on('data', (chunk) => {
    line += chunk.toString('latin1');
    for (let i = line.indexOf('\n'); i >= 0; i = line.indexOf('\n')) {
      const cmd = line.slice(0, i).trim();
      line = line.slice(i + 1);
      // Replies deliberately arrive in pieces, as real instruments' replies do.
      const reply = cmd === '*IDN?' ? 'LABWIRE,LOOPBACK-1,0,1.0\r\n' : cmd === 'FRAME?' ? '' : 'ERR\r\n';
      if (cmd === 'FRAME?') {
        const frame = encodeFrame(enc.encode('a length-prefixed payload'));
        sock.write(frame.subarray(0, 3));
        setTimeout(() => sock.write(frame.subarray(3)), 20);
      } else if (cmd === 'BYE') {
        sock.end('partial reply with no termin');
      } else {
        for (let k = 0; k < reply.length; k += 5) setTimeout(() => sock.write(reply.slice(k, k + 5)), k);
      }
    }
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address() as net.AddressInfo;
console.log(`instrument simulator listening on 127.0.0.1:${port}`);

const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
await new Promise((r) => socket.once('connect', r));
const reader = new ByteReader(socket, { timeoutMs: 2_000 });

await sendAll(socket, enc.encode('*IDN?\n'));
const idn = await reader.readUntil(['\r\n', '\n']);
console.log(`1. readUntil over a reply that came in 5-byte pieces: ${dec.decode(idn.data)}`);

await sendAll(socket, enc.encode('FRAME?\n'));
const frame = await reader.readFrame({ maxBytes: 1024 });
console.log(`2. readFrame across a split header: "${dec.decode(frame)}" (${frame.length} bytes)`);

try {
  await reader.readUntil('\n', { timeoutMs: 50 });
} catch (e) {
  if (TimeoutError.isInstance(e)) console.log(`3. a silent device: ${e.message} (nothing consumed)`);
}

await sendAll(socket, enc.encode('BYE\n'));
try {
  await reader.readUntil('\r\n');
} catch (e) {
  if (EofError.isInstance(e))
    console.log(
      `4. EOF is an error that keeps what arrived: ${toHex(e.partial.subarray(0, 12))}… "${dec.decode(e.partial)}"`,
    );
}

reader.close();
socket.destroy();
server.close();
console.log('done');
