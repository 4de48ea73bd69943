// Every TypeScript example in the top README runs as it is, against the workspace packages.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const scratch = path.join(import.meta.dirname, '..', '.tmp');

describe('README examples', () => {
  it('has one example per package', () => {
    for (const pkg of ['framing', 'tcp', 'bus', 'optommp', 'pymodaq']) {
      expect(blocks.some((b) => b.includes(`from '@labwire/${pkg}'`))).toBe(true);
    }
  });

  for (const [i, code] of blocks.entries()) {
    const title = code.match(/from '(@labwire\/[a-z]+)'/)?.[1] ?? `block ${i}`;
    it(`${title} example runs and prints what its comments say`, () => {
      fs.mkdirSync(scratch, { recursive: true });
      const file = path.join(scratch, `readme-${i}.ts`);
      fs.writeFileSync(file, `${code}\nexport {};\n`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@labwire/source', file], {
        cwd: path.join(import.meta.dirname, '..'),
        encoding: 'utf8',
        timeout: 30_000,
      });
      fs.rmSync(file, { force: true });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      // Each `console.log(…); // value` comment states the printed value (… marks an elided tail).
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) => m[1]!.trim());
      const printed = r.stdout.trim().split('\n');
      for (const [k, comment] of expected.entries()) {
        const line = printed[k] ?? '';
        if (/^[[0-9'a-z]/.test(comment) && !comment.startsWith('ms ')) {
          const head = comment.split('…')[0]!.trim();
          expect(line.replace(/\s+/g, ' '), `line ${k} of ${title}`).toContain(head.replace(/\s+/g, ' '));
        }
      }
    }, 40_000);
  }
});
