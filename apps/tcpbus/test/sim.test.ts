// The instrument simulator over real loopback sockets, driven through the bus.

import { TcpBus } from '@labwire/bus';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstrumentSim } from '../src/sim';

let sim: InstrumentSim;
let bus: TcpBus;

beforeEach(async () => {
  sim = await InstrumentSim.start({ streamIntervalMs: 5, serial: 'T42' });
  bus = new TcpBus({ defaultTimeoutMs: 2_000 });
  bus.init('dev', sim.confString());
  await bus.config('dev');
});

afterEach(async () => {
  await bus.close();
  await sim.close();
});

const ask = (q: string) => bus.wrnrdUntil('dev', `${q}\\n`, '\\n');

describe('InstrumentSim', () => {
  it('identifies itself', async () => {
    expect(await ask('*IDN?')).toBe('LABWIRE,TCPBUS-SIM,T42,1.0');
    expect(await ask('*OPC?')).toBe('1');
  });

  it('keeps a settable value in NR3 form, and measures around it', async () => {
    await bus.write('dev', 'VOLT 1.5\\r\\n'); // a CR before the LF is ignored
    expect(await ask('VOLT?')).toBe('1.500000E+00');
    const readings = [await ask('MEAS?'), await ask('MEAS?'), await ask('MEAS:VOLT?')].map(Number);
    for (const r of readings) expect(Math.abs(r - 1.5)).toBeLessThan(0.01);
    expect(new Set(readings).size).toBeGreaterThan(1);
    await bus.write('dev', '*RST\\n');
    expect(await ask('VOLT?')).toBe('0.000000E+00');
  });

  it('queues errors for unknown commands and bad data; set commands answer nothing', async () => {
    await bus.write('dev', 'FROB\\nVOLT abc\\n');
    expect(await ask('SYST:ERR?')).toBe('-113,"Undefined header"');
    expect(await ask('SYST:ERR?')).toBe('-104,"Data type error"');
    expect(await ask('SYST:ERR?')).toBe('0,"No error"');
  });

  it('streams measurements until told to stop', async () => {
    await bus.write('dev', 'VOLT 2\\nSTREAM ON\\n');
    const lines = [await bus.readUntil('dev', '\\n'), await bus.readUntil('dev', '\\n')];
    for (const l of lines) expect(l).toMatch(/^MEAS 2\.00\d{4}E\+00$|^MEAS 1\.99\d{4}E\+00$/);
    await bus.write('dev', 'STREAM OFF\\nECHO done\\n');
    // Stream lines sent before STREAM OFF may still be in flight; after the echo, nothing more comes.
    let line = await bus.readUntil('dev', '\\n');
    for (let i = 0; i < 1000 && line !== 'done'; i++) {
      expect(line).toMatch(/^MEAS /);
      line = await bus.readUntil('dev', '\\n');
    }
    expect(line).toBe('done');
    await expect(bus.readUntil('dev', '\\n', 0.05)).rejects.toMatchObject({ code: 'Timeout' });
  });

  it('sends a prompt after every command once PROMPT ON, for expect', async () => {
    await bus.write('dev', 'PROMPT ON\\n');
    expect((await bus.expect('dev', '> ')).length).toBe(2);
    await bus.write('dev', '*IDN?\\n');
    const consumed = await bus.expect('dev', '> ');
    expect(Buffer.from(consumed).toString()).toBe('LABWIRE,TCPBUS-SIM,T42,1.0\n> ');
    await bus.write('dev', 'PROMPT OFF\\n');
    expect(await ask('*OPC?')).toBe('1');
  });

  it('drops an endless line instead of buffering it', async () => {
    const small = await InstrumentSim.start({ maxLineBytes: 64 });
    const b = new TcpBus();
    try {
      b.init(1, small.confString());
      await b.config(1);
      await b.write(1, 'x'.repeat(200));
      await b.write(1, 'yyy\\n*IDN?\\n');
      expect(await b.wrnrdUntil(1, 'SYST:ERR?\\n', '\\n')).toBe('LABWIRE,TCPBUS-SIM,0001,1.0');
      expect(await b.readUntil(1, '\\n')).toBe('-112,"Program mnemonic too long"');
    } finally {
      await b.close();
      await small.close();
    }
  });

  it('counts connections and commands, and closes with connections open', async () => {
    await ask('*IDN?');
    expect(sim.accepts).toBe(1);
    expect(sim.commands).toBe(1);
    expect(sim.address).toBe(`127.0.0.1:${sim.port}`);
  });
});
