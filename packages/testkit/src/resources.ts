// Resource hygiene checks (docs/protocols/tcpinterface.md G14): what `process.getActiveResourcesInfo()` says is still alive.

/** Resource kinds a transport can leave behind. */
export const TRANSPORT_RESOURCES: readonly string[] = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];

/** Counts of the active resources of the given kinds. */
export function activeResources(kinds: readonly string[] = TRANSPORT_RESOURCES): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of kinds) counts[kind] = 0;
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Waits (bounded) until no kind has more active resources than in `before`, and returns the excess that
 * remains at the deadline (an empty object when clean). Handles close asynchronously, hence the wait.
 */
export async function resourcesLeftOver(
  before: Record<string, number>,
  timeoutMs = 1_000,
): Promise<Record<string, number>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = activeResources(Object.keys(before));
    const excess: Record<string, number> = {};
    for (const [kind, count] of Object.entries(now)) {
      const extra = count - (before[kind] ?? 0);
      if (extra > 0) excess[kind] = extra;
    }
    if (Object.keys(excess).length === 0 || performance.now() >= deadline) return excess;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
