// Pyrame's own unit test (bus/cmd_tcp/unit_test.sh, docs/protocols/cmd_tcp.md §10) against a real loopback listener:
// each case runs init, config, the calls, inval, deinit on a fresh listener that plays the device (`nc -l`).

import { TcpBus } from '@labwire/bus';
import { afterEach, describe, expect, it } from 'vitest';
import { type Device, startDevice } from './helpers';

const RAW = 'TESTTEST\n'; // raw.ref
const RAW2 = '__TEST__'; // raw2.ref

let device: Device | undefined;
let bus: TcpBus | undefined;

afterEach(async () => {
  await bus?.close();
  await device?.close();
  bus = undefined;
  device = undefined;
});

/** A fresh listener that sends `stream` to the client as soon as it connects, like `cat file | nc -l`. */
async function run<T>(
  stream: string | undefined,
  calls: (bus: TcpBus) => Promise<T>,
): Promise<{ result: T; sent: string }> {
  device = await startDevice(({ socket }) => {
    if (stream !== undefined) socket.write(stream);
  });
  bus = new TcpBus();
  // The unit test's conf_string uses localhost; the listener is on 127.0.0.1 (family 4 is the default).
  expect(bus.init(0, `tcp(host=localhost,port=${device.port})`)).toBe('0');
  expect(await bus.config(0)).toBe(`127.0.0.1,${device.port}`);
  const result = await calls(bus);
  expect(await bus.inval(0)).toBe(true);
  expect(await bus.deinit(0)).toBe(true);
  const conn = await device.connection(0);
  await conn.ended;
  return { result, sent: conn.received().toString('latin1') };
}

describe('cmd_tcp unit_test.sh golden cases', () => {
  it('1: write "TEST" then write_bin "544553540a": TEST then TEST\\n on the wire', async () => {
    const { sent } = await run(undefined, async (b) => {
      await b.write(0, 'TEST');
      await b.writeBin(0, '544553540a');
    });
    expect(Buffer.from(sent, 'latin1').toString('hex')).toBe('54455354544553540a');
  });

  it('2: read 9 of TESTTEST\\n -> TESTTEST (LF stripped)', async () => {
    const { result } = await run(RAW, (b) => b.read(0, 9));
    expect(result).toBe('TESTTEST');
  });

  it('3: read_until "E" of __TEST__ -> __T', async () => {
    const { result } = await run(RAW2, (b) => b.readUntil(0, 'E'));
    expect(result).toBe('__T');
  });

  it('4: wrnrd "__TEST__" 9 -> TESTTEST, and __TEST__ reaches the device', async () => {
    const { result, sent } = await run(RAW, (b) => b.wrnrd(0, RAW2, 9));
    expect(result).toBe('TESTTEST');
    expect(sent).toBe(RAW2);
  });

  it('5: wrnrd_until "__TEST__" "E" -> __T', async () => {
    const { result, sent } = await run(RAW2, (b) => b.wrnrdUntil(0, RAW2, 'E'));
    expect(result).toBe('__T');
    expect(sent).toBe(RAW2);
  });

  it('6: read_bin 8 of __TEST__ -> 5f5f544553545f5f', async () => {
    const { result } = await run(RAW2, (b) => b.readBin(0, 8));
    expect(result).toBe('5f5f544553545f5f');
  });

  it('7: read_bin_until "E" of __TEST__ -> 5f5f54', async () => {
    const { result } = await run(RAW2, (b) => b.readBinUntil(0, 'E'));
    expect(result).toBe('5f5f54');
  });

  it('8: wrnrd_bin "5f5f544553545f5f" 9 -> 54455354544553540a (lowercase, 18 digits)', async () => {
    const { result, sent } = await run(RAW, (b) => b.wrnrdBin(0, '5f5f544553545f5f', 9));
    expect(result).toBe('54455354544553540a');
    expect(sent).toBe(RAW2);
  });

  it('9: wrnrd_bin_until "5f5f544553545f5f" "E" -> 5f5f54', async () => {
    const { result, sent } = await run(RAW2, (b) => b.wrnrdBinUntil(0, '5f5f544553545f5f', 'E'));
    expect(result).toBe('5f5f54');
    expect(sent).toBe(RAW2);
  });

  it('§8.5: bytes after the eot stay for the next read', async () => {
    const { result } = await run(RAW2, async (b) => [await b.readUntil(0, 'E'), await b.read(0, 4)]);
    expect(result).toEqual(['__T', 'ST__']);
  });
});
