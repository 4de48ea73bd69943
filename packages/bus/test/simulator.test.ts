// The instrument simulator (@labwire/bus/simulator) over real loopback sockets, driven through the bus,
// and by a raw client that never reads its replies (issue 12: the simulator must not hoard them).

import net from 'node:net';
import { TcpBus } from '@labwire/bus';
import { InstrumentSim } from '@labwire/bus/simulator';
import { waitFor } from '@labwire/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

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

  it('ECHO is byte-transparent: every byte but LF comes back as it was sent', async () => {
    // "ECHO " + ff 00 fe 80 a0 20 (NBSP and a space at the end, which trim() would eat) + LF.
    expect(await bus.wrnrdBinUntil('dev', '4543484f20ff00fe80a020a0200a', '\\n')).toBe('ff00fe80a020a020');
    const all = Buffer.alloc(255);
    for (let b = 0, i = 0; b < 256; b++) if (b !== 0x0a) all[i++] = b;
    const sent = Buffer.concat([Buffer.from('ECHO '), all.subarray(0, 254), Buffer.from('x\n')]);
    const back = await bus.wrnrdBinUntil('dev', sent.toString('hex'), '\\n');
    // A CR right before the LF belongs to the line end; 0x0d elsewhere is data.
    expect(back).toBe(Buffer.concat([all.subarray(0, 254), Buffer.from('x')]).toString('hex'));
  });
});

describe('InstrumentSim and a client that never reads', () => {
  it('stops reading that client while its replies wait, holds a bounded amount, and resumes on drain', async () => {
    const small = await InstrumentSim.start();
    const client = net.connect({ host: '127.0.0.1', port: small.port });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      });
      client.pause(); // never read (for now)
      // 1 KiB echo lines, 64 per write, until the simulator stopped reading and bytes pile up on our side.
      const line = `ECHO ${'e'.repeat(1019)}\n`;
      const block = line.repeat(64);
      let lines = 0;
      for (let i = 0; i < 4096 && !(small.stats.paused === 1 && client.writableLength > 1 << 20); i++) {
        client.write(block);
        lines += 64;
        await new Promise((r) => setImmediate(r));
      }
      expect(small.stats.paused).toBe(1);
      expect(client.writableLength).toBeGreaterThan(1 << 20); // TCP flow control reached the sender
      // Held by the simulator for this client: one input chunk and one socket buffer, not megabytes.
      expect(small.stats.peakBufferedBytes).toBeLessThan(256 * 1024);

      // Now read: every echo arrives, in order, and the simulator reads again.
      let received = 0;
      let tail = '';
      client.setEncoding('latin1');
      const all = new Promise<void>((resolve, reject) => {
        client.on('data', (chunk: string) => {
          const text = tail + chunk;
          let at = text.indexOf('\n');
          let from = 0;
          while (at >= 0) {
            if (text.slice(from, at) !== line.slice(5, -1)) reject(new Error(`echo ${received} differs`));
            received++;
            from = at + 1;
            at = text.indexOf('\n', from);
          }
          tail = text.slice(from);
          if (received === lines) resolve();
        });
      });
      client.resume();
      await all;
      expect(received).toBe(lines);
      await waitFor(() => small.stats.paused === 0, { message: 'reading resumed' });
      expect(small.stats.peakBufferedBytes).toBeLessThan(256 * 1024);
    } finally {
      client.destroy();
      await waitFor(() => small.stats.open === 0, { message: 'the connection ended' });
      await small.close();
    }
  });

  it('a measurement stream skips its lines while the client does not read', async () => {
    const fast = await InstrumentSim.start({ streamIntervalMs: 1, maxStreamLines: 1_000_000 });
    const client = net.connect({ host: '127.0.0.1', port: fast.port });
    try {
      await new Promise<void>((resolve) => client.once('connect', resolve));
      client.pause();
      // Fill the way back with long echoes first, so the stream finds the socket full.
      client.write(`STREAM ON\n${`ECHO ${'s'.repeat(4000)}\n`.repeat(4000)}`);
      await waitFor(() => fast.stats.paused === 1, { message: 'the simulator paused', timeoutMs: 15_000 });
      const peak = fast.stats.peakBufferedBytes;
      // Ticks keep coming while paused: they are counted as dropped, and add nothing to what is held.
      await waitFor(() => fast.stats.droppedStreamLines >= 5, { message: 'stream ticks while paused' });
      expect(fast.stats.paused).toBe(1);
      expect(fast.stats.peakBufferedBytes).toBe(peak);
    } finally {
      client.destroy();
      await fast.close();
    }
  });
});

describe('the README example of the simulator', () => {
  it('runs as written and gets the identification', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((b) => b.includes("from '@labwire/bus/simulator'"));
    expect(block).toBeDefined();
    const code = block!
      .replace(/^import .*$/gm, '')
      .replace('const idn =', 'idn =')
      .replace('const sim =', 'sim =');
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...args: unknown[]) => Promise<unknown>;
    const run = new AsyncFunction(
      'TcpBus',
      'InstrumentSim',
      `let idn; let sim;\n${code}\nreturn { idn, open: sim.stats.open };`,
    );
    expect(await run(TcpBus, InstrumentSim)).toEqual({ idn: 'LABWIRE,TCPBUS-SIM,0001,1.0', open: 0 });
  });
});
