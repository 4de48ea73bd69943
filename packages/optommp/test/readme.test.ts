// Every ```ts block of the README runs as a module against the simulator, so the examples stay true.

import fs from 'node:fs';
import path from 'node:path';
import { readmeExamples, runReadmeExample } from '@labwire/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const examples = readmeExamples(path.join(root, 'README.md'));
const dir = path.join(root, '.tmp', 'readme');

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
  });

  for (const example of examples) {
    it(`example ${example.number}: ${example.title}`, async () => {
      expect((await runReadmeExample(example, dir)).length).toBeGreaterThan(0);
    });
  }
});
