import { labwireLibrary } from '@labwire/tsup-config';
import type { Options } from 'tsup';

// ESM only: the kit is compiled into the apps (tsup noExternal), which are ESM programs.
const config: Options = {
  ...labwireLibrary({ index: 'src/index.ts', testing: 'src/testing.ts' }),
  format: ['esm'],
};
export default config;
