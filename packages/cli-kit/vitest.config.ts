import { labwireVitest } from '@labwire/vitest-config';

export default labwireVitest(import.meta.dirname);
