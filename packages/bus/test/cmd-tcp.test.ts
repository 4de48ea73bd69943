// The Pyrame façade: cmd_tcp's functions, string arguments, `(retcode, message)` results with `tcp: `
// failure prefixes and cmd_tcp's own messages (docs/protocols/cmd_tcp.md §1–§10).

import { CMD_TCP_API, CmdTcp, pyrameResult, TcpBus } from '@labwire/bus';
import { afterEach, describe, expect, it } from 'vitest';
import { type Device, lineEcho, startDevice } from './helpers';

let device: Device | undefined;
let cmd: CmdTcp | undefined;

afterEach(async () => {
  await cmd?.close();
  await device?.close();
  cmd = undefined;
  device = undefined;
});

describe('results', () => {
  it('are the tuple [retcode, message] that also has .retcode and .message', () => {
    const r = pyrameResult(1, 'ok');
    expect(r).toEqual([1, 'ok']);
    expect(r.retcode).toBe(1);
    expect(r.message).toBe('ok');
    expect(JSON.stringify(r)).toBe('[1,"ok"]');
    const [retcode, message] = r;
    expect([retcode, message]).toEqual([1, 'ok']);
  });
});

describe('cmd_tcp unit_test.sh through the façade', () => {
  async function session(stream: string | undefined): Promise<CmdTcp> {
    device = await startDevice(({ socket }) => {
      if (stream !== undefined) socket.write(stream);
    });
    cmd = new CmdTcp();
    expect(await cmd.init_tcp(`tcp(host=localhost,port=${device.port})`)).toEqual([1, '0']);
    expect(await cmd.config_tcp('0')).toEqual([1, `127.0.0.1,${device.port}`]);
    return cmd;
  }

  async function finish(c: CmdTcp): Promise<string> {
    expect(await c.inval_tcp('0')).toEqual([1, 'ok']);
    expect(await c.deinit_tcp('0')).toEqual([1, 'ok']);
    const conn = await device!.connection(0);
    await conn.ended;
    return conn.received().toString('latin1');
  }

  it.each([
    ['TESTTEST\n', (c: CmdTcp) => c.read_tcp('0', '9'), 'TESTTEST', ''],
    ['__TEST__', (c: CmdTcp) => c.read_until_tcp('0', 'E'), '__T', ''],
    ['TESTTEST\n', (c: CmdTcp) => c.wrnrd_tcp('0', '__TEST__', '9'), 'TESTTEST', '__TEST__'],
    ['__TEST__', (c: CmdTcp) => c.wrnrd_until_tcp('0', '__TEST__', 'E'), '__T', '__TEST__'],
    ['__TEST__', (c: CmdTcp) => c.read_bin_tcp('0', '8'), '5f5f544553545f5f', ''],
    ['__TEST__', (c: CmdTcp) => c.read_bin_until_tcp('0', 'E'), '5f5f54', ''],
    [
      'TESTTEST\n',
      (c: CmdTcp) => c.wrnrd_bin_tcp('0', '5f5f544553545f5f', '9'),
      '54455354544553540a',
      '__TEST__',
    ],
    ['__TEST__', (c: CmdTcp) => c.wrnrd_bin_until_tcp('0', '5f5f544553545f5f', 'E'), '5f5f54', '__TEST__'],
  ])('device sends %j: %s', async (stream, call, result, sent) => {
    const c = await session(stream);
    expect(await call(c)).toEqual([1, result]);
    expect(await finish(c)).toBe(sent);
  });

  it('write_tcp TEST then write_bin_tcp 544553540a', async () => {
    const c = await session(undefined);
    expect(await c.write_tcp('0', 'TEST')).toEqual([1, 'ok']);
    expect(await c.write_bin_tcp('0', '544553540a')).toEqual([1, 'ok']);
    expect(await finish(c)).toBe('TESTTEST\n');
  });
});

