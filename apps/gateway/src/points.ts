// Writing a point (a DCMD) and reading it back (what the confirming DDATA carries), through the device's
// own OptoMMP client, so the write and the read queue on the one connection the scanner uses: the read is
// answered after the write, and carries the value the device now holds (clamped, or refused, as it is).

import type { OperationOptions } from '@labwire/framing';
import type { OptoMmpClient, ScanPoint } from '@labwire/optommp';

/** What a DCMD value must be to be written to `point`; undefined when it fits. */
export function checkWriteValue(point: ScanPoint, value: unknown): string | undefined {
  switch (point.kind) {
    case 'digital':
      return typeof value === 'boolean' ? undefined : `a boolean is needed, got ${typeof value}`;
    case 'analog':
    case 'float32':
    case 'f32':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `a finite number is needed, got ${String(value)}`;
    case 'int32':
    case 'i32':
      return Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31
        ? undefined
        : `a 32-bit signed integer is needed, got ${String(value)}`;
    case 'u32':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) < 2 ** 32
        ? undefined
        : `a 32-bit unsigned integer is needed, got ${String(value)}`;
    case 'uptime':
      return 'uptime is read-only';
  }
}

/** Writes `value` (checked with checkWriteValue first) to the point. */
export async function writePoint(
  client: OptoMmpClient,
  point: ScanPoint,
  value: number | boolean,
  options: OperationOptions,
): Promise<void> {
  switch (point.kind) {
    case 'digital':
      return client.setDigitalPointState(point.module, point.channel, value as boolean, options);
    case 'analog':
      return client.setAnalogPointValue(point.module, point.channel, value as number, options);
    case 'int32':
      return client.setScratchPadIntegerArea(point.index, value as number, options);
    case 'float32':
      return client.setScratchPadFloatArea(point.index, value as number, options);
    case 'i32':
    case 'u32':
      return client.writeInt32(point.address, value as number, options);
    case 'f32':
      return client.writeFloat32(point.address, value as number, options);
    case 'uptime':
      throw new RangeError('uptime is read-only');
  }
}

/** Reads the point's current value, as the scanner would report it. */
export async function readPoint(
  client: OptoMmpClient,
  point: ScanPoint,
  options: OperationOptions,
): Promise<number | boolean> {
  switch (point.kind) {
    case 'digital':
      return client.getDigitalPointState(point.module, point.channel, options);
    case 'analog':
      return client.getAnalogPointValue(point.module, point.channel, options);
    case 'int32':
      return client.getScratchPadIntegerArea(point.index, options);
    case 'float32':
      return client.getScratchPadFloatArea(point.index, options);
    case 'i32':
      return client.readInt32(point.address, options);
    case 'u32':
      return client.readUint32(point.address, options);
    case 'f32':
      return client.readFloat32(point.address, options);
    case 'uptime':
      return client.uptime(options);
  }
}
