// A simulated camera: a 2-D gaussian spot with noise. 0D gives the spot's integrated signal, 1D the
// horizontal profile through the spot, 2D the whole image, ND a stack of two images. Used by the
// `pymodaq client detector` command, the demo and the tests.

import { type DataDim, type DataToExport, dataFromPlugins, dataToExport, NdArray } from '../codec';
import type { GrabDim } from '../commands';
import type { DetectorHandlers } from '../detector';

type GaussianDetectorOptions = NonNullable<ConstructorParameters<typeof GaussianDetector>[0]>;

export class GaussianDetector {
  readonly width: number;
  readonly height: number;
  readonly name: string;
  readonly #o: Required<Omit<GaussianDetectorOptions, 'name' | 'width' | 'height'>>;
  #x: number;
  #y: number;
  #state: number;
  #spare: number | undefined;
  /** Frames produced so far. */
  frames = 0;

  constructor(
    options: {
      /** Image width in pixels. Default 128. */
      width?: number;
      /** Image height in pixels. Default 96. */
      height?: number;
      /** Peak height above the background. Default 100. */
      amplitude?: number;
      /** Spot widths (1/e² radius / 2) in pixels. Default width/8 and height/8. */
      sigmaX?: number;
      sigmaY?: number;
      /** Spot centre. Default the image centre. */
      x0?: number;
      y0?: number;
      /** Background level. Default 5. */
      background?: number;
      /** Standard deviation of the gaussian noise added to every pixel. Default 2. */
      noise?: number;
      /** How far the centre wanders between frames, in pixels (standard deviation). Default 0.5. */
      jitter?: number;
      /** Seed of the pseudo-random generator (the same seed gives the same frames). Default 1. */
      seed?: number;
      /** Name of the DataToExport / DataFromPlugins. Default `gaussian`. */
      name?: string;
    } = {},
  ) {
    this.width = options.width ?? 128;
    this.height = options.height ?? 96;
    if (
      !Number.isInteger(this.width) ||
      !Number.isInteger(this.height) ||
      this.width < 1 ||
      this.height < 1
    ) {
      throw new RangeError(`image size must be whole numbers >= 1, got ${this.width}x${this.height}`);
    }
    this.name = options.name ?? 'gaussian';
    this.#o = {
      amplitude: options.amplitude ?? 100,
      sigmaX: options.sigmaX ?? this.width / 8,
      sigmaY: options.sigmaY ?? this.height / 8,
      x0: options.x0 ?? (this.width - 1) / 2,
      y0: options.y0 ?? (this.height - 1) / 2,
      background: options.background ?? 5,
      noise: options.noise ?? 2,
      jitter: options.jitter ?? 0.5,
      seed: options.seed ?? 1,
    };
    this.#x = this.#o.x0;
    this.#y = this.#o.y0;
    this.#state = this.#o.seed >>> 0 || 1;
  }

  /** One noisy image, row-major, `height` rows of `width` float64 pixels. */
  image(): Float64Array {
    const { amplitude, sigmaX, sigmaY, background, noise, jitter } = this.#o;
    // The spot wanders a little around its home position.
    this.#x += jitter * this.#gauss() + 0.1 * (this.#o.x0 - this.#x);
    this.#y += jitter * this.#gauss() + 0.1 * (this.#o.y0 - this.#y);
    const w = this.width;
    const h = this.height;
    const out = new Float64Array(w * h);
    const gx = new Float64Array(w);
    for (let x = 0; x < w; x++) gx[x] = Math.exp(-((x - this.#x) ** 2) / (2 * sigmaX * sigmaX));
    for (let y = 0; y < h; y++) {
      const gy = amplitude * Math.exp(-((y - this.#y) ** 2) / (2 * sigmaY * sigmaY));
      const row = y * w;
      for (let x = 0; x < w; x++) out[row + x] = background + gy * gx[x]! + noise * this.#gauss();
    }
    this.frames++;
    return out;
  }

  /** Data as a detector returns it for `Send Data <dim>`. */
  grab(dim: GrabDim): DataToExport {
    const img = this.image();
    const w = this.width;
    const h = this.height;
    let array: NdArray;
    let kind: DataDim;
    switch (dim) {
      case '0D': {
        let sum = 0;
        for (let i = 0; i < img.length; i++) sum += img[i]!;
        array = NdArray.fromTyped(Float64Array.of(sum / img.length), [1]);
        kind = 'Data0D';
        break;
      }
      case '1D': {
        const row = Math.min(h - 1, Math.max(0, Math.round(this.#y)));
        array = NdArray.fromTyped(img.slice(row * w, row * w + w), [w]);
        kind = 'Data1D';
        break;
      }
      case '2D':
        array = NdArray.fromTyped(img, [h, w]);
        kind = 'Data2D';
        break;
      case 'ND': {
        const stack = new Float64Array(2 * w * h);
        stack.set(img, 0);
        stack.set(this.image(), w * h);
        array = NdArray.fromTyped(stack, [2, h, w]);
        kind = 'DataND';
        break;
      }
    }
    const timestamp = Date.now() / 1000;
    return dataToExport({
      name: this.name,
      timestamp,
      data: [
        dataFromPlugins({
          name: this.name,
          data: [array],
          dim: kind,
          labels: ['CH00'],
          units: 'counts',
          timestamp,
        }),
      ],
    });
  }

  /** The handlers a PymodaqDetector needs to serve this camera. */
  handlers(): DetectorHandlers {
    return { grab: (dim) => this.grab(dim) };
  }

  /** mulberry32 + Box–Muller: a standard normal deviate. */
  #gauss(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.#uniform();
    const v = this.#uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  #uniform(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
