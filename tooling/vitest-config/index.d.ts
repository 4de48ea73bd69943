import type { ViteUserConfig } from 'vitest/config';

/** The labwire vitest config for the package in `dir`, with `extra` test options merged in. */
export declare function labwireVitest(dir: string, extra?: ViteUserConfig['test']): ViteUserConfig;
