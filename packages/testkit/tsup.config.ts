import { labwireLibrary } from '@labwire/tsup-config';
import type { Options } from 'tsup';

const config: Options = labwireLibrary({ index: 'src/index.ts' });
export default config;
