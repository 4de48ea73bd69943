// The image link of `pymodaq.image-32MiB`, for the library and for plain `net`: a 2048×2048 float64
// image (32 MiB) in a gen D DataToExport, sent by the connecting side (the detector) when the accepting
// side (the server) asks for it. Used by the stream child (bench/child/pymodaq-image.ts), the RSS child
// (bench/cases/pymodaq.ts) and the per-side diagnostic (bench/diag/image-bisect.ts).

import { PymodaqDetector, PymodaqServer } from '@labwire/pymodaq';
import {
  type DataToExport,
  dataFromPlugins,
  dataToExport,
  NdArray,
  resolveProfile,
} from '@labwire/pymodaq/codec';
import { type BulkReplyOptions, joinSmallParts, rawBulkLink } from './baselines';

export const PROTOCOL = 'D';
const SIDE = 2048;
export const IMAGE_BYTES = SIDE * SIDE * 8;
/** V8's largest semi-space on 64-bit Node 20 (MiB), passed to the image children explicitly. */
export const SEMI_SPACE_MIB = 16;

export function image(): DataToExport {
  const pixels = new Float64Array(SIDE * SIDE);
  for (let i = 0; i < pixels.length; i += 97) pixels[i] = i;
  const timestamp = 1_700_000_000;
  const camera = dataFromPlugins({
    name: 'camera',
    timestamp,
    data: [NdArray.fromTyped(pixels, [SIDE, SIDE])],
  });
  return dataToExport({ name: 'camera', timestamp, data: [camera] });
}

/** One established link of either side: `transfer()` moves one image, request to last byte received. */
export interface ImageLink {
  transfer(): Promise<void>;
  close(): Promise<void>;
}

/** The accepting side of the library link (not listening yet): a gen D server asking for images. */
export function imageServer(): PymodaqServer {
  return new PymodaqServer({ protocol: PROTOCOL, port: 0, role: 'detector', timeoutMs: 60_000 });
}

/** The connecting side of the library link (not connected yet): a gen D detector answering with `data`. */
export function imageDetector(port: number, data: DataToExport): PymodaqDetector {
  return new PymodaqDetector({
    protocol: PROTOCOL,
    port,
    reconnect: false,
    timeoutMs: 60_000,
    handlers: { grab: () => data },
  });
}

/** PymodaqServer + PymodaqDetector: the server grabs, checks and hands each frame back. */
export async function libraryLink(data: DataToExport): Promise<ImageLink> {
  const server = imageServer();
  const { port } = await server.listen();
  const detector = imageDetector(port, data);
  await detector.connect();
  await server.waitForClient('GRABBER');
  return {
    async transfer() {
      const got = await server.grab('2D');
      const array = got.data[0]!.data[0]!;
      if (array.data.length !== IMAGE_BYTES) throw new Error(`received ${array.data.length} bytes`);
      // Done with the frame, as a viewer is once it drew it: the next one is received into its memory,
      // as the baseline receives every image into one reused buffer.
      server.release(got);
    },
    async close() {
      await detector.close();
      await server.close();
    },
  };
}

/**
 * PyMoDAQ's request for an image and the detector's reply carrying `data`, byte for byte, the reply in
 * the writes the baseline makes (small parts joined, the image's bytes as they are).
 */
export function imageExchange(data: DataToExport): BulkReplyOptions {
  const p = resolveProfile(PROTOCOL);
  return {
    request: p.encodeCommand('Send Data 2D'),
    reply: joinSmallParts([p.encodeCommand('Done'), ...p.encodeDetectorDataParts(data)]),
  };
}

/** Plain `net`: PyMoDAQ's request and the detector's reply, byte for byte, written the same way. */
export async function baselineLink(data: DataToExport): Promise<ImageLink> {
  return rawBulkLink(imageExchange(data));
}
