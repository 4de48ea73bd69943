// An NdArray made by one copy of the module is an NdArray to another copy: the CommonJS builds of
// `@labwire/pymodaq` and `@labwire/pymodaq/codec` are separate bundles with a class each.
import { describe, expect, it } from 'vitest';
import { NdArray, resolveProfile } from '../src/codec';

describe('NdArray across copies of the module', () => {
  it('a second copy of the class is a different class, yet its arrays are NdArrays here and encode', async () => {
    // The query makes Vite load the file again as a module of its own: a second class, as in two bundles.
    const secondCopy: string = '../src/codec/nd-array?second-copy';
    const copy = (await import(secondCopy)) as typeof import('../src/codec/nd-array');
    expect(copy.NdArray).not.toBe(NdArray);
    const theirs = new copy.NdArray('<f8', [2], new Uint8Array(new Float64Array([1.5, -2]).buffer));
    expect(theirs instanceof NdArray).toBe(true);
    expect(new NdArray('<f8', [1], new Uint8Array(8)) instanceof copy.NdArray).toBe(true);
    expect({ type: 'ndarray', dtype: '<f8', shape: [1], data: new Uint8Array(8) } instanceof NdArray).toBe(
      false,
    );
    expect((null as unknown) instanceof NdArray).toBe(false);
    // What the node-red nodes hit in CommonJS: one entry point's encoder given the other's array.
    for (const generation of ['C4', 'D'] as const) {
      const profile = resolveProfile(generation);
      const ours = new NdArray('<f8', [2], new Uint8Array(new Float64Array([1.5, -2]).buffer));
      expect(profile.encodeValue(theirs as unknown as NdArray)).toEqual(profile.encodeValue(ours));
    }
  });
});
