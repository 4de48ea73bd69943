// I/O on configured links against real loopback devices: atomic wrnrd under concurrency, deadlines,
// EOF, stale input, encodings on the wire, and bad input that must cost nothing.

import {
  InvalidBinDataError,
  InvalidEscapeError,
  LinkEofError,
  LinkIoError,
  LinkTimeoutError,
  TcpBus,
  type TcpBusOptions,
} from '@labwire/bus';
import { toHex } from '@labwire/framing';
import { startTaggingServer, taggedRequest, tagOf } from '@labwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidEotError } from '../src/errors';
import {
  type Device,
  type DeviceConnection,
  lineEcho,
  pause,
  rejection,
  startDevice,
  until,
} from './helpers';

let device: Device | undefined;
let bus: TcpBus | undefined;

afterEach(async () => {
  await bus?.close();
  await device?.close();
  bus = undefined;
  device = undefined;
});

async function link(
  script: (conn: DeviceConnection) => void,
  extra = '',
  options: TcpBusOptions = {},
): Promise<{ bus: TcpBus; device: Device }> {
  device = await startDevice(script);
  bus = new TcpBus(options);
  bus.init(1, `tcp(host=127.0.0.1,port=${device.port}${extra})`);
  await bus.config(1);
  return { bus, device };
}

describe('wrnrd is atomic per link (G8)', () => {
  it('1,000 concurrent wrnrdUntil calls each get their own reply', async () => {
    const { bus } = await link(lineEcho());
    const n = 1000;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => bus.wrnrdUntil(1, `q${i}\\n`, '\\n')),
    );
    expect(replies).toEqual(Array.from({ length: n }, (_, i) => `R:q${i}`));
  });

  it('1,000 concurrent wrnrdBin calls against a tagging server: own tag, FIFO order, no duplicates', async () => {
    const server = await startTaggingServer({ requestBytes: 16, replyBytes: 24 });
    const b = new TcpBus();
    try {
      b.init('t', `tcp(host=127.0.0.1,port=${server.port})`);
      await b.config('t');
      const n = 1000;
      const replies = await Promise.all(
        Array.from({ length: n }, (_, i) => b.wrnrdBin('t', toHex(taggedRequest(i)), 24)),
      );
      replies.forEach((hex, i) => {
        const bytes = Buffer.from(hex, 'hex');
        expect(tagOf(bytes)).toBe(i);
        expect(bytes.readUInt32BE(16)).toBe(i); // the server's sequence number: FIFO
      });
      expect(server.requests).toBe(n);
      expect(server.duplicates).toBe(0);
    } finally {
      await b.close();
      await server.close();
    }
  });

  it("concurrent links sharing one connection never steal each other's replies", async () => {
    const { bus, device } = await link(lineEcho());
    bus.init(2, `tcp(host=127.0.0.1,port=${device.port})`);
    await bus.config(2);
    const calls = Array.from({ length: 200 }, (_, i) =>
      bus.wrnrdUntil(1 + (i % 2), `l${1 + (i % 2)}-${i}\\n`, '\\n'),
    );
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => {
      expect(r).toBe(`R:l${1 + (i % 2)}-${i}`);
    });
    expect(device.accepts).toBe(1);
  });
});

