import { labwireVitest } from '../../vitest.shared';

export default labwireVitest(import.meta.dirname);
