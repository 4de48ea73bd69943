import type { Options } from 'tsup';

/** A published library: ESM + CJS, .d.ts + .d.cts, source maps; `entry` maps output names to sources. */
export declare function labwireLibrary(entry: Record<string, string>): Options;

/** A CLI app: one ESM program with its shebang; private workspace packages in `bundle` compiled in. */
export declare function labwireApp(options?: { entry?: Record<string, string>; bundle?: string[] }): Options;
