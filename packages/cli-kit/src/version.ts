// `--version`: the version field of the app's own package.json, read once at start (a few microseconds).

import fs from 'node:fs';

/** The `version` of the package.json at `url` (pass `new URL('../package.json', import.meta.url)`). */
export function readPackageVersion(url: URL): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
