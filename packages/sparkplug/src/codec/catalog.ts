// What a consumer learns from births: each metric's datatype by name and by alias, so that DATA and
// command payloads (which omit datatypes, and names when aliases are used) decode to typed values.
// Aliases are unique across an edge node's whole set of metrics (§6.4.2), so one catalog per edge node.

import type { DatatypeLookup } from './encode';
import type { Int64, Metric, Payload } from './types';

export class MetricCatalog {
  private readonly byName = new Map<string, number>();
  private readonly byAlias = new Map<Int64, { name: string | undefined; datatype: number }>();

  /** Records the names, aliases and datatypes of a birth payload (NBIRTH or DBIRTH). */
  learn(birth: Payload): void {
    for (const m of birth.metrics) {
      if (m.datatype === undefined) continue;
      if (m.name !== undefined) this.byName.set(m.name, m.datatype);
      if (m.alias !== undefined) this.byAlias.set(m.alias, { name: m.name, datatype: m.datatype });
    }
  }

  /** Forgets everything (a new NBIRTH starts a new session). */
  clear(): void {
    this.byName.clear();
    this.byAlias.clear();
  }

  /** A lookup for `decodePayload(bytes, { datatypes })`. */
  readonly datatypes: DatatypeLookup = (m) => {
    if (m.alias !== undefined) {
      const a = this.byAlias.get(m.alias);
      if (a !== undefined) return a.datatype;
    }
    return m.name === undefined ? undefined : this.byName.get(m.name);
  };

  /** The name behind an alias, as learnt from the births. */
  nameOf(metric: Pick<Metric, 'name' | 'alias'>): string | undefined {
    if (metric.name !== undefined) return metric.name;
    return metric.alias === undefined ? undefined : this.byAlias.get(metric.alias)?.name;
  }
}
