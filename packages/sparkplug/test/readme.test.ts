// Every ```ts block of the README runs as a module, so the examples stay true. Session examples talk to
// `mqtt://127.0.0.1:1883`: the test starts aedes on an ephemeral loopback port and substitutes its URL.

import fs from 'node:fs';
import path from 'node:path';
import { readmeExamples, runReadmeExample } from '@labwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AedesBroker, startAedes } from './brokers';

const root = path.resolve(import.meta.dirname, '..');
const examples = readmeExamples(path.join(root, 'README.md'));
const dir = path.join(root, '.tmp', 'readme');
let broker: AedesBroker;

beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
  });

  for (const example of examples) {
    it(`example ${example.number}: ${example.title}`, async () => {
      const code = example.code.replaceAll('mqtt://127.0.0.1:1883', broker.url);
      expect((await runReadmeExample({ ...example, code }, dir)).length).toBeGreaterThan(0);
    });
  }
});
