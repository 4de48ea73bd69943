// Pyrame conf_strings: `name(key=value,key=value,…)`, where a value may be one nested conf_string
// (docs/protocols/cmd_tcp.md §3; Pyrame 2.1.3 conf_strings/conf_strings.py). A port of Pyrame's grammar with its exact
// error messages, including their spelling ("paretheses" sic). Deliberate differences (Q16):
//   - a `)` before its `(` is an error (Pyrame reads `tcp(host=a)(port=1)` as host `a)(port=1`);
//   - a parenthesised group that does not directly follow `key=value` text is an error (Pyrame silently
//     drops it: `tcp((a=b))` has no parameters, `a=x(y)(z)` gives `x(y)`, `a=1,(x)` gives `1(x)`).

import { InvalidConfError } from './errors';

/** A parsed conf_string. `params` keeps keys and values exactly as written (inner spaces included). */
export interface ConfString {
  /** Everything before the first `(` (not trimmed; may be empty). */
  readonly name: string;
  /** Parameters in order of first appearance; a duplicate key keeps the last value. */
  readonly params: ReadonlyMap<string, string>;
}

// Pyrame's messages, verbatim (conf_strings.py).
export const CONF_FORM_MESSAGE = 'conf_string: error, must be of the form "module_name(parameter_list)"';
export const CONF_END_MESSAGE = 'conf_string: error, must end with closing paretheses ")"';
export const CONF_COUNT_MESSAGE = 'conf_string: incorrect number of closing paretheses ")"';
export const CONF_EQUAL_MESSAGE = 'conf_string: name of parameter and equal sign (=) not found';
/** Python's IndexError text: Pyrame reads `conf[-1]` of an empty parameter part (input `tcp(`). */
export const CONF_INDEX_MESSAGE = 'string index out of range';

// Python 2 str.strip() without arguments removes ASCII whitespace only.
const PY_WHITESPACE = ' \t\n\r\v\f';

function pyStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PY_WHITESPACE.includes(text[start]!)) start++;
  while (end > start && PY_WHITESPACE.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

function stripLeadingCommas(text: string): string {
  let start = 0;
  while (start < text.length && text[start] === ',') start++;
  return text.slice(start);
}

function stripCommas(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === ',') end--;
  return stripLeadingCommas(text.slice(0, end));
}

/**
 * Parses a conf_string. Throws InvalidConfError with Pyrame's message (`pyrameMessage`) when the text does
 * not follow the grammar.
 */
export function parseConfString(conf: string): ConfString {
  const text = pyStrip(conf);
  const open = text.indexOf('(');
  if (open < 0) throw new InvalidConfError(CONF_FORM_MESSAGE, conf, { detail: 'no "(" found' });
  const name = text.slice(0, open);
  const rest = text.slice(open + 1);
  if (rest.length === 0)
    throw new InvalidConfError(CONF_INDEX_MESSAGE, conf, { detail: 'nothing after "("' });
  if (rest[rest.length - 1] !== ')') {
    throw new InvalidConfError(CONF_END_MESSAGE, conf, {
      detail: `ends with ${JSON.stringify(rest.slice(-1))}`,
    });
  }
  const body = rest.slice(0, -1);

  // First-level groups: [start, end] index pairs of their `(` and `)` in `body`.
  const groups: [number, number][] = [];
  let depth = 0;
  let groupStart = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '(') {
      if (depth === 0) groupStart = i;
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth < 0) {
        throw new InvalidConfError(CONF_COUNT_MESSAGE, conf, {
          detail: `")" at parameter index ${i} closes nothing`,
        });
      }
      if (depth === 0) groups.push([groupStart, i]);
    }
  }
  if (depth !== 0) throw new InvalidConfError(CONF_COUNT_MESSAGE, conf, { detail: `${depth} "(" left open` });

  const params = new Map<string, string>();
  // The text outside the groups comes in groups.length + 1 chunks; the last key=value item of every chunk
  // but the last takes the following group with it.
  for (let i = 0; i <= groups.length; i++) {
    const from = i === 0 ? 0 : groups[i - 1]![1] + 1;
    const to = i === groups.length ? body.length : groups[i]![0];
    const chunk = body.slice(from, to);
    const last = i === groups.length;
    if (last && chunk === '') continue;
    // Pyrame strips commas on both sides of every chunk; a trailing comma before a group would then hand
    // the group to the previous value, so only the final chunk loses its trailing commas here.
    const items = (last ? stripCommas(chunk) : stripLeadingCommas(chunk)).split(',');
    for (let j = 0; j < items.length; j++) {
      const item = items[j]!;
      const eq = item.indexOf('=');
      if (eq < 0) {
        throw new InvalidConfError(CONF_EQUAL_MESSAGE, conf, {
          detail:
            !last && j === items.length - 1
              ? `a parenthesised group must follow "key=": ${JSON.stringify(item)}`
              : `item ${JSON.stringify(item)}`,
        });
      }
      const key = item.slice(0, eq);
      let value = item.slice(eq + 1);
      if (!last && j === items.length - 1) value += body.slice(groups[i]![0], groups[i]![1] + 1);
      params.set(key, value);
    }
  }
  return { name, params };
}

/**
 * Writes a conf_string: `name(key=value,…)`. The result is parsed again and must give back the same name
 * and parameters; a key or value that cannot be written (a `,` or parentheses in a plain value, `=` in a key)
 * raises InvalidConfError.
 */
export function unparseConfString(conf: ConfString): string {
  let text = `${conf.name}(`;
  let first = true;
  for (const [key, value] of conf.params) {
    text += `${first ? '' : ','}${key}=${value}`;
    first = false;
  }
  text += ')';
  const back = parseConfString(text);
  let same = back.name === conf.name && back.params.size === conf.params.size;
  if (same) for (const [k, v] of conf.params) if (back.params.get(k) !== v) same = false;
  if (!same) {
    throw new InvalidConfError(CONF_EQUAL_MESSAGE, text, {
      detail: 'a name, key or value cannot be written in a conf_string without changing its meaning',
    });
  }
  return text;
}

/** Builds a ConfString from a name and a plain object or entries. */
export function confString(
  name: string,
  params: Readonly<Record<string, string | number>> | Iterable<readonly [string, string | number]> = {},
): ConfString {
  const entries =
    Symbol.iterator in params
      ? (params as Iterable<readonly [string, string | number]>)
      : Object.entries(params as Record<string, string | number>);
  const map = new Map<string, string>();
  for (const [k, v] of entries) map.set(k, String(v));
  return { name, params: map };
}
