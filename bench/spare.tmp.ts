import { NdArray, PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';
import { dataFromPlugins, dataToExport } from '@labwire/pymodaq/codec';
const SIDE = 1024;
const pixels = new Float64Array(SIDE * SIDE);
const img = dataToExport({ name: 'camera', timestamp: 1, data: [dataFromPlugins({ name: 'c', timestamp: 1, data: [NdArray.fromTyped(pixels, [SIDE, SIDE])] })] });
const server = new PymodaqServer({ protocol: 'D', port: 0, role: 'detector' });
const { port } = await server.listen();
const det = new PymodaqDetector({ protocol: 'D', port, reconnect: false, handlers: { grab: () => img } });
await det.connect(); await server.waitForClient('GRABBER');
const bufs: ArrayBufferLike[] = [];
for (let i = 0; i < 4; i++) {
  const got = await server.grab('2D');
  const a = got.data[0]!.data[0]!;
  console.log(i, a.data.buffer.byteLength, a.data.byteOffset);
  await new Promise((r) => setTimeout(r, 50));
}
await det.close(); await server.close();
