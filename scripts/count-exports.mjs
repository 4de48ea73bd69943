// Exported names per entry point, counted from the built .d.ts files (run `pnpm build` first): every name
// a user can import (types and values; a class or an enum that is both counts once). The same entry points
// as the API reports: every subpath of every package's exports map.
//
//   node scripts/count-exports.mjs            a table: entry point, names (values + types)
//   node scripts/count-exports.mjs --names    the names themselves, one entry point per block
//   node scripts/count-exports.mjs --json     { "<package>[/<subpath>]": ["Name", …], … }

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

/** Every entry point: its import specifier and the .d.ts it is typed by (as in scripts/api-report.mjs). */
function entryPoints() {
  const out = [];
  for (const name of fs.readdirSync(path.join(root, 'packages')).sort()) {
    const file = path.join(root, 'packages', name, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      if (subpath === './package.json' || typeof target !== 'object') continue;
      const types = target.import?.types ?? target.types;
      if (typeof types !== 'string') continue;
      const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
      out.push({ specifier, dts: path.join(root, 'packages', name, types) });
    }
  }
  return out;
}

const entries = entryPoints();
const missing = entries.filter((e) => !fs.existsSync(e.dts));
if (missing.length > 0) {
  for (const e of missing)
    console.error(`count-exports: ${path.relative(root, e.dts)} missing (run pnpm build)`);
  process.exit(1);
}

const program = ts.createProgram(
  entries.map((e) => e.dts),
  {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  },
);
const checker = program.getTypeChecker();

const result = {};
for (const e of entries) {
  const source = program.getSourceFile(e.dts);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`count-exports: ${e.dts} is not a module`);
  const counts = { values: 0, types: 0 };
  const names = [];
  for (const exported of checker.getExportsOfModule(symbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (target.flags & ts.SymbolFlags.Value) counts.values += 1;
    else counts.types += 1;
    names.push(exported.getName());
  }
  result[e.specifier] = { ...counts, names: names.sort() };
}

if (args.has('--json')) {
  console.log(
    JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.names])), null, 2),
  );
} else if (args.has('--names')) {
  for (const [specifier, r] of Object.entries(result))
    console.log(`${specifier} (${r.names.length})\n  ${r.names.join(' ')}`);
} else {
  const width = Math.max(...Object.keys(result).map((k) => k.length));
  let total = 0;
  console.log(`${'entry point'.padEnd(width)}  names  values  types`);
  for (const [specifier, r] of Object.entries(result)) {
    total += r.names.length;
    console.log(
      `${specifier.padEnd(width)}  ${String(r.names.length).padStart(5)}  ${String(r.values).padStart(6)}  ${String(r.types).padStart(5)}`,
    );
  }
  console.log(`${'total'.padEnd(width)}  ${String(total).padStart(5)}`);
}
