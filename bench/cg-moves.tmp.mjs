// node bench/cg-moves.tmp.mjs <protocol> <moves> <mode: full|raw>
import net from 'node:net';
import { PymodaqActuator, PymodaqServer, resolveProfile } from '@labwire/pymodaq';
const [protocol = 'D', nArg = '1000', mode = 'full'] = process.argv.slice(2);
const N = Number(nArg);
const p = resolveProfile(protocol);
if (mode === 'raw') {
  const req = Buffer.alloc(p.encodeCommandPosition('move_abs', 1.5, 'mm').length, 0x51);
  const rep = Buffer.alloc(p.encodeCommandPosition('move_done', 1.5, 'mm').length, 0x52);
  const server = net.createServer((sock) => { sock.setNoDelay(true); let pending = 0;
    sock.on('data', (c) => { pending += c.length; while (pending >= req.length) { pending -= req.length; sock.write(rep); } }); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect({ port: server.address().port, host: '127.0.0.1', noDelay: true });
  await new Promise((r) => client.once('connect', r));
  let got = 0; let wake;
  client.on('data', (c) => { got += c.length; if (got >= rep.length && wake) { const w = wake; wake = undefined; w(); } });
  for (let i = 0; i < N; i++) { const arrived = new Promise((r) => { wake = r; }); client.write(req); await arrived; got -= rep.length; }
  client.destroy(); server.close();
} else if (mode === 'server') {
  const req = p.encodeCommandPosition('move_abs', 1.5, 'mm');
  const rep = Buffer.from(p.encodeCommandPosition('move_done', 1.5, 'mm'));
  const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
  const { port } = await server.listen();
  const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((r) => sock.once('connect', r));
  sock.write(p.encodeCommand('ACTUATOR'));
  sock.write(Buffer.concat([p.encodeCommand('Infos'), p.encodeString('<settings><units type="str">mm</units></settings>')]));
  let pending = 0;
  sock.on('data', (c) => { pending += c.length; while (pending >= req.length) { pending -= req.length; sock.write(rep); } });
  await new Promise((r) => server.once('infos', r));
  for (let i = 0; i < N; i++) await server.moveAbs(1.5);
  sock.destroy(); await server.close();
} else if (mode === 'client') {
  const req = Buffer.from(p.encodeCommandPosition('move_abs', 1.5, 'mm'));
  const rep = p.encodeCommandPosition('move_done', 1.5, 'mm');
  let conn; let ready;
  const srv = net.createServer((s) => { s.setNoDelay(true); conn = s; ready(); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const gotConn = new Promise((r) => { ready = r; });
  let position = 0;
  const actuator = new PymodaqActuator({ protocol, port: srv.address().port, units: 'mm', reconnect: false,
    handlers: { moveAbs: (t) => { position = t; return t; }, getActuatorValue: () => position } });
  await actuator.connect(); await gotConn;
  await new Promise((r) => setTimeout(r, 50));
  let buf = 0; let wake;
  conn.removeAllListeners('data');
  conn.on('data', (c) => { buf += c.length; if (buf >= rep.length && wake) { const w = wake; wake = undefined; w(); } });
  for (let i = 0; i < N; i++) { const arrived = new Promise((r) => { wake = r; }); conn.write(req); await arrived; buf -= rep.length; }
  await actuator.close(); conn.destroy(); srv.close();
} else {
  const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
  const { port } = await server.listen();
  let position = 0;
  const actuator = new PymodaqActuator({ protocol, port, units: 'mm', reconnect: false,
    handlers: { moveAbs: (t) => { position = t; return t; }, getActuatorValue: () => position } });
  await actuator.connect(); await server.waitForClient('ACTUATOR');
  for (let i = 0; i < N; i++) { const r = await server.moveAbs(i); if (r.value !== i) throw new Error('bad'); }
  await actuator.close(); await server.close();
}
