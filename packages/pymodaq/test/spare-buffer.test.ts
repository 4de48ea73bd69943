// The pre-faulted receive buffer is prepared only for streams: two large frames of the same size in a row.

import { describe, expect, it } from 'vitest';
import { largestArrayBytes, SpareBuffer } from '../src/spare-buffer';

const idle = () => new Promise((r) => setImmediate(r));
const MiB = 1024 * 1024;

describe('SpareBuffer', () => {
  it('a lone large frame prepares nothing; a second of the same size prepares one buffer, handed over once', async () => {
    const spare = new SpareBuffer();
    spare.prepare(4 * MiB);
    await idle();
    expect(spare.take()).toBeUndefined();
    spare.prepare(4 * MiB);
    await idle();
    const buffer = spare.take();
    expect(buffer?.length).toBe(4 * MiB);
    expect(spare.take()).toBeUndefined();
    spare.dispose();
  });

  it('small frames and size changes prepare nothing; dispose cancels a pending preparation', async () => {
    const spare = new SpareBuffer();
    spare.prepare(1024);
    spare.prepare(1024);
    spare.prepare(2 * MiB);
    spare.prepare(3 * MiB);
    await idle();
    expect(spare.take()).toBeUndefined();
    spare.prepare(3 * MiB);
    spare.dispose();
    await idle();
    expect(spare.take()).toBeUndefined();
  });

  it('takes back buffers of a stream (at most two, not too small or too large); they need no preparation', async () => {
    const spare = new SpareBuffer();
    const frame = 4 * MiB;
    // Nothing is a stream yet: nothing is taken back.
    spare.recycle(new Uint8Array(frame));
    expect(spare.take()).toBeUndefined();
    spare.prepare(frame);
    const back = [new Uint8Array(frame), new Uint8Array(frame + 16), new Uint8Array(frame)];
    spare.recycle(new Uint8Array(frame - 1));
    spare.recycle(new Uint8Array(3 * frame));
    for (const b of back) spare.recycle(b);
    // A second frame of the size: a buffer is at hand, none is allocated.
    spare.prepare(frame);
    await idle();
    expect(spare.take()).toBe(back[1]);
    expect(spare.take()).toBe(back[0]);
    expect(spare.take()).toBeUndefined();
    spare.dispose();
    spare.recycle(new Uint8Array(frame));
    expect(spare.take()).toBeUndefined();
  });

  it('once the owner hands buffers back, a stream prepares none of its own (they would fault in for nothing)', async () => {
    const spare = new SpareBuffer();
    const frame = 4 * MiB;
    spare.prepare(frame);
    const back = new Uint8Array(frame);
    spare.recycle(back);
    spare.prepare(frame);
    await idle();
    expect(spare.take()).toBe(back);
    // The frame received into it is still being forwarded: nothing is at hand, and nothing is allocated.
    spare.prepare(frame);
    await idle();
    expect(spare.take()).toBeUndefined();
    spare.recycle(back);
    expect(spare.take()).toBe(back);
    spare.dispose();
  });

  it('largestArrayBytes: the largest array block of a message (what a gen A–C frame receives into)', () => {
    const array = (bytes: number) => ({ data: new Uint8Array(bytes) });
    const data = { data: [{ data: [array(16), array(3 * MiB)] }, { data: [array(MiB)] }] };
    expect(largestArrayBytes(data as unknown as Parameters<typeof largestArrayBytes>[0])).toBe(3 * MiB);
  });
});
