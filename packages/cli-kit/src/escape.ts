// Escaping of strings that came from the network (or from any file) before they reach a terminal. A
// device name, a unit, a reply or an error text can hold bytes that a terminal acts on: ESC starts a
// control sequence (move the cursor, rewrite the title, hide text), C1 codes (U+0080–U+009F) are the same
// in one character on some terminals, CR/BS overwrite what was printed, and the Unicode bidi and
// zero-width controls reorder or hide text. Human-readable output shows each of them as an escape
// (\x1b, \u{202e}); JSON output is already safe (JSON.stringify escapes C0, and a JSON parser gets back
// exactly what arrived).

// C0, DEL, C1, ALM, zero-width space/joiners, LRM/RLM, line/paragraph separators, bidi embeddings,
// overrides and isolates, word joiner and invisible operators, BOM.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;
const CONTROL_BUT_NEWLINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `text` with every control character shown as an escape (`\n`, `\t`, `\x1b`, `\u{202e}`); one line. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/** Like escapeControl, but line breaks stay: for a block of text the app composed from escaped parts. */
export function safeText(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeOne);
}

/** `"text"` with backslashes and quotes escaped too: unambiguous, and what JSON.stringify shows for plain text. */
export function quote(text: string): string {
  return `"${escapeControl(text.replace(/\\/g, '\\\\').replace(/"/g, '\\"'))}"`;
}
