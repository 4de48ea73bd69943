#!/usr/bin/env node
// Protocol citations in comments, test titles and docs ("spec §2.11", "cmd_tcp.md §7.3, Q13", "(F7)",
// "spec G17", "§9 c") and the documents they point to, docs/protocols/*.md.
//
//   node scripts/cite-protocol-docs.mjs            dry run: every rewrite it would make, and the count
//   node scripts/cite-protocol-docs.mjs --write    make the rewrites (idempotent: a second run changes nothing)
//   node scripts/cite-protocol-docs.mjs --check    every cited id exists as a heading or an anchor of its
//                                                  doc; exit 1 otherwise. Add --strict to also fail while a
//                                                  rewrite is pending (for scripts/test-all.mjs afterwards).
//   node scripts/cite-protocol-docs.mjs --list     every cited id per doc, with its count
//
// Rewrite rules (only inside comments and string literals of .ts/.js files, anywhere in .md files):
//   "spec §2.11"          -> "docs/protocols/<doc of this package>.md §2.11"
//   "spec F7", "spec G17" -> "docs/protocols/tcpinterface.md F7"   (F and G ids are always tcpinterface's)
//   "spec D4"             -> "docs/protocols/optommp.md D4"
//   "spec cmd_tcp.md §3", "cmd_tcp.md §3" -> "docs/protocols/cmd_tcp.md §3" (same for every doc name)
// Bare ids ("§7.1", "(F3)", "Q13", "§9 c", "bug a") are left as written and checked against the doc the
// citation run names, else the package's doc (DEFAULT_DOC below).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const DOCS_DIR = 'docs/protocols';
const DOC_NAMES = ['cmd_tcp', 'tcpinterface', 'optommp', 'pymodaq'];
const SELF = 'scripts/cite-protocol-docs.mjs';

/** Which doc a bare "§" (and "spec §") means, by path prefix; the first match wins. */
const DEFAULT_DOC = [
  ['packages/framing/', 'tcpinterface'],
  ['packages/tcp/', 'tcpinterface'],
  ['packages/testkit/', 'tcpinterface'],
  ['packages/bus/', 'cmd_tcp'],
  ['packages/optommp/', 'optommp'],
  ['packages/pymodaq/', 'pymodaq'],
  ['apps/tcpbus/', 'cmd_tcp'],
  ['apps/mmp/', 'optommp'],
  ['apps/epic-sim/', 'optommp'],
  ['apps/pymodaq/', 'pymodaq'],
  ['bench/cases/framing.', 'tcpinterface'],
  ['bench/cases/tcp.', 'tcpinterface'],
  ['bench/cases/bus.', 'cmd_tcp'],
  ['bench/cases/optommp.', 'optommp'],
  ['bench/cases/pymodaq.', 'pymodaq'],
];

/**
 * Files that cite a published external specification by its own section numbers, not a doc of ours:
 * Sparkplug B 3.0 (Eclipse Foundation), cited as "§6.4.17" by the sparkplug package and the gateway.
 */
const EXTERNAL_SPEC = ['packages/sparkplug/', 'apps/gateway/'];

const defaultDoc = (file) => DEFAULT_DOC.find(([prefix]) => file.startsWith(prefix))?.[1];

// --- files and the regions of them that may hold citations --------------------------------------------

const SOURCE_EXT = /\.(?:[cm]?ts|tsx|[cm]?js)$/;

