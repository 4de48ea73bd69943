// Every TypeScript example in the top README runs as it is, against the workspace packages; every
// plain-JavaScript variant (```js, in the top README and the package READMEs) runs with plain node, no
// tsx, against the built packages (as a user's .mjs file would).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const scratch = path.join(import.meta.dirname, '..', '.tmp');

/** `console.log(…); // value` comments state the printed value (… marks an elided tail). */
function expectPrinted(code: string, stdout: string, title: string): void {
  const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((m) => m[1]!.trim());
  const printed = stdout.trim().split('\n');
  for (const [k, comment] of expected.entries()) {
    const line = printed[k] ?? '';
    if (/^[[0-9'a-z]/.test(comment) && !comment.startsWith('ms ')) {
      const head = comment.split('…')[0]!.trim();
      expect(line.replace(/\s+/g, ' '), `line ${k} of ${title}`).toContain(head.replace(/\s+/g, ' '));
    }
  }
}

const jsBlocks = ['README.md', 'packages/tcp/README.md', 'packages/optommp/README.md'].flatMap((file) =>
  [...fs.readFileSync(path.join(root, file), 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m, i) => ({
    file,
    i,
    code: m[1]!,
  })),
);

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
      expectPrinted(code, r.stdout, title);
    }, 40_000);
  }
});

describe('plain-JavaScript variants of the `await using` examples', () => {
  it('exist for every README example that uses `await using`', () => {
    expect(blocks.filter((b) => b.includes('await using'))).toHaveLength(
      jsBlocks.filter((b) => b.file === 'README.md').length,
    );
    for (const file of ['packages/tcp/README.md', 'packages/optommp/README.md'])
      expect(jsBlocks.some((b) => b.file === file)).toBe(true);
  });

  for (const { file, i, code } of jsBlocks) {
    it(`${file} js block ${i} runs with plain node (no tsx) and prints what its comments say`, () => {
      expect(code).not.toContain('await using');
      fs.mkdirSync(scratch, { recursive: true });
      const out = path.join(scratch, `readme-${file.replace(/\W+/g, '-')}-${i}.mjs`);
      fs.writeFileSync(out, code);
      const r = spawnSync(process.execPath, [out], { cwd: scratch, encoding: 'utf8', timeout: 30_000 });
      fs.rmSync(out, { force: true });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expectPrinted(code, r.stdout, `${file} js block ${i}`);
    }, 40_000);
  }
});
