// Plain Node `net` doing the bridge stream's job (bench/pymodaq-bridge.ts, issue 16a): what this machine
// gives a 30 Hz stream of 1 MiB frames through a relay, with no library at all. Each role is a process of
// its own in plain JavaScript, like the library's bridge and viewer processes:
//
//   node bench/child/plain-relay.mjs viewer            -> {port}, then {arrivals} once stdin closes
//   node bench/child/plain-relay.mjs relay <viewerPort> -> {port}; ends when its upstream ends
//   node bench/child/plain-relay.mjs detector <relayPort> <seconds> -> {warm} after the warm-up, {sentAt} at the end
//
// A frame is a 16-byte header (u32 BE payload length, i32 BE index: negative for the warm-up, u64 of
// padding) and 1 MiB of payload, written corked as one write of each. The relay and the viewer accept
// their peer, as a bridge and a viewer do; an accepted socket cannot take `onread` through Node's API, so
// they give it that path as the library does (see `chunks`; PLAIN_RECEIVE=data: 'data' events instead),
// and copy each frame into a reused buffer (the relay forwards it as soon as it is
// whole, and reuses a buffer only once its write completed). Times are monotonic ms (CLOCK_MONOTONIC, the
// same in every process). The detector paces on absolute times and waits, after its 60 warm-up frames,
// until the viewer saw the last of them (its parent tells it through stdin), as the library stream does.

import net from 'node:net';

const FRAME = 1024 * 1024;
const HEADER = 16;
const WARMUP = 60;
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Node's own names for a socket's `onread` state (net.js kBuffer, kBufferCb), read off a probe socket:
 * an accepted socket is given the onread path that Node offers only to sockets it creates (as the
 * library's servers do since issue 16: framing's adoptOnread), so every read lands in one reused
 * landing buffer instead of a fresh 64 KiB buffer per read. PLAIN_RECEIVE=data keeps 'data' events.
 */
const onreadKeys = (() => {
  const probe = new net.Socket({ onread: { buffer: new Uint8Array(1), callback: () => true } });
  const symbols = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  return {
    buffer: symbols.find((x) => x.description === 'kBuffer'),
    callback: symbols.find((x) => x.description === 'kBufferCb'),
  };
})();

/** Hands every chunk an accepted socket reads to `onChunk(bytes)` (valid during the call only). */
function chunks(socket, onChunk) {
  if (process.env.PLAIN_RECEIVE !== 'data' && typeof socket._handle?.useUserBuffer === 'function') {
    const landing = new Uint8Array(64 * 1024);
    socket._handle.useUserBuffer(landing);
    socket[onreadKeys.buffer] = landing;
    socket[onreadKeys.callback] = (n, buf) => {
      onChunk(buf.subarray(0, n));
      return true;
    };
    return;
  }
  socket.on('data', onChunk);
}

/** Reassembles frames from the chunks into reused buffers: `onFrame(bytes, index, release)`. */
function frames(socket, onFrame) {
  const free = [];
  const take = () => free.pop() ?? new Uint8Array(HEADER + FRAME);
  let buf = take();
  let have = 0;
  let need = HEADER;
  chunks(socket, (chunk) => {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(need - have, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), have);
      have += n;
      off += n;
      if (need === HEADER && have === HEADER) need = HEADER + new DataView(buf.buffer).getUint32(0);
      if (need > HEADER && have === need) {
        const done = buf;
        globalThis.__labwireStage?.('decoded', new DataView(done.buffer).getInt32(4));
        onFrame(done.subarray(0, need), new DataView(done.buffer).getInt32(4), () => free.push(done));
        buf = take();
        have = 0;
        need = HEADER;
      }
    }
  });
}

function listen(onSocket) {
  const server = net.createServer({ noDelay: true }, onSocket);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port })),
  );
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

const stdinEnded = () => {
  process.stdin.resume();
  return new Promise((resolve) => process.stdin.once('end', resolve));
};

async function viewer() {
  const arrivals = [];
  let warm = false;
  const { server, port } = await listen((s) =>
    frames(s, (_f, index, release) => {
      const now = monotonicMs();
      if (index >= 0) arrivals[index] = now;
      if (!warm && index >= -1) {
        warm = true;
        say({ warm: true });
      }
      release();
    }),
  );
  say({ port });
  await stdinEnded();
  server.close();
  process.stderr.write(`    plain viewer process: CPU ${cpuMs()} ms\n`);
  say({ arrivals });
}

async function relay(viewerPort) {
  const out = await connect(viewerPort);
  const { server, port } = await listen((s) => {
    frames(s, (f, _index, release) => out.write(f, release));
    s.on('end', () => {
      out.end();
      server.close();
    });
  });
  say({ port });
  await new Promise((resolve) => out.once('close', resolve));
  process.stderr.write(`    plain relay process: CPU ${cpuMs()} ms\n`);
}

async function detector(relayPort, seconds) {
  const s = await connect(relayPort);
  const ring = Array.from({ length: 8 }, () => new Uint8Array(FRAME));
  const period = 1000 / 30;
  const total = Math.round(seconds * 30);
  const sentAt = [];
  const send = (i) => {
    // A fresh header per frame: write() keeps a reference until the bytes are in the kernel.
    const head = new Uint8Array(HEADER);
    const view = new DataView(head.buffer);
    view.setUint32(0, FRAME);
    view.setInt32(4, i);
    if (i >= 0) sentAt[i] = monotonicMs();
    // Stage timestamps (bench/diag/stage-hooks.mjs) name the frame of these writes.
    globalThis.__labwireFrame = i;
    s.cork();
    s.write(head);
    s.write(ring[(i + WARMUP) % ring.length]);
    s.uncork();
  };
  const pace = async (from, to) => {
    const t0 = performance.now() + 100;
    for (let i = from; i < to; i++) {
      const wait = t0 + (i - from) * period - performance.now();
      if (wait > 0) await sleep(wait);
      send(i);
    }
  };
  await pace(-WARMUP, 0);
  // The parent writes a line once the viewer saw the warm-up's last frame (or gave up waiting).
  await new Promise((resolve) => process.stdin.once('data', resolve));
  await pace(0, total);
  await sleep(1000);
  await new Promise((resolve) => s.end(resolve));
  say({ sentAt });
}

const cpu0 = process.cpuUsage();
/** CPU time of this process so far, ms (printed on stderr by the relay and the viewer when they end). */
const cpuMs = () => {
  const c = process.cpuUsage(cpu0);
  return ((c.user + c.system) / 1000).toFixed(0);
};

const [role, a, b] = process.argv.slice(2);
if (role === 'viewer') await viewer();
else if (role === 'relay') await relay(Number(a));
else if (role === 'detector') await detector(Number(a), Number(b));
else {
  process.stderr.write(
    'usage: plain-relay.mjs viewer | relay <viewerPort> | detector <relayPort> <seconds>\n',
  );
  process.exit(2);
}
process.exit(0);
