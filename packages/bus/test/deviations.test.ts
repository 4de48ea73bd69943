// Deliberate differences from Pyrame 2.1.3 not covered elsewhere (docs/protocols/cmd_tcp.md §11), and the link-kind
// registry. The others have their tests beside the behaviour they change:
//   Q1 EOF -> io.test.ts "EOF is an error…"; Q2/Q3/Q4 -> sharing.test.ts; Q5/Q10/Q17 -> io.test.ts;
//   Q7/Q8/Q13/Q14 -> encodings.test.ts and io.test.ts; Q16 -> conf-string.test.ts; Q19/Q20/Q21 ->
//   lifecycle.test.ts; atomic wrnrd -> io.test.ts "wrnrd is atomic per link".

import { type LinkKind, TcpBus, type TcpLinkParams, tcpKind } from '@labwire/bus';
import { hangingLookup, staticLookup } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ResolveError } from '../src/errors';
import { type Device, lineEcho, rejection, startDevice } from './helpers';

let device: Device | undefined;
let bus: TcpBus | undefined;

afterEach(async () => {
  await bus?.close();
  await device?.close();
  bus = undefined;
  device = undefined;
});

describe("Q6: the connect deadline is the link's, not a module-wide 60 s", () => {
  it('config gives up after the link timeout when the name never resolves', async () => {
    const hanging = hangingLookup();
    bus = new TcpBus({ lookup: hanging.lookup });
    bus.init(1, 'tcp(host=instrument.lab,port=5025,timeout=0.05)');
    const e = await rejection(bus.config(1));
    expect(ResolveError.isInstance(e)).toBe(true);
    expect(hanging.calls).toBe(1);
    expect(bus.link(1).state).toBe('initialised');
    hanging.release();
  });

  it('connect_timeout (a labwire key Pyrame ignores) bounds config on its own', async () => {
    const hanging = hangingLookup();
    bus = new TcpBus({ lookup: hanging.lookup });
    bus.init(1, 'tcp(host=instrument.lab,port=5025,timeout=60,connect_timeout=0.05)');
    await expect(bus.config(1)).rejects.toMatchObject({ code: 'Resolve' });
    hanging.release();
  });

  it('an AbortSignal cancels config', async () => {
    const hanging = hangingLookup();
    bus = new TcpBus({ lookup: hanging.lookup });
    bus.init(1, 'tcp(host=instrument.lab,port=5025)');
    const ac = new AbortController();
    const pending = bus.config(1, { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'Resolve' });
    hanging.release();
  });

  it('inval waits for a config in flight; its signal cancels the wait', async () => {
    const hanging = hangingLookup();
    bus = new TcpBus({ lookup: hanging.lookup });
    bus.init(1, 'tcp(host=instrument.lab,port=5025,timeout=5)');
    const configuring = bus.config(1);
    const ac = new AbortController();
    const inval = bus.inval(1, { signal: ac.signal });
    ac.abort();
    const e = await rejection(inval);
    expect(e.code).toBe('Aborted');
    expect(e.op).toBe('inval');
    hanging.release();
    await expect(configuring).rejects.toMatchObject({ code: 'Resolve' });
    expect(await bus.deinit(1)).toBe(true);
  });

  it('an injected resolver decides the canonical key', async () => {
    device = await startDevice(lineEcho());
    bus = new TcpBus({ lookup: staticLookup([{ address: '127.0.0.1', family: 4 }]) });
    bus.init(1, `tcp(host=scope.lab,port=${device.port})`);
    expect(await bus.config(1)).toBe(`127.0.0.1,${device.port}`);
    expect(await bus.wrnrdUntil(1, 'x\\n', '\\n')).toBe('R:x');
  });
});

describe('link kinds', () => {
  // A kind of its own: "loop(port=N)", a tcp link on 127.0.0.1 with its own conf_string name and label.
  const loopKind: LinkKind<TcpLinkParams> = {
    name: 'loop',
    label: 'LOOP',
    parse: (conf, text, defaults) =>
      tcpKind.parse(
        { name: 'tcp', params: new Map([...conf.params, ['host', '127.0.0.1']]) },
        text,
        defaults,
      ),
    resolve: (params, options, defaults) => tcpKind.resolve(params, options, defaults),
    open: (params, endpoint, options, defaults) => tcpKind.open(params, endpoint, options, defaults),
    describe: (params) => `loop:${params.port}`,
  };

  it('the conf_string name selects a registered kind; callers do not change', async () => {
    device = await startDevice(lineEcho());
    bus = new TcpBus({ kinds: [loopKind] });
    expect(bus.kinds).toEqual(['tcp', 'loop']);
    bus.init('a', `loop(port=${device.port})`);
    bus.init('b', `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config('a');
    await bus.config('b');
    // Different kinds never share, even on one endpoint.
    expect(device.accepts).toBe(2);
    expect(bus.link('a').kind).toBe('loop');
    expect(await bus.wrnrdUntil('a', 'k\\n', '\\n')).toBe('R:k');
    const e = await rejection(bus.read('a', 1, 0.02));
    expect(e.pyrameMessage).toBe(`LOOP link at 127.0.0.1:${device.port} is not responding <- timed out`);
  });

  it('an unregistered name lists the known kinds', () => {
    bus = new TcpBus({ kinds: [loopKind] });
    expect(() => bus!.init(1, 'gpib(dst_addr=3,bus=tcp(host=a,port=1))')).toThrow(
      /no link kind "gpib" is registered \(known: tcp, loop\)/,
    );
  });
});
