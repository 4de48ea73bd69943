// Two builds of @labwire/pymodaq side by side in one process, for a change of the per-move path (issue
// 16b): each build runs its own chain (gen D PymodaqServer -> in-process PymodaqBridge -> C4
// PymodaqActuator, as `pymodaq.bridge-move-abs` does) and the two take turns, `rounds` times, 5000
// sequential moves a turn, timed by the CPU the process used and by the wall clock. On a shared machine
// this resolves a few per cent where the benchmark's row (three case/baseline pairs) does not: both
// builds meet the same load, turn by turn.
//
//   cp -r packages/pymodaq/dist packages/pymodaq/dist-before     # before the change (then rebuild)
//   taskset -c 1 node bench/diag/move-ab.mjs dist-before dist 20
//
// The directories are under packages/pymodaq, so both builds resolve the same @labwire/framing and
// @labwire/tcp (delete dist-before afterwards: it is not ignored by git). Prints the median CPU per move
// of each build and the quotients of the medians (CPU and wall clock).

import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [a = 'dist-before', b = 'dist', roundsText = '16'] = process.argv.slice(2);
const rounds = Number(roundsText);
const MOVES = 5000;
const pkg = path.resolve(import.meta.dirname, '../../packages/pymodaq');
const load = (dir) => import(pathToFileURL(path.join(pkg, dir, 'index.js')).href);

async function chain(lib) {
  const { PymodaqServer, PymodaqBridge, PymodaqActuator } = lib;
  const server = new PymodaqServer({ protocol: 'D', role: 'actuator', port: 0 });
  const { port: serverPort } = await server.listen();
  const bridge = new PymodaqBridge({
    clientProtocol: 'C4',
    serverProtocol: 'D',
    port: 0,
    serverPort,
    maxMessageBytes: 64 * 1024 * 1024,
    timeoutMs: 60_000,
  });
  const { port } = await bridge.listen();
  let position = 0;
  const actuator = new PymodaqActuator({
    protocol: 'C4',
    port,
    units: 'mm',
    reconnect: false,
    handlers: {
      moveAbs: (target) => {
        position = target;
        return target;
      },
      getActuatorValue: () => position,
    },
  });
  await actuator.connect({ timeoutMs: 30_000 });
  await server.waitForClient('ACTUATOR', { timeoutMs: 30_000 });
  for (let i = 0; i < 1000; i++) await server.moveAbs(-i);
  return {
    server,
    async close() {
      await actuator.close();
      await bridge.close();
      await server.close();
    },
  };
}

const chains = { [a]: await chain(await load(a)), [b]: await chain(await load(b)) };
const perMove = { [a]: [], [b]: [] };
const wallPerMove = { [a]: [], [b]: [] };
for (let r = 0; r < rounds; r++) {
  for (const k of r % 2 === 0 ? [a, b] : [b, a]) {
    const { server } = chains[k];
    const before = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < MOVES; i++) {
      const reached = await server.moveAbs(i);
      if (reached.value !== i) throw new Error(`${k}: move ${i} reported ${reached.value}`);
    }
    const used = process.cpuUsage(before);
    wallPerMove[k].push(((performance.now() - t0) * 1000) / MOVES);
    perMove[k].push((used.user + used.system) / MOVES);
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
for (const k of [a, b]) {
  console.log(
    `${k}: ${median(perMove[k]).toFixed(1)} µs CPU per move (${perMove[k].map((x) => x.toFixed(1)).join(' ')})`,
  );
}
console.log(
  `${b} / ${a}: CPU ${(median(perMove[b]) / median(perMove[a])).toFixed(3)}, wall-clock ${(median(wallPerMove[b]) / median(wallPerMove[a])).toFixed(3)}`,
);
for (const c of Object.values(chains)) await c.close();