describe('deadlines (docs/protocols/cmd_tcp.md Q5: one deadline per operation)', () => {
  it('a device that trickles bytes without an eot cannot stretch read_until past its timeout', async () => {
    const { bus } = await link(({ socket }) => {
      const timer = setInterval(() => socket.writable && socket.write('x'), 10);
      socket.once('close', () => clearInterval(timer));
    });
    const e = await rejection(bus.readUntil(1, '\\n', 0.15));
    expect(LinkTimeoutError.isInstance(e)).toBe(true);
    expect(e.code).toBe('Timeout');
    expect(e.pyrameMessage).toBe('Timeout waiting for EOT character'); // bytes arrived, no eot
    expect((e as unknown as LinkTimeoutError).received.length).toBeGreaterThan(0);
  });

  it('read n with bytes trickling in still ends at the deadline (Pyrame gives every recv the full timeout)', async () => {
    const { bus } = await link(({ socket }) => {
      const timer = setInterval(() => socket.writable && socket.write('y'), 10);
      socket.once('close', () => clearInterval(timer));
    });
    const e = await rejection(bus.read(1, 100_000, 0.15));
    expect(e.code).toBe('Timeout');
  });

  it('a silent device: Pyrame\'s "not responding" message, with the link\'s peer', async () => {
    const { bus, device } = await link(() => {});
    const e = await rejection(bus.read(1, 1, '0.05'));
    expect(e.pyrameMessage).toBe(`TCP link at 127.0.0.1:${device.port} is not responding <- timed out`);
    expect(e.linkId).toBe('1');
    expect(e.op).toBe('read');
  });

  it('timeout undef means the link timeout from the conf_string', async () => {
    const { bus } = await link(() => {}, ',timeout=0.05');
    const e = await rejection(bus.readUntil(1, '\\n', 'undef'));
    expect((e as unknown as LinkTimeoutError).timeoutMs).toBe(50);
  });

  it('timeoutMs in the options wins over the timeout argument', async () => {
    const { bus } = await link(() => {});
    const e = await rejection(bus.read(1, 1, 60, { timeoutMs: 30 }));
    expect((e as unknown as LinkTimeoutError).timeoutMs).toBe(30);
  });

  it('a per-call timeout of 0 only takes bytes already buffered', async () => {
    // One write of three bytes arrives in one segment on loopback: once 'x' was read (waiting for it),
    // 'ab' is in the link's buffer, whatever the machine's load.
    const { bus } = await link(({ socket }) => socket.write('xab'));
    expect(await bus.read(1, 1)).toBe('x');
    expect(await bus.read(1, 2, 0)).toBe('ab');
    await expect(bus.read(1, 1, 0)).rejects.toMatchObject({ code: 'Timeout' });
  });

  it('an AbortSignal cancels a read and keeps its bytes', async () => {
    const { bus, device } = await link(({ socket }) => socket.write('abc'));
    await pause(20);
    const ac = new AbortController();
    const pending = bus.read(1, 5, undefined, { signal: ac.signal });
    ac.abort();
    const e = await rejection(pending);
    expect(e.code).toBe('Aborted');
    (await device.connection(0)).socket.write('de');
    expect(await bus.read(1, 5)).toBe('abcde');
  });

  it('bad timeout arguments are InvalidArgument', async () => {
    const { bus } = await link(() => {});
    for (const t of ['soon', '-1', 'inf']) {
      const e = await rejection(bus.read(1, 1, t));
      expect(InvalidArgumentError.isInstance(e)).toBe(true);
    }
  });
});

describe('a timed-out read loses nothing (Q10)', () => {
  it('the partial bytes are attached to the error and stay for the next read', async () => {
    const { bus, device } = await link(({ socket }) => socket.write('abc'));
    const e = await rejection(bus.read(1, 5, 0.05));
    expect(LinkTimeoutError.isInstance(e)).toBe(true);
    expect(Buffer.from((e as unknown as LinkTimeoutError).received).toString()).toBe('abc');
    (await device.connection(0)).socket.write('de\n');
    expect(await bus.read(1, 6)).toBe('abcde');
  });

  it('read_until and expect time out without consuming either', async () => {
    const { bus } = await link(({ socket }) => socket.write('no eot here'));
    await expect(bus.readUntil(1, '\\n', 0.05)).rejects.toMatchObject({ code: 'Timeout' });
    const e = await rejection(bus.expect(1, 'OK', 0.05));
    expect(e.code).toBe('Timeout');
    expect(e.pyrameMessage).toBe('Pattern not found');
    expect(await bus.read(1, 11)).toBe('no eot here');
  });

  it.each(['drain', 'reconnect'])(
    'wrnrd after a timed-out read resynchronises first (desync=%s): its reply is its own',
    async (policy) => {
      const { bus, device } = await link((conn) => {
        if (conn.connection.id === 1) conn.socket.write('stale');
        lineEcho()(conn);
      }, `,desync=${policy}`);
      await expect(bus.read(1, 10, 0.05)).rejects.toMatchObject({ code: 'Timeout' });
      expect(await bus.wrnrdUntil(1, 'Q\\n', '\\n')).toBe('R:Q');
      expect(device.accepts).toBe(policy === 'reconnect' ? 2 : 1);
      expect(await bus.wrnrdUntil(1, 'Q2\\n', '\\n')).toBe('R:Q2');
    },
  );

  it.each(['drain', 'reconnect'])(
    'after a wrnrd times out, the late reply never reaches the next wrnrd (G9, desync=%s)',
    async (policy) => {
      let first = true;
      const { bus } = await link(
        ({ socket }) => {
          socket.on('data', (d: Buffer) => {
            const line = d.toString().trim();
            const delay = first ? 120 : 0;
            first = false;
            setTimeout(() => socket.writable && socket.write(`reply-to-${line}\n`), delay);
          });
          // Drain-until-quiet catches a late reply that comes within the quiet period after the timeout.
        },
        `,desync=${policy}`,
        { drainQuietMs: 150 },
      );
      const e = await rejection(bus.wrnrdUntil(1, 'A\\n', '\\n', 0.05));
      expect(e.code).toBe('Timeout');
      await pause(150); // the late reply to A arrives meanwhile
      expect(await bus.wrnrdUntil(1, 'B\\n', '\\n')).toBe('reply-to-B');
    },
  );

  it('without a timeout, unread input is not flushed before wrnrd (Q17, kept)', async () => {
    const { bus } = await link((conn) => {
      conn.socket.write('extra\n');
      lineEcho()(conn);
    });
    await pause(20);
    expect(await bus.wrnrdUntil(1, 'Q\\n', '\\n')).toBe('extra');
    expect(await bus.readUntil(1, '\\n')).toBe('R:Q');
  });
});

