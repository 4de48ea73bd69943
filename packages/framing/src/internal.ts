// The shared machinery of the labwire packages themselves: one deadline primitive, one coalescing writer,
// one u32 length helper, byte slicing, error excerpts, the defaults. `src/index.ts` re-exports this
// module under `@internal`: importable at run time by the sibling packages (which build their .d.ts from
// these sources), left out of the published .d.ts (stripInternal), not part of the public surface.

export { DEFAULT_MAX_BUFFER, DEFAULT_MAX_FRAME } from './byte-reader';
export { concatBytes, hexExcerpt, readU32BE, splitAt, viewOf, writeU32BE } from './bytes';
export { combineSignals } from './combined-signal';
export { armDeadline, checkTimeout, type Deadline } from './deadline';
export { DeadlineTimer, type Expiring } from './deadline-timer';
export { encodeFrameHeader } from './frame';
export { silentLogger } from './logger';
export { type AcceptedSocketLike, adoptOnread } from './onread-source';
export { SEND_SLICE_BYTES } from './send-all';
export { coalesce, sendParts } from './send-parts';
