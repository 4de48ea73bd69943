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
  // No shared chunks: tsup turns split CommonJS output through sucrase, which breaks `yield` inside `??`
  // (in the PyMoDAQ codec's generators). The three modules share only small helpers. Without splitting,
  // tsup's cjsInterop does not apply: the footer makes the registration function module.exports itself.
  splitting: false,
  footer: { js: 'module.exports = module.exports.default;' },
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  tsconfig: 'tsconfig.build.json',
  // @labwire/pymodaq is compiled in from its sources: its CommonJS build has two bundles (the package and
  // ./codec), each with its own NdArray class, and data made by the one is refused by the other. From the
  // sources, the nodes get one copy of every module. Its own dependencies (framing, tcp) stay external.
  noExternal: [/^@labwire\/pymodaq(\/|$)/],
  esbuildOptions(options) {
    options.conditions = ['@labwire/source'];
  },
  async onSuccess() {
    for (const n of NODE_MODULES) {
      fs.copyFileSync(path.join('src/nodes', `${n}.html`), path.join('dist/nodes', `${n}.html`));
    }
  },
};

export default [library, nodes];
