// The README's synopsis examples, executed against a loopback SCPI device (its port replaces 5025).

import fs from 'node:fs';
import path from 'node:path';
import * as lib from '@labwire/bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, startDevice } from './helpers';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<unknown>;

let device: Device;

beforeAll(async () => {
  device = await startDevice(({ socket }) => {
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) {
        const q = buf.slice(0, at);
        buf = buf.slice(at + 1);
        if (q === '*IDN?') socket.write('ACME,DMM,1234,1.0\r\n');
        if (q === 'MEAS?') socket.write('1.25\n');
      }
    });
  });
});

afterAll(async () => {
  await device.close();
});

function run(block: string, result: string): Promise<unknown> {
  const code = block
    .replace(/^import \{([^}]+)\} from '@labwire\/bus';$/m, 'const {$1} = lib;')
    .replaceAll('5025', String(device.port));
  return new AsyncFunction('lib', `${code}\nreturn ${result};`)(lib);
}

describe('README', () => {
  it('the native synopsis runs as written', async () => {
    expect(blocks[0]).toContain("bus.wrnrdUntil('dmm', '*IDN?\\\\n', '\\\\n')");
    expect(await run(blocks[0]!, '{ idn, volts }')).toEqual({ idn: 'ACME,DMM,1234,1.0', volts: 1.25 });
  });

  it('the façade synopsis runs as written', async () => {
    expect(await run(blocks[1]!, '{ retcode, message }')).toEqual({
      retcode: 1,
      message: 'ACME,DMM,1234,1.0',
    });
  });
});
