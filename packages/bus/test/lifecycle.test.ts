// Phases and the link pool (docs/protocols/cmd_tcp.md §2–§4): init never touches the network, config connects,
// inval/deinit are idempotent, ids, conf validation with Pyrame's messages.

import { ConnectError, InvalidConfError, TcpBus, UnknownKindError } from '@labwire/bus';
import { LoopbackServer } from '@labwire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyConfiguredError,
  IdInUseError,
  NotConfiguredError,
  ResolveError,
  UnknownIdError,
} from '../src/errors';
import { REQUIRED_PARAMETER_MESSAGE } from '../src/tcp-kind';
import { type Device, pause, rejection, startDevice, thrown } from './helpers';

let device: Device;
let bus: TcpBus;

beforeEach(async () => {
  device = await startDevice();
  bus = new TcpBus();
});

afterEach(async () => {
  await bus.close();
  await device.close();
});

const conf = (extra = '') => `tcp(host=127.0.0.1,port=${device.port}${extra})`;

describe('init', () => {
  it('never touches the network: no connect, no DNS', async () => {
    bus.init(1, conf());
    // A name that no resolver knows: init must not look it up.
    bus.init(2, 'tcp(host=no-such-host.invalid,port=5025)');
    await pause(30);
    expect(device.accepts).toBe(0);
    expect(bus.link(1).state).toBe('initialised');
  });

  it('with one argument assigns max(integer ids) + 1, or 0, as Pyrame 2.1.3', async () => {
    expect(bus.init(conf())).toBe('0');
    expect(bus.init(conf())).toBe('1');
    expect(bus.init(conf())).toBe('2');
    bus.init('dmm', conf()); // named ids do not count
    expect(await bus.deinit(2)).toBe(true);
    expect(bus.init(conf())).toBe('2'); // freed at the top: reused
    expect(await bus.deinit(0)).toBe(true);
    expect(bus.init(conf())).toBe('3'); // freed below the maximum: not reused
  });

  it('a caller-chosen id that exists is refused with the pool message', () => {
    bus.init(7, conf());
    const e = thrown(() => bus.init('007', conf())); // int('007') == 7 in Pyrame's pool
    expect(IdInUseError.isInstance(e)).toBe(true);
    expect(e.code).toBe('IdInUse');
    expect(e.pyrameMessage).toBe('id 7 already existant in the pool');
    expect(e.linkId).toBe('7');
  });

  it.each([
    ['tcp', 'conf_string: error, must be of the form "module_name(parameter_list)"'],
    ['tcp(host=a,port=1', 'conf_string: error, must end with closing paretheses ")"'],
    ['serial(port=/dev/ttyS0)', 'Invalid module name serial in conf_string. Should be tcp'],
    ['tcp (host=a,port=1)', 'Invalid module name tcp  in conf_string. Should be tcp'],
    ['tcp(host=a)', REQUIRED_PARAMETER_MESSAGE],
    ['tcp(host=a, port=1)', REQUIRED_PARAMETER_MESSAGE], // the key is " port"
    ['tcp(host=a,port=70000)', 'Invalid destination port: 70000'],
    ['tcp(host=a,port=-1)', 'Invalid destination port: -1'],
    // Q8: Pyrame raises uncaught ValueErrors here; labwire answers InvalidConf.
    ['tcp(host=a,port=x)', 'Invalid destination port: x'],
    ['tcp(host=a,port=1,timeout=soon)', 'could not convert string to float: soon'],
    // Q21: a conf timeout must be finite and > 0.
    ['tcp(host=a,port=1,timeout=0)', 'Invalid timeout: 0'],
    ['tcp(host=a,port=1,timeout=inf)', 'could not convert string to float: inf'],
    ['tcp(host=a,port=1,family=5)', 'Invalid family: 5'],
    ['tcp(host=a,port=1,desync=maybe)', 'Invalid desync: maybe'],
  ])('%s -> InvalidConf %j', (text, message) => {
    const e = thrown(() => bus.init(1, text));
    expect(InvalidConfError.isInstance(e) || UnknownKindError.isInstance(e)).toBe(true);
    expect(e.code).toBe('InvalidConf');
    expect(e.op).toBe('init');
    expect(e.pyrameMessage).toBe(message);
    expect(() => bus.link(1)).toThrow(UnknownIdError); // nothing registered
  });

  it('timeout: undef means the bus default (60 s), seconds otherwise; other keys are ignored', () => {
    bus.init(1, conf(',timeout=undef,foo=bar'));
    bus.init(2, conf(',timeout=2.5'));
    expect(bus.link(1).timeoutMs).toBe(60_000);
    expect(bus.link(2).timeoutMs).toBe(2_500);
    expect(new TcpBus({ defaultTimeoutMs: 1_000 }).init(conf())).toBe('0');
  });

  it('port 0 passes init and fails at config (Q20, kept)', async () => {
    bus.init(1, 'tcp(host=127.0.0.1,port=0)');
    const e = await rejection(bus.config(1));
    expect(ConnectError.isInstance(e)).toBe(true);
    expect(e.pyrameMessage).toBe('Error connecting to 127.0.0.1:0');
  });
});

