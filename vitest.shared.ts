// Shared vitest config. Tests run on sources through the `@labwire/source` export condition (no build
// needed); with TEST_DIST=1 the same tests run on the built `dist` of every workspace package.
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const SOURCE_CONDITION = '@labwire/source';

export function labwireVitest(dir: string, extra: ViteUserConfig['test'] = {}): ViteUserConfig {
  const onDist = process.env.TEST_DIST === '1';
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    name: string;
    exports?: Record<string, string | Record<string, unknown>>;
  };
  // A package's tests import the package by its own name; map that name to src or dist.
  const alias: { find: RegExp; replacement: string }[] = [];
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== 'object' || key === './package.json') continue;
    const spec = key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    const file = onDist
      ? ((target.import as { default: string }).default as string)
      : (target[SOURCE_CONDITION] as string);
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
