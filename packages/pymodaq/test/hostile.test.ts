// Hostile and careless clients against the real server on loopback (issue 12 and the command cap of
// issue 16): each scenario is replayed and its bound asserted, with event-based waits and generous
// deadlines (the figures themselves are measured by scripts/hostile.ts, not here).

import net from 'node:net';
import { LimitExceededError, TimeoutError } from '@labwire/framing';
import { GaussianDetector, PymodaqDetector, type PymodaqServer, parameter } from '@labwire/pymodaq';
import { dataFromPlugins, MessageInterruptedError, NdArray, resolveProfile } from '@labwire/pymodaq/codec';
import { describe, expect, it } from 'vitest';
import { NoClientError, PeerGoneError } from '../src/errors';
import { closeAfterEach, image, nextEvent, RawClient, startServer } from './helpers';

const track = closeAfterEach();

/** A settings tree of about `bytes` bytes, element-heavy (the costly kind of XML to parse). */
function bigSettings(bytes: number): string {
  const element = (i: number) =>
    `<p${i} title="Parameter ${i}" type="float" visible="1" removable="0" readonly="0">${i}.5</p${i}>`;
  const parts = ['<settings title="Settings" type="group">'];
  let size = parts[0]!.length + 11;
  for (let i = 0; size + element(i).length < bytes; i++) {
    parts.push(element(i));
    size += element(i).length;
  }
  parts.push('</settings>');
  return parts.join('');
}

/** A well-behaved detector client (a real PymodaqDetector) that identifies on `port`. */
async function goodDetector(server: PymodaqServer, protocol: string, port: number) {
  const camera = new GaussianDetector({ width: 8, height: 4, seed: 1 });
  const detector = track(
    new PymodaqDetector({ protocol, port, reconnect: false, handlers: camera.handlers() }),
  );
  const identified = nextEvent(server, 'client', () => true, 10_000);
  await detector.connect({ timeoutMs: 10_000 });
  const client = await identified;
  return { detector, client };
}

describe('CPU fairness: large Infos', () => {
  it('8 maximal Infos on one connection: another client identifies meanwhile and its grabs work', async () => {
    const maxInfosBytes = 1024 * 1024;
    const { server, port } = await startServer('D', { role: 'detector', maxInfosBytes, timeoutMs: 20_000 });
    track(server);
    const p = resolveProfile('D');
    const xml = bigSettings(maxInfosBytes - 64);
    const flood = await RawClient.connect(port, 'D');
    track({ close: () => flood.destroy() });
    const infos: string[] = [];
    server.on('infos', (e) => infos.push(e.client.id));
    const firstInfos = nextEvent(server, 'infos', () => true, 20_000);
    const one = [p.encodeCommand('Infos'), p.encodeString(new TextEncoder().encode(xml))];
    flood.write(p.encodeCommand('GRABBER'), ...one, ...one, ...one, ...one, ...one, ...one, ...one, ...one);
    const floodId = (await firstInfos).client.id;

    // The flood is being parsed (7 MiB to go): the newcomer is served in between, not after it.
    const { client } = await goodDetector(server, 'D', port);
    const parsedBefore = infos.filter((id) => id === floodId).length;
    expect(parsedBefore).toBeLessThan(8);
    const data = await server.grab('2D', { client: client.id });
    expect(data.data[0]!.data[0]!.shape).toEqual([4, 8]);

    // The flooding client is served too: all 8 trees arrive, whole.
    while (infos.filter((id) => id === floodId).length < 8)
      await nextEvent(server, 'infos', () => true, 20_000);
    expect(server.clients.find((c) => c.id === floodId)?.settings?.children.length).toBeGreaterThan(5000);
  }, 60_000);

  it('Infos larger than maxInfosBytes are refused before they are read, and the client goes on', async () => {
    const { server, port } = await startServer('C4', { role: 'detector', maxInfosBytes: 1000 });
    track(server);
    const c = await RawClient.connect(port, 'C4');
    track({ close: () => c.destroy() });
    c.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const refused = nextEvent(server, 'clientError');
    c.write(c.command('Infos'), c.profile.encodeString(bigSettings(5000)));
    expect(LimitExceededError.isInstance((await refused).error)).toBe(true);
    // Gen C cannot skip what it did not read: the connection is closed.
    await c.closed();
  });
});

