import { labwireApp } from '@labwire/tsup-config';
import type { Options } from 'tsup';

// One ESM program, dist/main.js, with the shebang of src/main.ts; @labwire/cli-kit is compiled in.
const config: Options = labwireApp();
export default config;
