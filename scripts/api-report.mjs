// API reports: one `packages/<pkg>/api/<entry>.api.md` per entry point of every package's exports map,
// written by @microsoft/api-extractor from the built .d.ts files (run `pnpm build` first).
//
//   node scripts/api-report.mjs           rewrite the reports (`pnpm api`)
//   node scripts/api-report.mjs --check   exit 1 when a report differs from the built surface, naming it
//
// A change to a package's public surface therefore shows up in review as a diff of its report.
//
// Entry points of one package share types: `@labwire/pymodaq`'s PymodaqDetector speaks DataToExport, which
// is exported once, by `@labwire/pymodaq/codec`. api-extractor looks at one entry point at a time and
// calls such a type a "forgotten export"; here a type exported by a sibling entry point of the same
// package is not one (its declaration is in the sibling's report). A type that no entry point of its
// package exports is: in a published package it fails the run, naming the symbol.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-api-'));

/** Every entry point: package dir, entry name (`index`, `codec`, …) and the .d.ts it is typed by. */
function entryPoints() {
  const out = [];
  for (const name of fs.readdirSync(path.join(root, 'packages')).sort()) {
    const dir = path.join(root, 'packages', name);
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      if (subpath === './package.json' || typeof target !== 'object') continue;
      const types = target.import?.types ?? target.types;
      if (typeof types !== 'string') continue;
      const entry = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
      out.push({ pkg: pkg.name, published: pkg.private !== true, dir, entry, dts: path.join(dir, types) });
    }
  }
  return out;
}

/** The names each built entry point exports, by .d.ts path (entry points whose .d.ts is missing: none). */
function exportedNames(entries) {
  const files = entries.map((e) => e.dts).filter((f) => fs.existsSync(f));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const out = new Map();
  for (const file of files) {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(file));
    out.set(file, new Set(symbol ? checker.getExportsOfModule(symbol).map((s) => s.getName()) : []));
  }
  return out;
}

const entries = entryPoints();
const names = exportedNames(entries);
/** Whether `symbol` (as api-extractor names it: a clash with a global gets a `_2` suffix) is exported by
 * another entry point of e's package. */
function exportedBySibling(e, symbol) {
  const bare = symbol.replace(/_\d+$/, '');
  return entries.some((s) => s.pkg === e.pkg && s.dts !== e.dts && names.get(s.dts)?.has(bare));
}

/**
 * Names a built .d.ts imports from another workspace entry point that this one does not export: packages
 * build their .d.ts from sibling sources, which still hold the `@internal` names that the published .d.ts
 * leave out, so a public signature must not use one.
 */
function missingImports(e) {
  const byName = new Map(entries.map((x) => [x.pkg + (x.entry === 'index' ? '' : `/${x.entry}`), x.dts]));
  const out = [];
  for (const file of fs.readdirSync(path.dirname(e.dts)).filter((f) => /\.d\.(c|m)?ts$/.test(f))) {
    const text = fs.readFileSync(path.join(path.dirname(e.dts), file), 'utf8');
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@labwire\/[^']+)'/g)) {
      const exported = names.get(byName.get(m[2]));
      if (exported === undefined) continue;
      for (const spec of m[1].split(',')) {
        const name = spec
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0];
        if (name !== '' && !exported.has(name))
          out.push(`${file} imports ${name} from ${m[2]}, which does not export it`);
      }
    }
  }
  return out;
}

const stale = [];
const failed = [];
for (const e of entries) {
  if (e.published && fs.existsSync(e.dts) && e.entry === 'index')
    for (const m of missingImports(e)) failed.push(`${e.pkg}: ${m}`);
  if (!fs.existsSync(e.dts)) {
    failed.push(`${e.pkg} ${e.entry}: ${path.relative(root, e.dts)} missing (run pnpm build)`);
    continue;
  }
  const reportFolder = path.join(e.dir, 'api');
  fs.mkdirSync(reportFolder, { recursive: true });
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: e.dir,
      mainEntryPointFilePath: e.dts,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            lib: ['ES2023'],
            types: ['node'],
            skipLibCheck: true,
            strict: true,
          },
          files: [e.dts],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${e.entry}.api.md`,
        reportFolder,
        reportTempFolder: temp,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning', addToApiReportFile: true },
          // labwire marks no release stages (@public/@beta): every exported name is public.
          'ae-missing-release-tag': { logLevel: 'none', addToApiReportFile: false },
          // Undocumented members would be listed with their line in the built .d.ts: every unrelated edit
          // would move them and make the report stale. The surface itself is what the report is for.
          'ae-undocumented': { logLevel: 'none', addToApiReportFile: false },
          // Published packages: decided below, symbol by symbol (see the top of this file).
          'ae-forgotten-export': { logLevel: 'warning', addToApiReportFile: !e.published },
        },
        tsdocMessageReporting: { default: { logLevel: 'none', addToApiReportFile: false } },
      },
    },
    configObjectFullPath: path.join(e.dir, 'api-extractor.json'),
    packageJsonFullPath: path.join(e.dir, 'package.json'),
  });
  const result = Extractor.invoke(config, {
    localBuild: !check,
    showVerboseMessages: false,
    messageCallback(message) {
      if (message.messageId === 'ae-forgotten-export') {
        const symbol = /The symbol "([^"]+)"/.exec(message.text)?.[1] ?? '?';
        if (exportedBySibling(e, symbol)) message.logLevel = ExtractorLogLevel.None;
        else if (e.published)
          failed.push(
            `${e.pkg} ${e.entry}: ${symbol} appears in the public surface but no entry point exports it`,
          );
      }
      // Other findings go into the report itself (addToApiReportFile); the console stays quiet.
      if (message.logLevel !== ExtractorLogLevel.Error) message.handled = true;
    },
  });
  const report = path.relative(root, path.join(reportFolder, `${e.entry}.api.md`));
  if (result.apiReportChanged && check) stale.push(report);
  else if (!result.succeeded)
    failed.push(`${e.pkg} ${e.entry}: api-extractor failed (${result.errorCount} errors)`);
  else if (result.apiReportChanged) console.log(`api: updated ${report}`);
}
fs.rmSync(temp, { recursive: true, force: true });

for (const f of failed) console.error(`api: ${f}`);
if (stale.length > 0) {
  console.error(
    `api: ${stale.length} report(s) differ from the built surface (run pnpm build && pnpm api, review, commit):`,
  );
  for (const s of stale) console.error(`  ${s}`);
}
process.exit(stale.length > 0 || failed.length > 0 ? 1 : 0);