describe('connection slots', () => {
  it('64 idle identified connections held: a newcomer is served, the quietest makes room', async () => {
    const { server, port } = await startServer('D', { role: 'detector', maxClients: 64 });
    track(server);
    const held: RawClient[] = [];
    for (let i = 0; i < 64; i++) {
      const c = await RawClient.connect(port, 'D');
      held.push(c);
      c.identify('GRABBER');
    }
    track({
      close: () => {
        for (const c of held) c.destroy();
      },
    });
    while (server.clients.length < 64) await nextEvent(server, 'client');
    const evicted = nextEvent(server, 'clientClosed', (e) => /evicted/.test(e.reason), 10_000);
    const { client } = await goodDetector(server, 'D', port);
    expect((await evicted).client.id).toBe('c1');
    expect((await server.grab('0D', { client: client.id })).data).toHaveLength(1);
    expect(server.clients).toHaveLength(64);
  }, 60_000);

  it('64 connections that never identify: a newcomer is served at once, unidentified ones are evicted', async () => {
    const { server, port } = await startServer('C4', {
      role: 'detector',
      handshakeTimeoutMs: 60_000,
      maxPendingClients: 16,
    });
    track(server);
    const rejected: unknown[] = [];
    server.on('rejected', (e) => rejected.push(e.error));
    const held: net.Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      held.push(s);
      await new Promise((resolve) => s.once('connect', resolve));
    }
    track({
      close: () => {
        for (const s of held) s.destroy();
      },
    });
    while (rejected.length < 48) await nextEvent(server, 'rejected');
    expect(rejected.every((e) => LimitExceededError.isInstance(e))).toBe(true);
    const { client } = await goodDetector(server, 'C4', port);
    expect((await server.grab('1D', { client: client.id })).data[0]!.data[0]!.shape).toEqual([8]);
  }, 60_000);

  it('closes an identified client that stays quiet past idleTimeoutMs (nothing pending)', async () => {
    const { server, port } = await startServer('B', { idleTimeoutMs: 300 });
    track(server);
    const c = await RawClient.connect(port, 'B');
    track({ close: () => c.destroy() });
    c.identify('ACTUATOR');
    const closed = nextEvent(server, 'clientClosed', () => true, 10_000);
    expect((await closed).reason).toBe('idle');
    await c.closed();
  });

  it('a client owing a reply is not idle: its call times out on its own deadline', async () => {
    const { server, port } = await startServer('B', { idleTimeoutMs: 200 });
    track(server);
    const c = await RawClient.connect(port, 'B');
    track({ close: () => c.destroy() });
    c.identify('ACTUATOR');
    await server.waitForClient('ACTUATOR');
    const error = await server.moveAbs(1, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(TimeoutError.isInstance(error)).toBe(true);
  });
});

