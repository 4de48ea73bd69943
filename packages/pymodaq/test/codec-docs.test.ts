// The examples in docs/codec.md run: each `console.log(x); // expected` line must print `expected`.
// (The synopsis needs a PyMoDAQ server and is only type-checked by eye; it is recognised by net.connect.)

import { describe } from 'vitest';
import { docExampleTests } from './fixtures/doc-examples';

describe('docs/codec.md examples', () => {
  docExampleTests({
    document: 'docs/codec.md',
    atLeast: { count: 5, title: 'has runnable examples' },
    skip: (block) => block.includes('net.connect'),
  });
});
