// A PyMoDAQ scan: labwire plays both sides. A PymodaqServer does what PyMoDAQ's TCPServer plugins do; an
// actuator client drives a simulated stage, a detector client a simulated camera whose spot follows the
// stage. The server steps the stage and grabs an image at each position, once per wire format.

import {
  GaussianDetector,
  PymodaqActuator,
  PymodaqDetector,
  PymodaqServer,
  SimulatedStage,
} from '@labwire/pymodaq';
import cliProgress from 'cli-progress';
import type { Narrator } from './narrator';
import type { StepRecord } from './report';
import { runStep, type StepContext } from './steps';

const POSITIONS = [-2, -1, 0, 1, 2, 3, 4, 5, 6];
/** Where the simulated beam is centred on the camera, in stage millimetres. */
const BEAM_AT_MM = 2;
const WIDTH = 64;
const HEIGHT = 48;

/** The camera: a gaussian spot that moves 6 pixels per mm of stage travel. */
function camera(stage: SimulatedStage) {
  let frame = 0;
  return {
    grab: (dim: '0D' | '1D' | '2D' | 'ND') =>
      new GaussianDetector({
        width: WIDTH,
        height: HEIGHT,
        x0: WIDTH / 2 + (stage.position - BEAM_AT_MM) * 6,
        y0: HEIGHT / 2,
        sigmaX: 5,
        sigmaY: 5,
        jitter: 0,
        noise: 1,
        seed: ++frame,
        name: 'camera',
      }).grab(dim),
  };
}

/** `promise`, or a rejection after `ms` or when `signal` aborts. */
function within<T>(promise: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

async function scan(protocol: string, label: string, ctx: StepContext): Promise<string> {
  const { say, signal, narrator } = ctx;
  await using actuatorServer = new PymodaqServer({ protocol, role: 'actuator', port: 0 });
  await using detectorServer = new PymodaqServer({ protocol, role: 'detector', port: 0 });
  const a = await actuatorServer.listen({ signal });
  const d = await detectorServer.listen({ signal });
  say(`PyMoDAQ ${label} servers: actuator on ${a.host}:${a.port}, detector on ${d.host}:${d.port}`);
  // The actuator's unit arrives in its Infos XML, after it identified: wait for that message.
  const infos = new Promise<string | undefined>((resolve) => {
    actuatorServer.on('infos', (e) => {
      if (e.client.type === 'ACTUATOR') resolve(e.units);
    });
  });

  const stage = new SimulatedStage({ speed: 40, units: 'mm' });
  await using actuator = new PymodaqActuator({
    protocol,
    port: a.port,
    handlers: stage.handlers(),
    units: 'mm',
  });
  await using detector = new PymodaqDetector({ protocol, port: d.port, handlers: camera(stage) });
  await Promise.all([actuator.connect({ signal }), detector.connect({ signal })]);
  const [act, det] = await Promise.all([
    actuatorServer.waitForClient('ACTUATOR', { signal }),
    detectorServer.waitForClient('GRABBER', { signal }),
  ]);
  say(`clients identified: ${act.type} and ${det.type}`);
  const units = await within(infos, 5_000, signal, 'no Infos from the actuator');

  const bar = narrator.progress
    ? new cliProgress.SingleBar(
        {
          format: `  scan ${label.padEnd(4)} [{bar}] {value}/{total} positions | {status}`,
          stream: narrator.err,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(POSITIONS.length, 0, { status: 'moving' });
  let best = { position: Number.NaN, signal: Number.NEGATIVE_INFINITY };
  let bytes = 0;
  for (const [i, target] of POSITIONS.entries()) {
    const reached = await actuatorServer.moveAbs(target, { signal, timeoutMs: 5_000 });
    const data = await detectorServer.grab('2D', { signal, timeoutMs: 5_000 });
    const image = data.data[0]!.data[0]!;
    const pixels = image.toNumbers();
    bytes += image.data.length;
    // Signal in a 9×9 window at the camera centre: the beam is aligned where it peaks.
    let sum = 0;
    for (let y = HEIGHT / 2 - 4; y <= HEIGHT / 2 + 4; y++)
      for (let x = WIDTH / 2 - 4; x <= WIDTH / 2 + 4; x++) sum += pixels[y * WIDTH + x]!;
    if (sum > best.signal) best = { position: reached.value, signal: sum };
    const line = `x = ${reached.value.toFixed(2)} ${reached.units ?? ''} → ${image.shape.join('×')} ${image.dtype} image, centre signal ${sum.toFixed(0)}`;
    if (bar) bar.update(i + 1, { status: line.trim() });
    else say(line);
  }
  bar?.stop();
  say(
    `${POSITIONS.length} moves answered with move_done, ${POSITIONS.length} images (${(bytes / 1024).toFixed(0)} KiB) received; ` +
      `actuator units "${units ?? act.units ?? ''}" (from its Infos XML)`,
  );
  if (best.position !== BEAM_AT_MM)
    throw new Error(`the scan peaked at ${best.position} mm, expected ${BEAM_AT_MM} mm`);
  return `beam centred at stage x = ${best.position} mm (${label} wire format)`;
}

export async function pymodaqSteps(records: StepRecord[], narrator: Narrator): Promise<void> {
  const section = 'PyMoDAQ';
  narrator.section(
    'PyMoDAQ · TCP/IP remote control',
    'An alignment scan: step a stage, grab a camera image at each position, find where the beam is centred.\n' +
      'PyMoDAQ 4.4 (DataWithAxes layout C4) and 5.x (tagged frames) are wire-incompatible; labwire speaks both.',
  );
  // The same scan once per wire generation: [protocol as the server is told, label as users know it].
  for (const [protocol, label] of [
    ['4.4', '4.4'],
    ['5.0', '5.x'],
  ]) {
    await runStep(
      records,
      narrator,
      section,
      `scan in the ${label} format`,
      (ctx) => scan(protocol, label, ctx),
      30_000,
    );
  }
}