describe('deadlines', () => {
  it.each(['C4', 'D'] as const)(
    '%s: a message dripped past readTimeoutMs is refused at the deadline',
    async (gen) => {
      const readTimeoutMs = 1000;
      const { server, port } = await startServer(gen, { readTimeoutMs });
      track(server);
      const c = await RawClient.connect(port, gen);
      track({ close: () => c.destroy() });
      c.identify('GRABBER');
      await server.waitForClient('GRABBER');
      let infos = 0;
      server.on('info', () => infos++);
      const message = Buffer.concat([c.command('Info'), c.profile.encodeInfo('temperature', '21.5')]);
      // One byte every 60 ms: the whole message would take several seconds.
      const refused = nextEvent(server, 'clientError', () => true, 10_000);
      const started = Date.now();
      let sent = 0;
      const drip = setInterval(() => {
        if (sent < message.length && !c.socket.destroyed) c.socket.write(message.subarray(sent, ++sent));
      }, 60);
      try {
        const { error } = await refused;
        const elapsed = Date.now() - started;
        expect(TimeoutError.isInstance(error) || MessageInterruptedError.isInstance(error)).toBe(true);
        expect(elapsed).toBeGreaterThanOrEqual(readTimeoutMs - 60);
        // Refused before the message could have been completed: the deadline covers the whole message.
        expect(sent).toBeLessThan(message.length);
        expect(infos).toBe(0);
        await c.closed();
      } finally {
        clearInterval(drip);
      }
    },
  );

  it('C4: a message part is capped as a whole (maxMessageBytes), not only block by block', async () => {
    const maxMessageBytes = 1024 * 1024;
    const { server, port } = await startServer('C4', {
      role: 'detector',
      maxMessageBytes,
      readTimeoutMs: 30_000,
    });
    track(server);
    const c = await RawClient.connect(port, 'C4');
    track({ close: () => c.destroy() });
    c.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const refused = nextEvent(server, 'clientError', () => true, 10_000);
    // A DataToExport header claiming 1000 channels, then three 512 KiB arrays (each within the block
    // limit); nothing more follows. The third block would pass the total: refused before it is read.
    const p = c.profile;
    const dwa = p.encodeTagged(
      dataFromPlugins({ name: 'x', data: [NdArray.fromTyped(new Float64Array(65_536), [65_536])] }),
    );
    const head = Buffer.concat([
      c.command('Done'),
      p.encodeString('DataToExport'),
      p.encodeValue(1.5),
      p.encodeString('dte'),
      Buffer.from([0, 0, 0x03, 0xe8]),
    ]);
    c.write(head, dwa, dwa, dwa);
    const { error } = await refused;
    expect(LimitExceededError.isInstance(error)).toBe(true);
    expect((error as LimitExceededError).limit).toBe(maxMessageBytes);
    await c.closed();
  });

  it('C4: a stream out of step shows at once (a command length of 0x00067374 is no command)', async () => {
    const { server, port } = await startServer('C4', { role: 'detector', readTimeoutMs: 30_000 });
    track(server);
    const c = await RawClient.connect(port, 'C4');
    track({ close: () => c.destroy() });
    c.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const grab = server.grab('2D', { timeoutMs: 20_000 }).catch((e: unknown) => e);
    const refused = nextEvent(server, 'clientError');
    // What a desynchronised stream looks like: `string` of a list item read two bytes late.
    c.write(Buffer.from('0006737472696e67', 'hex'));
    expect(LimitExceededError.isInstance((await refused).error)).toBe(true);
    // The pending grab ends with the connection, not with its own 20 s deadline.
    expect(PeerGoneError.isInstance(await grab)).toBe(true);
  });

  it('C4: a malformed Info, then the grab reply: the desync is caught at the next command', async () => {
    const { server, port } = await startServer('C4', { role: 'detector', readTimeoutMs: 30_000 });
    track(server);
    const c = await RawClient.connect(port, 'C4');
    track({ close: () => c.destroy() });
    c.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const grab = server.grab('2D', { timeoutMs: 20_000 }).catch((e: unknown) => e);
    const refused = nextEvent(server, 'clientError');
    // Info whose value announces 4 bytes and carries 6: the server reads "21.5", and the 2 bytes left
    // over (00 06) plus the first 2 of the reply's command length (00 00) read as a command of
    // 0x00060000 = 393 216 bytes: under the 1 MiB message limit, far over the 4 KiB command cap.
    const value = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('21.5'), Buffer.from([0, 6])]);
    c.write(c.command('Info'), c.profile.encodeString('temperature'), value);
    c.write(c.command('Done'), c.profile.encodeDetectorData(image()));
    const { error } = await refused;
    expect(LimitExceededError.isInstance(error)).toBe(true);
    expect((error as LimitExceededError).limit).toBe(4096);
    // Refused from the length alone: nothing of the bogus command was waited for.
    expect((error as LimitExceededError).actual).toBe(0x00060000);
    // The grab ends with the connection, not with its own deadline (its reply had arrived, unread).
    expect(PeerGoneError.isInstance(await grab)).toBe(true);
  });
});