function listFiles() {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\0')
    .filter(Boolean)
    .filter((f) => SOURCE_EXT.test(f) || f.endsWith('.md'))
    .filter((f) => f !== SELF && !f.startsWith(`${DOCS_DIR}/`) && !/(^|\/)CHANGELOG\.md$/.test(f))
    .filter((f) => !/(^|\/)(node_modules|dist)\//.test(f))
    .filter((f) => fs.existsSync(path.join(root, f)))
    .sort();
}

/**
 * [start, end) ranges of comments and string literals. Consecutive `//` lines form one region, so a
 * citation may wrap ("spec\n// §3.1").
 */
function sourceRegions(file, text) {
  const kind = /\.[cm]?js$/.test(file)
    ? ts.ScriptKind.JS
    : file.endsWith('x')
      ? ts.ScriptKind.TSX
      : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const comments = new Map();
  const strings = [];
  const visit = (node) => {
    const children = node.getChildren(sf);
    if (children.length === 0) {
      for (const c of ts.getLeadingCommentRanges(text, node.pos) ?? []) comments.set(c.pos, c);
      for (const c of ts.getTrailingCommentRanges(text, node.end) ?? []) comments.set(c.pos, c);
      if (
        node.kind === ts.SyntaxKind.StringLiteral ||
        node.kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral ||
        node.kind === ts.SyntaxKind.TemplateHead ||
        node.kind === ts.SyntaxKind.TemplateMiddle ||
        node.kind === ts.SyntaxKind.TemplateTail
      ) {
        strings.push([node.getStart(sf), node.end]);
      }
      return;
    }
    for (const child of children) visit(child);
  };
  visit(sf);
  const merged = [];
  for (const c of [...comments.values()].sort((a, b) => a.pos - b.pos)) {
    const last = merged.at(-1);
    const line = c.kind === ts.SyntaxKind.SingleLineCommentTrivia;
    if (last?.line && line && /^\s*$/.test(text.slice(last.end, c.pos))) last.end = c.end;
    else merged.push({ start: c.pos, end: c.end, line });
  }
  return [...merged.map((r) => [r.start, r.end]), ...strings].sort((a, b) => a[0] - b[0]);
}

/** The region's text with comment markers blanked out (same length, so offsets stay valid). */
function blankMarkers(s) {
  return s
    .replace(/^\/\*\*?|\*\/$/g, (m) => ' '.repeat(m.length))
    .replace(/(^|\n)([ \t]*)(\/\/+|\*(?!\/))/g, (_m, nl, ws, mark) => nl + ws + ' '.repeat(mark.length));
}

// --- citations ---------------------------------------------------------------------------------------

const NUM = String.raw`\d+(?:\.\d+)*`;
const TOKEN = new RegExp(
  [
    String.raw`(?<doc>(?<![\w./-])(?<prefix>docs/protocols/)?(?<docName>${DOC_NAMES.join('|')})\.md\b)`,
    String.raw`(?<spec>\b[Ss]pec\b)`,
    String.raw`(?<sec>(?<!RFC \d{3,5} )§(?<num>${NUM})(?:\s*[–-]\s*§?(?<numTo>${NUM}))?(?:\s+(?<letters>[a-z](?:,\s*[a-z])*)(?=[)\],.;:'"\`]|\s*$))?)`,
    String.raw`(?<id>(?<![\w:-])(?!F(?:16|32|64)\b)(?<idKind>[FGQD])(?<idNum>[1-9]\d?)(?:\s*[–-]\s*\k<idKind>?(?<idTo>\d{1,2}))?(?![\w\\[=(]))`,
    String.raw`(?<bug>\bbug (?<bugLetter>[a-n])\b(?![\w-]))`,
  ].join('|'),
  'g',
);
// In TOKEN, `sec` skips sections of RFCs ("RFC 4253 §4.2"); `id` skips F0 (an address) and F16/F32/F64 (float widths, not failure modes) and ids glued to `:`, `\`, `[`, `=`,
// `(` (test data and code such as 'R:Q2', 'Q2\n', F64[0]).
/** What may stand between two parts of one citation run ("cmd_tcp.md §5, Q4", "G7, G14", "§5.5 and §6.4"). */
const RUN_GAP = /^[\s,;/–`-]*(?:(?:and|or|goals?)\s+)?$/;

/**
 * Scans one region: citations (each with its doc and the keys it needs) and rewrites.
 * @returns {{ cites: {doc: string|undefined, keys: string[], text: string, at: number}[], edits: {at: number, end: number, to: string}[] }}
 */
function scanRegion(file, original, start, end, isSource) {
  const slice = original.slice(start, end);
  const text = isSource ? blankMarkers(slice) : slice;
  const fileDoc = defaultDoc(file);
  const cites = [];
  const edits = [];
  let runDoc; // doc named earlier in the current citation run
  let lastEnd = -1;
  let pendingSpec; // a "spec" waiting for what follows it
  for (const m of text.matchAll(TOKEN)) {
    const g = m.groups;
    const inRun = lastEnd >= 0 && RUN_GAP.test(text.slice(lastEnd, m.index));
    if (!inRun) runDoc = undefined;
    const specBefore =
      pendingSpec && /^\s+$/.test(text.slice(pendingSpec.end, m.index)) ? pendingSpec : undefined;
    pendingSpec = undefined;
    if (g.spec) {
      pendingSpec = { at: m.index, end: m.index + m[0].length };
      lastEnd = -1;
      continue;
    }
    lastEnd = m.index + m[0].length;
    if (g.doc) {
      runDoc = g.docName;
      const to = `${DOCS_DIR}/${g.docName}.md`;
      if (specBefore) edits.push({ at: start + specBefore.at, end: start + lastEnd, to });
      else if (!g.prefix) edits.push({ at: start + m.index, end: start + lastEnd, to });
      continue;
    }
    let doc;
    let keys = [];
    if (g.sec) {
      doc = runDoc ?? fileDoc;
      keys = sectionKeys(g.num, g.numTo, g.letters);
    } else if (g.id) {
      const kind = g.idKind;
      doc = kind === 'F' || kind === 'G' ? 'tcpinterface' : kind === 'Q' ? 'cmd_tcp' : 'optommp';
      // Q and D ids mean something only where that doc is the subject.
      if ((kind === 'Q' || kind === 'D') && runDoc !== doc && fileDoc !== doc) {
        lastEnd = -1;
        continue;
      }
      keys = rangeKeys(kind, Number(g.idNum), g.idTo === undefined ? undefined : Number(g.idTo));
    } else if (g.bug) {
      if (fileDoc !== 'pymodaq') continue;
      doc = 'pymodaq';
      keys = [`§9 ${g.bugLetter}`];
    }
    runDoc ??= doc;
    cites.push({ doc, keys, text: m[0], at: start + m.index });
    if (specBefore && doc) {
      edits.push({ at: start + specBefore.at, end: start + specBefore.end, to: `${DOCS_DIR}/${doc}.md` });
    }
  }
  return { cites, edits };
}

function sectionKeys(num, numTo, letters) {
  const keys = [];
  if (numTo !== undefined && /^\d+$/.test(num) && /^\d+$/.test(numTo)) {
    for (let i = Number(num); i <= Number(numTo); i++) keys.push(`§${i}`);
  } else {
    keys.push(`§${num}`);
    if (numTo !== undefined) keys.push(`§${numTo}`);
  }
  for (const l of letters?.split(/,\s*/) ?? []) keys.push(`§${num} ${l}`);
  return keys;
}

function rangeKeys(kind, from, to) {
  if (to === undefined) return [`${kind}${from}`];
  const keys = [];
  for (let i = from; i <= to; i++) keys.push(`${kind}${i}`);
  return keys;
}

function scanFile(file) {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const isSource = SOURCE_EXT.test(file);
  const regions = isSource ? sourceRegions(file, text) : [[0, text.length]];
  const cites = [];
  const edits = [];
  for (const [s, e] of regions) {
    const r = scanRegion(file, text, s, e, isSource);
    cites.push(...r.cites);
    edits.push(...r.edits);
  }
  return { text, cites, edits };
}

// --- what the docs define ----------------------------------------------------------------------------

/** Keys a doc defines: headings "### 2.11 …" / "### F7. …", and anchors <a id="s9-a">, <a id="Q13">. */
function definedKeys(doc) {
  const file = path.join(root, DOCS_DIR, `${doc}.md`);
  const keys = new Set();
  if (!fs.existsSync(file)) return keys;
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^#{1,6}\s+(?:§\s*)?(\d+(?:\.\d+)*)\.?(?=\s|$)/gm)) keys.add(`§${m[1]}`);
  for (const m of text.matchAll(/^#{1,6}\s+([FGQD]\d{1,2})\b/gm)) keys.add(m[1]);
  for (const m of text.matchAll(/<a id="([^"]+)"/g)) {
    const s = /^s(\d+(?:\.\d+)*)(?:-([a-z]))?$/.exec(m[1]);
    if (s) keys.add(s[2] ? `§${s[1]} ${s[2]}` : `§${s[1]}`);
    else if (/^[FGQD]\d{1,2}$/.test(m[1])) keys.add(m[1]);
  }
  return keys;
}

// --- main --------------------------------------------------------------------------------------------

const args = new Set(process.argv.slice(2));
const mode = args.has('--write')
  ? 'write'
  : args.has('--check')
    ? 'check'
    : args.has('--list')
      ? 'list'
      : 'dry';
const strict = args.has('--strict');

const defined = Object.fromEntries(DOC_NAMES.map((d) => [d, definedKeys(d)]));
const lineOf = (text, at) => text.slice(0, at).split('\n').length;

let citeCount = 0;
let editCount = 0;
const editedFiles = [];
const problems = [];
const usage = new Map(); // "doc key" -> count
const unnamed = []; // files whose citations are all bare: the reader is not told which doc they mean

for (const file of listFiles()) {
  if (EXTERNAL_SPEC.some((prefix) => file.startsWith(prefix))) continue;
  const { text, cites, edits } = scanFile(file);
  for (const c of cites) {
    citeCount++;
    const where = `${file}:${lineOf(text, c.at)}`;
    if (!c.doc) {
      problems.push(`${where}: "${c.text}" names no doc, and ${file} has no default doc (see DEFAULT_DOC)`);
      continue;
    }
    for (const k of c.keys) {
      usage.set(`${c.doc} ${k}`, (usage.get(`${c.doc} ${k}`) ?? 0) + 1);
      if (!defined[c.doc].has(k))
        problems.push(`${where}: "${c.text}": ${k} is not in ${DOCS_DIR}/${c.doc}.md`);
    }
  }
  if (cites.length > 0 && edits.length === 0 && !text.includes(`${DOCS_DIR}/`)) unnamed.push(file);
  if (edits.length === 0) continue;
  editCount += edits.length;
  editedFiles.push(file);
  if (mode === 'dry') {
    for (const e of edits)
      console.log(`${file}:${lineOf(text, e.at)}: ${JSON.stringify(text.slice(e.at, e.end))} -> ${e.to}`);
  }
  if (mode === 'write') {
    let out = text;
    for (const e of [...edits].sort((a, b) => b.at - a.at))
      out = out.slice(0, e.at) + e.to + out.slice(e.end);
    fs.writeFileSync(path.join(root, file), out);
  }
}

if (mode === 'list') {
  const byDoc = new Map();
  for (const [k, n] of usage) {
    const [doc, ...rest] = k.split(' ');
    if (!byDoc.has(doc)) byDoc.set(doc, []);
    byDoc.get(doc).push([rest.join(' '), n]);
  }
  const order = (a) => a.replace(/\d+/g, (d) => d.padStart(3, '0'));
  for (const [doc, list] of [...byDoc].sort()) {
    list.sort((a, b) => order(a[0]).localeCompare(order(b[0])));
    const marks = list.map(
      ([k, n]) => `${k}${n > 1 ? `×${n}` : ''}${defined[doc].has(k) ? '' : ' (MISSING)'}`,
    );
    console.log(`${DOCS_DIR}/${doc}.md: ${list.length} ids\n  ${marks.join(', ')}`);
  }
}

const verb = mode === 'write' ? 'rewrote' : 'would rewrite';
console.log(
  `citations: ${citeCount} found, ${problems.length} unresolved; ${verb} ${editCount} in ${editedFiles.length} files`,
);
for (const p of problems) console.log(`  ${p}`);
if (unnamed.length > 0) {
  console.log(`${unnamed.length} files cite bare ids without naming a doc anywhere: ${unnamed.join(', ')}`);
}
if (mode === 'check' && (problems.length > 0 || (strict && editCount > 0))) process.exit(1);
