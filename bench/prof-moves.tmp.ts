import { PymodaqActuator, PymodaqServer } from '@labwire/pymodaq';
const protocol = process.argv[2] ?? 'D';
const MOVES = Number(process.argv[3] ?? 20000);
const server = new PymodaqServer({ protocol, port: 0, role: 'actuator' });
const { port } = await server.listen();
let position = 0;
const actuator = new PymodaqActuator({ protocol, port, units: 'mm', reconnect: false,
  handlers: { moveAbs: (t) => { position = t; return t; }, getActuatorValue: () => position } });
await actuator.connect();
await server.waitForClient('ACTUATOR');
for (let i = 0; i < 2000; i++) await server.moveAbs(-i);
const t0 = performance.now();
for (let i = 0; i < MOVES; i++) { const r = await server.moveAbs(i); if (r.value !== i) throw new Error('bad'); }
const s = (performance.now() - t0) / 1000;
console.log(protocol, (MOVES / s).toFixed(0), 'moves/s');
await actuator.close(); await server.close();
