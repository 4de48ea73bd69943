// Shared vitest config of the labwire workspace. Tests run on sources through the `@labwire/source`
// export condition (no build needed); with TEST_DIST=1 the same tests run on the built `dist` of every
// workspace package. Plain JavaScript: vite loads config dependencies from node_modules without
// transpiling them.

import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const SOURCE_CONDITION = '@labwire/source';

/**
 * @param {string} dir the package directory (`import.meta.dirname` of its vitest.config.ts)
 * @param {import('vitest/config').ViteUserConfig['test']} [extra] test options to merge
 * @returns {import('vitest/config').ViteUserConfig}
 */
export function labwireVitest(dir, extra = {}) {
  const onDist = process.env.TEST_DIST === '1';
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  // A package's tests import the package by its own name; map that name to src or dist.
  const alias = [];
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== 'object' || key === './package.json') continue;
    const spec = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    const file = onDist ? target.import.default : target[SOURCE_CONDITION];
    alias.push({ find: new RegExp(`^${spec.replace(/[/.]/g, '\\$&')}$`), replacement: path.join(dir, file) });
  }
  const conditions = onDist ? ['module', 'node'] : [SOURCE_CONDITION, 'module', 'node'];
  return defineConfig({
    resolve: { alias, conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      environment: 'node',
      include: ['test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      reporters: process.env.CI || process.env.LABWIRE_TEST_JSON ? ['default', 'json'] : ['default'],
      outputFile: { json: path.join(dir, 'test-results.json') },
      ...extra,
    },
  });
}