describe('EOF is an error carrying what arrived (Q1: Pyrame spins forever)', () => {
  it('read_until: the peer closes mid-reply', async () => {
    const { bus } = await link(({ socket }) => socket.end('partial'));
    const e = await rejection(bus.readUntil(1, '\\n'));
    expect(LinkEofError.isInstance(e)).toBe(true);
    expect(e.code).toBe('Eof');
    expect(Buffer.from((e as unknown as LinkEofError).partial).toString()).toBe('partial');
    expect(bus.link(1).broken).toBe(true);
  });

  it('wrnrd: EOF during the reply is Eof with the partial reply; the link is broken until inval + config', async () => {
    const { bus, device } = await link(({ socket }) => {
      socket.once('data', () => socket.end('half'));
    });
    const e = await rejection(bus.wrnrd(1, 'Q', 10));
    expect(e.code).toBe('Eof');
    expect(Buffer.from((e as unknown as LinkEofError).partial).toString()).toBe('half');
    // Nothing reconnects on its own (Q18).
    const again = await rejection(bus.write(1, 'x'));
    expect(again.code).toBe('Eof');
    expect(String(again.message)).toMatch(/inval and config/);
    await pause(30);
    expect(device.accepts).toBe(1);
    await bus.inval(1);
    await bus.config(1);
    expect(device.accepts).toBe(2);
  });

  it('expect and read n fail the same way', async () => {
    const { bus } = await link(({ socket }) => socket.end('xy'));
    const e = await rejection(bus.expect(1, 'OK'));
    expect(e.code).toBe('Eof');
    const b2 = new TcpBus();
    const d2 = await startDevice(({ socket }) => socket.end('12'));
    try {
      b2.init(1, `tcp(host=127.0.0.1,port=${d2.port})`);
      await b2.config(1);
      const e2 = await rejection(b2.read(1, 3));
      expect(e2.code).toBe('Eof');
      expect(Buffer.from((e2 as unknown as LinkEofError).partial).toString()).toBe('12');
    } finally {
      await b2.close();
      await d2.close();
    }
  });

  it('a reset peer is a Reset error on the next operation', async () => {
    const { bus, device } = await link(() => {});
    await device.server.dropConnections({ reset: true });
    await until(() => bus.link(1).broken);
    const e = await rejection(bus.wrnrd(1, 'Q', 1));
    expect(LinkIoError.isInstance(e)).toBe(true);
    expect(['Reset', 'Eof']).toContain(e.code);
  });
});