describe('backpressure and bounded queues', () => {
  it('setInfo to a client that never reads: a bounded queue, then LimitExceededError', async () => {
    const { server, port } = await startServer('D', { maxQueuedMessages: 8, timeoutMs: 60_000 });
    track(server);
    const c = await RawClient.connect(port, 'D');
    track({ close: () => c.destroy() });
    c.socket.pause();
    c.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const big = parameter('notes', { type: 'text', value: 'x'.repeat(1024 * 1024) });
    const results: Promise<unknown>[] = [];
    let refusedAt = -1;
    for (let i = 0; i < 200 && refusedAt < 0; i++) {
      const sent = server.setInfo(['notes'], big).then(
        () => 'sent',
        (e: unknown) => e,
      );
      results.push(sent);
      // A refusal comes at once (the queue is full); sends that wait never settle while nobody reads.
      const settled = await Promise.race([sent, new Promise((r) => setImmediate(() => r('waiting')))]);
      if (LimitExceededError.isInstance(settled)) refusedAt = i;
    }
    expect(refusedAt).toBeGreaterThan(0);
    // What the socket took before it filled, plus at most maxQueuedMessages waiting.
    expect(refusedAt).toBeLessThan(60);
    c.destroy();
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === 'sent').length).toBeLessThan(refusedAt);
  });

  it('a client that does not read its replies is not read from until they drain', async () => {
    const { server, port } = await startServer('B', { timeoutMs: 60_000 });
    track(server);
    const c = await RawClient.connect(port, 'B');
    track({ close: () => c.destroy() });
    c.socket.pause();
    c.identify('GRABBER');
    await server.waitForClient('GRABBER');
    const big = parameter('notes', { type: 'text', value: 'y'.repeat(4 * 1024 * 1024) });
    // Replies the client does not read, until one is held back: the kernel's loopback buffers take a
    // varying amount first (they grow with the traffic, more on some machines than on others).
    const sends: Promise<void>[] = [];
    let held = false;
    let heldWritten = false;
    for (let i = 0; i < 16 && !held; i++) {
      const sent = server.setInfo(['notes'], big);
      sends.push(sent);
      const settled = await Promise.race([
        sent.then(() => 'written'),
        new Promise((resolve) => setTimeout(() => resolve('held'), 300)),
      ]);
      if (settled === 'held') {
        held = true;
        void sent.then(() => {
          heldWritten = true;
        });
      }
    }
    expect(held).toBe(true);
    let infos = 0;
    server.on('info', () => infos++);
    const info = nextEvent(server, 'info', () => true, 20_000);
    c.write(c.command('Info'), c.profile.encodeInfo('temperature', '21.5'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Not read from while its reply is held back.
    expect(heldWritten).toBe(false);
    expect(infos).toBe(0);
    // The client reads its replies: the server's socket drains, and the Info that waited is read.
    c.socket.resume();
    const p = c.profile;
    for (let i = 0; i < sends.length; i++) {
      expect(await p.readCommand(c.reader, { timeoutMs: 20_000 })).toBe('set_info');
      expect(await p.readPath(c.reader, { timeoutMs: 20_000 })).toEqual(['settings_client', 'notes']);
      await p.readString(c.reader, { timeoutMs: 20_000 });
    }
    expect((await info).name).toBe('temperature');
    await Promise.all(sends);
  });

  it('the detector bounds the grabs it owes: more are dropped with LimitExceededError', async () => {
    const p = resolveProfile('C4');
    let peer: net.Socket | undefined;
    const listener = net.createServer((s) => {
      peer = s;
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    track({ close: () => new Promise((resolve) => listener.close(resolve)) });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const camera = new GaussianDetector({ width: 2, height: 2 });
    const detector = track(
      new PymodaqDetector({
        protocol: 'C4',
        port: (listener.address() as net.AddressInfo).port,
        reconnect: false,
        maxPendingGrabs: 4,
        handlers: {
          grab: async (dim) => {
            await gate;
            return camera.grab(dim);
          },
        },
      }),
    );
    const errors: unknown[] = [];
    detector.on('error', (e) => errors.push(e));
    await detector.connect();
    const command = p.encodeCommand('Send Data 0D');
    peer!.write(Buffer.concat(Array.from({ length: 50 }, () => command)));
    while (errors.length < 46) await nextEvent(detector, 'error');
    expect(errors.every((e) => LimitExceededError.isInstance(e))).toBe(true);
    let grabbed = 0;
    detector.on('grabbed', () => grabbed++);
    const fourth = nextEvent(detector, 'grabbed', () => grabbed === 4);
    release();
    await fourth;
    expect(errors).toHaveLength(46);
    peer!.destroy();
  });

  it('rejects a newcomer with NoClientError only when every identified client is busy', async () => {
    const { server, port } = await startServer('B', { role: 'detector', maxClients: 2 });
    track(server);
    const a = await RawClient.connect(port, 'B');
    const b = await RawClient.connect(port, 'B');
    track({
      close: () => {
        a.destroy();
        b.destroy();
      },
    });
    a.identify('GRABBER');
    b.identify('GRABBER');
    while (server.clients.length < 2) await nextEvent(server, 'client');
    const calls = server.clients.map((c) =>
      server.grab('0D', { client: c.id, timeoutMs: 5000 }).catch((e) => e),
    );
    const rejected = nextEvent(server, 'rejected');
    const late = await RawClient.connect(port, 'B');
    track({ close: () => late.destroy() });
    late.identify('GRABBER');
    expect(NoClientError.isInstance((await rejected).error)).toBe(true);
    a.destroy();
    b.destroy();
    await Promise.all(calls);
  });
});
