// The examples in README.md run: each `console.log(x); // expected` line must print `expected`.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
// Inside the package, so the examples resolve `@labwire/pymodaq` like any test file; removed afterwards.
const dir = fs.mkdtempSync(path.join(import.meta.dirname, '.readme-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Turns a block into a module whose run() records [printed, expected] for every annotated console.log. */
function toModule(block: string): string {
  const imports: string[] = [];
  const body: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('import ')) {
      imports.push(line);
      continue;
    }
    const m = /^(\s*)console\.log\((.*)\);\s*\/\/ (.*)$/.exec(line);
    body.push(m ? `${m[1]}__out.push([util.format(${m[2]}), ${JSON.stringify(m[3])}]);` : line);
  }
  return [
    "import util from 'node:util';",
    ...imports,
    'export async function run(__out: [string, string][]): Promise<void> {',
    ...body,
    '}',
  ].join('\n');
}

describe('README.md examples', () => {
  it('has an example for each API entry', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it.each(blocks.map((b, i) => [i, b] as const))(
    'example %i prints what the comments say',
    async (i, block) => {
      const file = path.join(dir, `example-${i}.ts`);
      fs.writeFileSync(file, toModule(block));
      const mod = (await import(file)) as { run: (out: [string, string][]) => Promise<void> };
      const out: [string, string][] = [];
      await mod.run(out);
      expect(out.length).toBeGreaterThan(0);
      for (const [printed, expected] of out) expect(printed).toBe(expected);
    },
  );
});
