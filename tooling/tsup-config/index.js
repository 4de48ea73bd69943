// Shared tsup presets of the labwire workspace. Plain JavaScript: tsup loads config dependencies from
// node_modules without transpiling them.
//
// - labwireLibrary: a published library package: ESM and CommonJS, .d.ts and .d.cts, source maps,
//   one output file per entry point of the exports map.
// - labwireApp: a CLI app: one ESM program (dist/main.js) that keeps the shebang of src/main.ts (tsup makes
//   it executable). Published packages stay external (they are the app's dependencies); private workspace
//   packages named in `bundle` (the CLI kit) are compiled in, since they are never published.

import { defineConfig } from 'tsup';

const common = {
  clean: true,
  target: 'node20',
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
};

/**
 * @param {Record<string, string>} entry output name → source file, e.g. `{ index: 'src/index.ts' }`
 * @returns {import('tsup').Options}
 */
export function labwireLibrary(entry) {
  return defineConfig({ ...common, entry, format: ['esm', 'cjs'], dts: true, sourcemap: true });
}

/**
 * @param {{ entry?: Record<string, string>, bundle?: string[] }} [options]
 * @returns {import('tsup').Options}
 */
export function labwireApp(options = {}) {
  return defineConfig({
    ...common,
    entry: options.entry ?? { main: 'src/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: false,
    // Commands load their heavy imports on first use: shared chunks keep `--help` and `--version` fast.
    splitting: true,
    noExternal: options.bundle ?? ['@labwire/cli-kit'],
  });
}
