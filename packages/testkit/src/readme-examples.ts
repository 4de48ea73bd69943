// README examples executed as tests (msgpack-javascript's practice): every ```ts block of a package's
// README runs as a module of its own, so an example that no longer compiles or runs fails the suite.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ReadmeExample {
  /** 1-based, in the order of the file. */
  number: number;
  /** The first line that is not an import: what a test is named after. */
  title: string;
  code: string;
}

/** The ```ts blocks of a Markdown file, in order. */
export function readmeExamples(file: string): ReadmeExample[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => {
    const code = m[1]!;
    const title = code.split('\n').find((l) => !l.startsWith('import') && l.trim() !== '') ?? '';
    return { number: i + 1, title: title.slice(0, 70), code };
  });
}

/**
 * Runs one example as a module (written to `dir` as `example-<number>.ts`, then imported) with
 * `console.log` captured and silenced; resolves with the arguments of each call.
 */
export async function runReadmeExample(example: ReadmeExample, dir: string): Promise<unknown[][]> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `example-${example.number}.ts`);
  fs.writeFileSync(file, example.code);
  const printed: unknown[][] = [];
  // biome-ignore lint/suspicious/noConsole: the examples print with console.log; captured here
  const log = console.log;
  console.log = (...args: unknown[]) => {
    printed.push(args);
  };
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
  }
  return printed;
}