describe('config, inval, deinit', () => {
  it('config connects and returns the canonical key; a second config is refused', async () => {
    bus.init(1, conf());
    expect(await bus.config(1)).toBe(`127.0.0.1,${device.port}`);
    expect(device.accepts).toBe(1);
    expect(bus.link(1)).toMatchObject({
      state: 'configured',
      canonical: `127.0.0.1,${device.port}`,
      sharedBy: 1,
    });
    const e = await rejection(bus.config(1));
    expect(AlreadyConfiguredError.isInstance(e)).toBe(true);
    expect(e.pyrameMessage).toBe('already configured');
    expect(e.linkId).toBe('1');
    expect(e.op).toBe('config');
    expect(device.accepts).toBe(1);
  });

  it('inval closes, is idempotent, and config can run again', async () => {
    bus.init(1, conf());
    await bus.config(1);
    const first = await device.connection(0);
    expect(await bus.inval(1)).toBe(true);
    await first.ended; // the socket is closed explicitly (Q3)
    expect(await bus.inval(1)).toBe(false); // Pyrame: success, "not configured"
    expect(bus.link(1).state).toBe('initialised');
    await bus.config(1);
    expect(device.accepts).toBe(2);
    expect(await bus.wrnrd(1, '', 0)).toBe('');
  });

  it('unknown ids: config/inval/I/O fail with the pool message; deinit succeeds', async () => {
    for (const call of [
      () => bus.config(5),
      () => bus.inval(5),
      () => bus.read(5, 1),
      () => bus.write(5, 'x'),
    ]) {
      const e = await rejection(call());
      expect(UnknownIdError.isInstance(e)).toBe(true);
      expect(e.code).toBe('UnknownId');
      expect(e.pyrameMessage).toBe('link_id 5 has not been found in the pool');
    }
    expect(await bus.deinit(5)).toBe(false);
  });

  it('I/O on an initialised (unconfigured) link fails with NotConfigured and sends nothing', async () => {
    bus.init(1, conf());
    for (const call of [
      () => bus.write(1, 'x'),
      () => bus.writeBin(1, '00'),
      () => bus.read(1, 1),
      () => bus.readUntil(1, '\\n'),
      () => bus.wrnrd(1, 'x', 1),
      () => bus.wrnrdUntil(1, 'x', '\\n'),
      () => bus.expect(1, 'x'),
    ]) {
      const e = await rejection(call());
      expect(NotConfiguredError.isInstance(e)).toBe(true);
      expect(e.pyrameMessage).toBe('not configured');
      expect(e.linkId).toBe('1');
    }
    expect(device.accepts).toBe(0);
  });

  it('deinit of a configured link invals it first', async () => {
    bus.init(1, conf());
    await bus.config(1);
    const c = await device.connection(0);
    expect(await bus.deinit(1)).toBe(true);
    await c.ended;
    expect(() => bus.link(1)).toThrow(UnknownIdError);
    expect(await bus.deinit(1)).toBe(false);
  });

  it('a refused connect is a ConnectError; the link stays initialised and configures later', async () => {
    const later = await LoopbackServer.start(() => {});
    const port = later.port;
    await later.stop();
    bus.init(1, `tcp(host=127.0.0.1,port=${port})`);
    const e = await rejection(bus.config(1));
    expect(ConnectError.isInstance(e)).toBe(true);
    expect(e.code).toBe('ConnectRefused');
    expect(e.pyrameMessage).toBe(`Error connecting to 127.0.0.1:${port}`);
    expect(bus.link(1).state).toBe('initialised');
    await later.restart();
    try {
      expect(await bus.config(1)).toBe(`127.0.0.1,${port}`);
      expect(later.accepts).toBe(1);
    } finally {
      await bus.inval(1);
      await later.close();
    }
  });

  it('a host that does not resolve in the family is a ResolveError (Q19: family is an option)', async () => {
    bus.init(1, `tcp(host=::1,port=${device.port})`); // family defaults to 4, like gethostbyname
    const e = await rejection(bus.config(1));
    expect(ResolveError.isInstance(e)).toBe(true);
    expect(String(e.pyrameMessage)).toMatch(/^Error resolving hostname: /);
  });

  it('family=6 reaches a device on ::1, and the canonical key prints the IPv6 address', async () => {
    const v6 = await startDevice(() => {}, '::1');
    try {
      // (This machine's resolver may not map localhost to ::1, so the literal is used.)
      bus.init(1, `tcp(host=::1,port=${v6.port},family=6)`);
      expect(await bus.config(1)).toBe(`::1,${v6.port}`);
      expect(v6.accepts).toBe(1);
    } finally {
      await bus.inval(1);
      await v6.close();
    }
  });

  it('concurrent config/inval/deinit of one link run in call order', async () => {
    bus.init(1, conf());
    const results = await Promise.allSettled([bus.config(1), bus.inval(1), bus.deinit(1)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseFulfilledResult<boolean>).value).toBe(true);
    expect(bus.links()).toEqual([]);
  });

  it('close() deinits every link and refuses new ones', async () => {
    bus.init(1, conf());
    bus.init(2, conf());
    await bus.config(1);
    await bus.close();
    await bus.close(); // idempotent
    expect(bus.links()).toEqual([]);
    expect(() => bus.init(3, conf())).toThrow(/closed/);
  });
});
