// One-off scaffolding for workspace packages (kept for adding packages later).
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const [kind, dir, name, desc, entriesArg = 'index', depsArg = ''] = process.argv.slice(2);
const entries = entriesArg.split(',');
const deps = depsArg ? depsArg.split(',') : [];
const base = path.join(root, kind, dir);
fs.mkdirSync(path.join(base, 'src'), { recursive: true });
fs.mkdirSync(path.join(base, 'test'), { recursive: true });
const isApp = kind === 'apps';
const priv = isApp || dir === 'testkit';

const exportsMap = {};
for (const e of entries) {
  const key = e === 'index' ? '.' : `./${e}`;
  const srcFile = e === 'index' ? './src/index.ts' : `./src/${e}/index.ts`;
  exportsMap[key] = {
    '@labwire/source': srcFile,
    import: { types: `./dist/${e}.d.ts`, default: `./dist/${e}.js` },
    require: { types: `./dist/${e}.d.cts`, default: `./dist/${e}.cjs` },
  };
}
exportsMap['./package.json'] = './package.json';
const pkg = {
  name,
  version: '0.0.0',
  description: desc,
  ...(priv ? { private: true } : {}),
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  ...(isApp
    ? {}
    : {
        exports: exportsMap,
        main: './dist/index.cjs',
        module: './dist/index.js',
        types: './dist/index.d.ts',
        files: ['dist', 'README.md'],
      }),
  ...(priv
    ? {}
    : {
        publishConfig: { access: 'public' },
        repository: {
          type: 'git',
          url: 'git+https://example.invalid/labwire.git',
          directory: `${kind}/${dir}`,
        },
        keywords: ['labwire', 'tcp', 'instrument'],
      }),
  scripts: {
    ...(isApp ? {} : { build: 'tsup' }),
    typecheck: 'tsc -p tsconfig.json --noEmit',
    test: 'vitest run',
    ...(priv ? {} : { 'package-check': 'publint --strict && attw --pack . --profile node16' }),
  },
  dependencies: Object.fromEntries(
    deps.filter((d) => d.startsWith('@labwire/')).map((d) => [d, 'workspace:^']),
  ),
};
fs.writeFileSync(path.join(base, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
fs.writeFileSync(
  path.join(base, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { customConditions: ['@labwire/source'], noEmit: true }, include: ['src', 'test', '*.config.ts'] }, null, 2)}\n`,
);
if (!isApp) {
  fs.writeFileSync(
    path.join(base, 'tsconfig.build.json'),
    `${JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src' }, include: ['src'] }, null, 2)}\n`,
  );
  const entryObj = Object.fromEntries(
    entries.map((e) => [e, e === 'index' ? 'src/index.ts' : `src/${e}/index.ts`]),
  );
  fs.writeFileSync(
    path.join(base, 'tsup.config.ts'),
    `import { defineConfig } from 'tsup';\n\nexport default defineConfig({\n  entry: ${JSON.stringify(entryObj)},\n  format: ['esm', 'cjs'],\n  dts: true,\n  clean: true,\n  sourcemap: true,\n  target: 'node20',\n  tsconfig: 'tsconfig.build.json',\n});\n`,
  );
}
fs.writeFileSync(
  path.join(base, 'vitest.config.ts'),
  `import { labwireVitest } from '../../vitest.shared';\n\nexport default labwireVitest(import.meta.dirname);\n`,
);
const tj = {
  $schema: 'https://turborepo.com/schema.json',
  extends: ['//'],
  tags: [isApp ? 'app' : `layer:${dir}`],
};
fs.writeFileSync(path.join(base, 'turbo.json'), `${JSON.stringify(tj, null, 2)}\n`);
console.log('scaffolded', base);