describe('messages', () => {
  it('phases: not configured, already configured, unknown ids, idempotent inval and deinit', async () => {
    device = await startDevice(lineEcho());
    cmd = new CmdTcp();
    const conf = `tcp(host=127.0.0.1,port=${device.port})`;
    expect(await cmd.init_tcp('3', conf)).toEqual([1, '3']);
    expect(await cmd.init_tcp('3', conf)).toEqual([0, 'tcp: id 3 already existant in the pool']);
    expect(await cmd.read_tcp('3', '1')).toEqual([0, 'tcp: not configured']);
    expect(await cmd.inval_tcp('3')).toEqual([1, 'not configured']);
    expect(await cmd.config_tcp('3')).toEqual([1, `127.0.0.1,${device.port}`]);
    expect(await cmd.config_tcp('3')).toEqual([0, 'tcp: already configured']);
    expect(await cmd.wrnrd_until_tcp('3', 'hi\\n', '\\n')).toEqual([1, 'R:hi']);
    expect(await cmd.config_tcp('9')).toEqual([0, 'tcp: link_id 9 has not been found in the pool']);
    expect(await cmd.inval_tcp('9')).toEqual([0, 'tcp: link_id 9 has not been found in the pool']);
    expect(await cmd.deinit_tcp('9')).toEqual([1, 'link_id 9 has not been found in the pool']);
    expect(await cmd.deinit_tcp('')).toEqual([1, "link_invalid literal for int() with base 10: ''"]);
    expect(await cmd.deinit_tcp('3')).toEqual([1, 'ok']);
  });

  it("conf_string errors carry Pyrame's text after tcp: ", async () => {
    cmd = new CmdTcp();
    expect(await cmd.init_tcp('1', 'tcp')).toEqual([
      0,
      'tcp: conf_string: error, must be of the form "module_name(parameter_list)"',
    ]);
    expect(await cmd.init_tcp('1', 'udp(host=a,port=1)')).toEqual([
      0,
      'tcp: Invalid module name udp in conf_string. Should be tcp',
    ]);
    expect(await cmd.init_tcp('1', 'tcp(host=a)')).toEqual([
      0,
      'tcp: A required parameter in conf_string is not present',
    ]);
    expect(await cmd.init_tcp('1', 'tcp(host=a,port=99999)')).toEqual([
      0,
      'tcp: Invalid destination port: 99999',
    ]);
  });

  it('I/O errors: timeouts, hex, eot, expect', async () => {
    device = await startDevice(({ socket }) => socket.write('xyz'));
    cmd = new CmdTcp();
    await cmd.init_tcp('0', `tcp(host=127.0.0.1,port=${device.port},timeout=0.05)`);
    await cmd.config_tcp('0');
    expect(await cmd.read_until_tcp('0', '\\n')).toEqual([0, 'tcp: Timeout waiting for EOT character']);
    expect(await cmd.read_tcp('0', '3')).toEqual([1, 'xyz']);
    expect(await cmd.read_tcp('0', '1')).toEqual([
      0,
      `tcp: TCP link at 127.0.0.1:${device.port} is not responding <- timed out`,
    ]);
    expect(await cmd.write_bin_tcp('0', 'abc')).toEqual([
      0,
      'tcp: data must have a length multiple of 2. Current length: 3',
    ]);
    expect(await cmd.write_bin_tcp('0', 'zz')).toEqual([
      0,
      "tcp: invalid literal for int() with base 16: 'zz'",
    ]);
    expect(await cmd.read_until_tcp('0', 'undef')).toEqual([
      0,
      'tcp: End Of Transmission (eot) parameter needed',
    ]);
    (await device.connection(0)).socket.write('..OK..');
    expect(await cmd.expect_tcp('0', 'OK', '1')).toEqual([1, 'Pattern found']);
    expect(await cmd.read_tcp('0', '2')).toEqual([1, '..']);
  });

  it('call() dispatches by name with string arguments, checking the count', async () => {
    device = await startDevice(lineEcho());
    cmd = new CmdTcp(new TcpBus());
    expect(await cmd.call('init_tcp', ['1', `tcp(host=127.0.0.1,port=${device.port})`])).toEqual([1, '1']);
    expect((await cmd.call('config_tcp', ['1'])).retcode).toBe(1);
    expect(await cmd.call('wrnrd_until_tcp', ['1', 'x\\n', '\\n', 'undef'])).toEqual([1, 'R:x']);
    expect((await cmd.call('read_tcp', ['1'])).message).toMatch(/^tcp: read_tcp takes 2 to 3 parameter/);
    expect(await cmd.call('nope_tcp', [])).toEqual([0, 'tcp: unknown function nope_tcp']);
    expect((await cmd.call('getapi_tcp', [])).message.split('\n')).toHaveLength(CMD_TCP_API.length);
    await cmd.bus.close(); // not owned by the façade
  });
});