describe('encodings on the wire', () => {
  it('escapes on write, \\e included (Q7), and bytes as they are', async () => {
    const { bus, device } = await link(() => {});
    await bus.write(1, 'a\\eb\\x00\\r\\n\\101');
    await bus.write(1, new Uint8Array([0x5c, 0x6e])); // bytes are not unescaped
    const conn = await device.connection(0);
    await until(() => conn.received().length === 9);
    expect(conn.received().toString('hex')).toBe('611b62000d0a415c6e');
  });

  it('text mode strips NUL, CR and LF anywhere; bin gives the exact bytes', async () => {
    const { bus } = await link(({ socket }) => socket.write(Buffer.from('a\x00b\rc\nd\r\nEND\x00\r\n')));
    expect(await bus.readUntil(1, 'END')).toBe('abcd');
    expect(await bus.readBin(1, 3)).toBe('000d0a');
  });

  it('eot lists: the first pattern to end wins; on a tie the first in the list; it is removed', async () => {
    const { bus, device } = await link(() => {});
    const conn = await device.connection(0);
    conn.socket.write('one\r\ntwo;three\r\n');
    expect(await bus.readBinUntil(1, '\\r\\n,\\n')).toBe(Buffer.from('one').toString('hex'));
    expect(await bus.readUntil(1, ';,\\r\\n')).toBe('two');
    expect(await bus.readBinUntil(1, '\\n,\\r\\n')).toBe(Buffer.from('three\r').toString('hex'));
  });

  it('expect skips NUL bytes, returns what it consumed, and leaves the rest', async () => {
    const { bus } = await link(({ socket }) => socket.write(Buffer.from('login: O\x00K rest')));
    const consumed = await bus.expect(1, 'OK');
    expect(Buffer.from(consumed).toString('latin1')).toBe('login: O\x00K');
    expect(await bus.read(1, 5)).toBe(' rest');
    expect((await bus.expect(1, '')).length).toBe(0); // empty: at once, nothing read
    expect((await bus.expect(1, '\\0\\0')).length).toBe(0); // all NUL: at once
  });

  it('an expect pattern mixing NUL and other bytes is refused (it could never match)', async () => {
    const { bus } = await link(() => {});
    const e = await rejection(bus.expect(1, 'A\\0B'));
    expect(InvalidArgumentError.isInstance(e)).toBe(true);
  });

  it('read of 0 bytes answers at once', async () => {
    const { bus } = await link(() => {});
    expect(await bus.read(1, 0)).toBe('');
    expect(await bus.readBin(1, '0')).toBe('');
  });
});

describe('bad input: a clear error, nothing sent, nothing lost', () => {
  it('odd or non-strict hex (Q13)', async () => {
    const { bus, device } = await link(({ socket }) => socket.write('kept'));
    for (const hex of ['abc', 'zz', ' 1', '+1', '0g']) {
      const e = await rejection(bus.writeBin(1, hex));
      expect(InvalidBinDataError.isInstance(e)).toBe(true);
      expect(e.code).toBe('InvalidHex');
      expect(e.linkId).toBe('1');
      expect(e.op).toBe('writeBin');
    }
    const odd = await rejection(bus.wrnrdBin(1, 'abc', 1));
    expect(odd.pyrameMessage).toBe('data must have a length multiple of 2. Current length: 3');
    await pause(20);
    expect((await device.connection(0)).received().length).toBe(0);
    expect(await bus.read(1, 4)).toBe('kept');
  });

  it('bad escapes (Q8: Pyrame crashes with ValueError)', async () => {
    const { bus, device } = await link(() => {});
    for (const data of ['\\x4', 'trailing\\']) {
      const e = await rejection(bus.write(1, data));
      expect(InvalidEscapeError.isInstance(e)).toBe(true);
    }
    await pause(20);
    expect((await device.connection(0)).received().length).toBe(0);
  });

  it('eot: missing or with an empty pattern (Q14)', async () => {
    const { bus } = await link(() => {});
    const e = await rejection(bus.readUntil(1, ''));
    expect(e.pyrameMessage).toBe('End Of Transmission (eot) parameter needed');
    for (const eot of ['undef', 'E,', ',E', 'a,,b']) {
      expect(InvalidEotError.isInstance(await rejection(bus.readUntil(1, eot)))).toBe(true);
    }
  });

  it('a reply with no eot within maxBuffer fails with LimitExceeded, wrnrd or not', async () => {
    const { bus } = await link(
      ({ socket }) => {
        socket.on('data', () => socket.write(Buffer.alloc(3000, 0x41)));
      },
      '',
      { maxBuffer: 1024 },
    );
    const e = await rejection(bus.wrnrdUntil(1, 'Q', '\\n'));
    expect(e.code).toBe('LimitExceeded');
    // A plain read_until leaves the data in place (the failed wrnrd's reply went to the desync policy).
    await bus.write(1, 'Q');
    const again = await rejection(bus.readUntil(1, '\\n'));
    expect(again.code).toBe('LimitExceeded');
    expect(await bus.readBin(1, 4)).toBe('41414141');
  });

  it('byte counts: not a number, negative, or above the read limit', async () => {
    const { bus, device } = await link(() => {});
    const e = await rejection(bus.read(1, 'x'));
    expect(e.pyrameMessage).toBe(
      `error at TCP link to 127.0.0.1:${device.port} <- invalid literal for int() with base 10: 'x'`,
    );
    expect(InvalidArgumentError.isInstance(await rejection(bus.read(1, -1)))).toBe(true);
    const big = await rejection(bus.read(1, 2 ** 30));
    expect(big.code).toBe('LimitExceeded');
  });
});
