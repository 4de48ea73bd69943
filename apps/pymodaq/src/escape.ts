// Strings from the network (names, units, type strings, error texts quoting what a peer sent) are escaped
// before they reach a terminal: ESC starts a control sequence (move the cursor, rewrite the title), C1
// codes do the same in one character on some terminals, CR and BS overwrite what was printed, and the
// Unicode bidi and zero-width controls reorder or hide text. Each is shown as an escape (`\x1b`,
// `\u{202e}`). JSON output needs none of this (JSON.stringify escapes C0, a parser gets back the bytes).
//
// Local to the pymodaq app until the shared CLI support package (same function name and character set)
// is on main; then this file becomes an import.

// C0, DEL, C1, ALM, zero-width space/joiners, LRM/RLM, line/paragraph separators, bidi embeddings,
// overrides and isolates, word joiner and invisible operators, BOM.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `text` with every control character shown as an escape (`\n`, `\t`, `\x1b`, `\u{202e}`): one line. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}
