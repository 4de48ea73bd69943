import net from 'node:net';
import { PymodaqActuator, PymodaqServer, resolveProfile } from '@labwire/pymodaq';
import { once } from 'node:events';
import { rawPingPong } from './baselines';
const protocol = process.argv[2] ?? 'D';
const N = Number(process.argv[3] ?? 10000);
const p = resolveProfile(protocol);
const req = Buffer.from(p.encodeCommandPosition('move_abs', 1.5, 'mm'));
const rep = Buffer.from(p.encodeCommandPosition('move_done', 1.5, 'mm'));

async function full(): Promise<number> {
  const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
  const { port } = await server.listen();
  let position = 0;
  const actuator = new PymodaqActuator({ protocol, port, units: 'mm', reconnect: false,
    handlers: { moveAbs: (t) => { position = t; return t; }, getActuatorValue: () => position } });
  await actuator.connect(); await server.waitForClient('ACTUATOR');
  for (let i = 0; i < 1000; i++) await server.moveAbs(1.5);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await server.moveAbs(1.5);
  const r = N / ((performance.now() - t0) / 1000);
  await actuator.close(); await server.close(); return r;
}
async function serverOnly(): Promise<number> {
  const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
  const { port } = await server.listen();
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((r) => sock.once('connect', r));
  sock.write(p.encodeCommand('ACTUATOR'));
  sock.write(Buffer.concat([p.encodeCommand('Infos'), p.encodeString('<settings><units type="str">mm</units></settings>')]));
  let pending = 0;
  sock.on('data', (c: Buffer) => { pending += c.length; while (pending >= req.length) { pending -= req.length; sock.write(rep); } });
  await once(server, 'infos');
  for (let i = 0; i < 1000; i++) await server.moveAbs(1.5);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await server.moveAbs(1.5);
  const r = N / ((performance.now() - t0) / 1000);
  sock.destroy(); await server.close(); return r;
}
async function clientOnly(): Promise<number> {
  let conn: net.Socket | undefined;
  const got = new Promise<net.Socket>((res) => {
    const srv = net.createServer((s) => { s.setNoDelay(true); res(s); });
    srv.listen(0, '127.0.0.1', async () => {
      const port = (srv.address() as net.AddressInfo).port;
      (globalThis as any).srv = srv;
      actuatorPort = port;
      ready();
    });
  });
  let actuatorPort = 0; let ready!: () => void; await new Promise<void>((r) => { ready = r; });
  let position = 0;
  const actuator = new PymodaqActuator({ protocol, port: actuatorPort, units: 'mm', reconnect: false,
    handlers: { moveAbs: (t) => { position = t; return t; }, getActuatorValue: () => position } });
  const c = actuator.connect();
  conn = await got; await c;
  let buf = 0; let wake: (() => void) | undefined; let skip = true; let hs = 0;
  const hsLen = p.encodeCommand('ACTUATOR').length;
  conn.on('data', (ch: Buffer) => { if (skip) { hs += ch.length; return; } buf += ch.length; if (buf >= rep.length && wake) { const w = wake; wake = undefined; w(); } });
  await new Promise((r) => setTimeout(r, 100)); skip = false;
  const round = async () => { const arrived = new Promise<void>((r) => { wake = r; }); conn!.write(req); await arrived; buf -= rep.length; };
  for (let i = 0; i < 1000; i++) await round();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await round();
  const r = N / ((performance.now() - t0) / 1000);
  await actuator.close(); conn.destroy(); (globalThis as any).srv.close(); return r;
}
const only = process.argv[4];
if (only) { const fn = { full, serverOnly, clientOnly }[only]!; console.log(only, await fn()); process.exit(0); }
for (let rep2 = 0; rep2 < 3; rep2++) {
  const raw = await rawPingPong({ requestBytes: req.length, replyBytes: rep.length, count: N });
  const f = await full(); const s = await serverOnly(); const c = await clientOnly();
  const raw2 = await rawPingPong({ requestBytes: req.length, replyBytes: rep.length, count: N });
  const base = (raw + raw2) / 2;
  console.log(`${protocol} raw ${base.toFixed(0)} full ${(f / base).toFixed(3)} serverOnly ${(s / base).toFixed(3)} clientOnly ${(c / base).toFixed(3)}  (µs/rt raw ${(1e6/base).toFixed(1)} full ${(1e6/f).toFixed(1)} srv ${(1e6/s).toFixed(1)} cli ${(1e6/c).toFixed(1)})`);
}
process.exit(0);
