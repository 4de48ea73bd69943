import fs from 'node:fs';
import path from 'node:path';
import { labwireLibrary } from '@labwire/tsup-config';
import type { Options } from 'tsup';

const NODE_MODULES = ['optommp', 'pymodaq', 'cmd-tcp'];

// Two outputs: the library entry point (ESM + CJS + types, the workspace preset; its clean leaves
// dist/nodes alone), and the Node-RED node modules: CommonJS files whose module.exports is the
// registration function (Node-RED require()s them), each with its editor HTML copied next to it (Node-RED
// looks for `<name>.html` beside `<name>.cjs`).
const library: Options = { ...labwireLibrary({ index: 'src/index.ts' }), clean: ['!nodes/**'] };
const nodes: Options = {
  entry: Object.fromEntries(NODE_MODULES.map((n) => [n, `src/nodes/${n}.ts`])),
  outDir: 'dist/nodes',
  format: ['cjs'],
  cjsInterop: true,
  splitting: true,
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
  async onSuccess() {
    for (const n of NODE_MODULES) {
      fs.copyFileSync(path.join('src/nodes', `${n}.html`), path.join('dist/nodes', `${n}.html`));
    }
  },
};

export default [library, nodes];
