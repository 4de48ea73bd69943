// The examples in README.md run: each `console.log(x); // expected` line must print `expected`.

import { describe } from 'vitest';
import { docExampleTests } from './fixtures/doc-examples';

describe('README.md examples', () => {
  docExampleTests({
    document: 'README.md',
    atLeast: { count: 6, title: 'has an example for each API entry' },
  });
});
