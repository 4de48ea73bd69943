// `@labwire/cli-kit/testing`: how the apps' tests run the built programs, as a user's shell would: the
// file dist/main.js itself (its shebang picks node; no tsx anywhere), with real stdio pipes.

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** dist/main.js of the app in `appDir`; a clear error when it was not built. */
export function builtMain(appDir: string): string {
  const main = path.join(appDir, 'dist', 'main.js');
  if (!fs.existsSync(main)) {
    const name = (JSON.parse(fs.readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { name: string })
      .name;
    throw new Error(
      `${main} is missing: build first (pnpm --filter ${name} build; turbo does it before test)`,
    );
  }
  return main;
}

export interface AppRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunAppOptions {
  /** Written to stdin, which is then closed (default: stdin closed at once). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The run is killed (SIGKILL) after this long. Default 30 s. */
  timeoutMs?: number;
}

/** Runs `file args…` to the end. */
export function runApp(file: string, args: readonly string[], options: RunAppOptions = {}): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A long-running program (a server): its first stdout line, then a stop. */
export interface RunningApp {
  readonly child: ChildProcess;
  /** Resolves with the first line on stdout (rejects if the program ends first, or after `timeoutMs`). */
  firstLine(timeoutMs?: number): Promise<string>;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal) once the program ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) and waits for the end; SIGKILL after `timeoutMs`. */
  stop(
    signal?: NodeJS.Signals,
    timeoutMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startApp(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: 'pipe' | 'ignore' } = {},
): RunningApp {
  const child = spawn(file, [...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then(({ code, signal }) =>
      reject(new Error(`${file} ended (${code ?? signal}) before a line: ${err.trim()}`)),
    );
  });
  lines.on('line', (l) => {
    out += `${l}\n`;
  });
  first.catch(() => {});
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    firstLine(timeoutMs = 20_000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        first,
        new Promise<string>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no line from ${file} within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]).finally(() => clearTimeout(timer));
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
