// Helpers the other labwire packages share with this one. `src/index.ts` re-exports this module under
// `@internal`: importable at run time by the sibling packages (which build their .d.ts from these sources),
// left out of the published .d.ts (stripInternal), not part of the public surface.

export { backoffDelay } from './backoff';
export { toLogger } from './logger';
export type { DisconnectedEvent } from './options';
export { DELIBERATE_REASONS } from './reconnect-policy';
