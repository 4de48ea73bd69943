// Every ```ts block of the README runs as a module, so the examples stay true. Session examples talk to
// `mqtt://127.0.0.1:1883`: the test starts aedes on an ephemeral loopback port and substitutes its URL.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AedesBroker, startAedes } from './brokers';

const root = path.resolve(import.meta.dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
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
    expect(blocks.length).toBeGreaterThanOrEqual(7);
  });

  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => !l.startsWith('import') && l.trim() !== '') ?? '';
    it(`example ${i + 1}: ${title.slice(0, 70)}`, async () => {
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `example-${i + 1}.ts`);
      fs.writeFileSync(file, code.replaceAll('mqtt://127.0.0.1:1883', broker.url));
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      try {
        await import(pathToFileURL(file).href);
        expect(log).toHaveBeenCalled();
      } finally {
        log.mockRestore();
      }
    });
  });
});
