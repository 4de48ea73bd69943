// PyMoDAQ parameter trees as XML (`Infos`, `Info_xml`, `set_info`; docs/protocols/pymodaq.md §7, §8.4).
//
// PyMoDAQ writes one element per parameter: the element name is the parameter name, the attributes are
// `title`, `type`, `visible`, `removable`, `readonly` (and more per type), the value is the text, and
// groups have child elements, e.g.
//   <exposure title="Exposure" type="float" visible="1" removable="0" readonly="0">0.1</exposure>
// PyMoDAQ's reader eval()s the values of `list`, `table` and `itemselect` parameters (docs/protocols/pymodaq.md §9 i). Here a
// value is only ever a string. The parser is sax in strict mode (well-formedness checked, the five
// predefined entities and character references decoded once, any other entity an error, nothing ever
// expanded); a document carrying a DOCTYPE or ENTITY declaration is refused before parsing (billion
// laughs, XXE). sax is incremental, so a large document can be parsed in bounded slices with the event
// loop served in between (parseParameterXmlSliced, used by the server for `Infos`).

import { setImmediate as nextTurn } from 'node:timers/promises';
import sax from 'sax';
import { XmlError } from './errors';

/** One PyMoDAQ parameter: its element name, attributes, text value and children (for groups). */
export interface ParameterNode {
  /** The parameter name (the XML element name). */
  name: string;
  /** The XML attributes, e.g. `{ title: 'Exposure', type: 'float' }`. Never evaluated. */
  attributes: Record<string, string>;
  /** The text value exactly as sent (for a `float` parameter e.g. `"0.1"`), or undefined when empty. */
  value: string | undefined;
  children: ParameterNode[];
}

/** Limits on parameter XML (see parseParameterXml). */
export type ParameterXmlLimits = NonNullable<Parameters<typeof parseParameterXml>[1]>;

export interface ParameterXmlSliceOptions extends ParameterXmlLimits {
  /** Characters parsed per turn of the event loop. Default 16 Ki (about a millisecond of work). */
  sliceLength?: number;
  /** Stops the parse (rejects with the signal's reason wrapped in an XmlError). */
  signal?: AbortSignal;
}

const DEFAULT_MAX_LENGTH = 4 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_ELEMENTS = 100_000;
const DEFAULT_SLICE = 16 * 1024;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A tree under construction: the element and its text so far. */
interface Open {
  node: ParameterNode;
  text: string;
}

/** One parse: a sax parser in strict mode feeding a tree, with the limits checked as elements open. */
class TreeBuilder {
  readonly #parser: sax.SAXParser;
  readonly #stack: Open[] = [];
  readonly #maxDepth: number;
  #elements: number;
  #root: ParameterNode | undefined;
  #roots = 0;
  #failure: XmlError | undefined;

  constructor(limits: ParameterXmlLimits) {
    this.#maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#elements = limits.maxElements ?? DEFAULT_MAX_ELEMENTS;
    const parser = sax.parser(true, { position: true, trim: false, normalize: false, lowercase: false });
    parser.onopentag = (tag) => this.#open(tag as sax.Tag);
    parser.onclosetag = () => this.#close();
    parser.ontext = (text) => this.#text(text);
    parser.oncdata = (text) => this.#text(text);
    parser.onerror = (e) => {
      this.#failure ??= new XmlError(malformed(e, parser), { cause: e });
      throw this.#failure;
    };
    this.#parser = parser;
  }

  write(chunk: string): void {
    try {
      this.#parser.write(chunk);
    } catch (e) {
      throw (
        this.#failure ??
        (XmlError.isInstance(e) ? e : new XmlError(`malformed parameter XML: ${String(e)}`, { cause: e }))
      );
    }
  }

  finish(): ParameterNode {
    try {
      this.#parser.close();
    } catch (e) {
      throw (
        this.#failure ??
        (XmlError.isInstance(e) ? e : new XmlError(`malformed parameter XML: ${String(e)}`, { cause: e }))
      );
    }
    if (this.#roots !== 1 || this.#root === undefined) {
      throw new XmlError(`parameter XML must have exactly one root element, found ${this.#roots}`);
    }
    return this.#root;
  }

  #open(tag: sax.Tag): void {
    if (this.#stack.length === 0 && ++this.#roots > 1) {
      throw new XmlError(`parameter XML must have exactly one root element, found ${this.#roots}`);
    }
    if (this.#stack.length + 1 > this.#maxDepth)
      throw new XmlError(`parameter XML nests deeper than ${this.#maxDepth} elements`);
    if (--this.#elements < 0) throw new XmlError('parameter XML has too many elements');
    const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const key of Object.keys(tag.attributes)) attributes[key] = tag.attributes[key]!;
    // A plain object for users; spreading defines every key as data (an attribute `__proto__` included).
    const node: ParameterNode = {
      name: tag.name,
      attributes: { ...attributes },
      value: undefined,
      children: [],
    };
    const parent = this.#stack[this.#stack.length - 1];
    if (parent === undefined) this.#root = node;
    else parent.node.children.push(node);
    this.#stack.push({ node, text: '' });
  }

  #close(): void {
    const open = this.#stack.pop()!;
    // Indentation between child elements is not a value.
    const { node, text } = open;
    const hasValue = node.children.length === 0 ? text.length > 0 : text.trim().length > 0;
    node.value = hasValue ? text : undefined;
  }

  #text(text: string): void {
    const open = this.#stack[this.#stack.length - 1];
    if (open !== undefined) open.text += text;
  }
}

function malformed(e: Error, parser: sax.SAXParser): string {
  const what = e.message.split('\n')[0]!.trim();
  const where = `line ${parser.line + 1}, column ${parser.column + 1}`;
  if (/character entity|entity name/i.test(what)) {
    return `undeclared entity or bad character reference in parameter XML (${where}); entities are never expanded`;
  }
  return `malformed parameter XML: ${what} (${where})`;
}

/** Text of the document, the declarations refused before anything is parsed. */
function checkedText(xml: string | Uint8Array, limits: ParameterXmlLimits): string {
  const text = typeof xml === 'string' ? xml : new TextDecoder('utf-8', { fatal: false }).decode(xml);
  const maxLength = limits.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) {
    throw new XmlError(`parameter XML of ${text.length} characters exceeds the limit of ${maxLength}`);
  }
  // Refused outright, not merely left unexpanded: a document that declares entities is hostile or
  // not PyMoDAQ's (which never writes a DTD).
  const declaration = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i.exec(text);
  if (declaration) {
    throw new XmlError(
      `parameter XML declares ${declaration[1]!.toUpperCase()} at offset ${declaration.index}; ` +
        'DTDs and entity declarations are refused (never expanded)',
    );
  }
  return text;
}

/**
 * Parses one parameter tree. Throws XmlError for a DOCTYPE/ENTITY declaration, malformed XML, an
 * undeclared entity reference, more or fewer than one root element, or a limit exceeded.
 */
export function parseParameterXml(
  xml: string | Uint8Array,
  limits: {
    /** Largest document accepted, in UTF-16 code units. Default 4 MiB. */
    maxLength?: number;
    /** Deepest element nesting accepted. Default 64. */
    maxDepth?: number;
    /** Most elements in one document. Default 100 000. */
    maxElements?: number;
  } = {},
): ParameterNode {
  const text = checkedText(xml, limits);
  const builder = new TreeBuilder(limits);
  builder.write(text);
  return builder.finish();
}

/**
 * parseParameterXml in slices of `sliceLength` characters, one per turn of the event loop, so a large
 * document never holds the loop for long (about 50 ms per MiB of element-heavy XML in total here).
 */
export async function parseParameterXmlSliced(
  xml: string | Uint8Array,
  options: ParameterXmlSliceOptions = {},
): Promise<ParameterNode> {
  const text = checkedText(xml, options);
  const slice = Math.max(1024, options.sliceLength ?? DEFAULT_SLICE);
  const builder = new TreeBuilder(options);
  for (let at = 0; at < text.length; at += slice) {
    if (at > 0) await nextTurn();
    if (options.signal?.aborted)
      throw new XmlError('parameter XML: parse aborted', { cause: options.signal.reason });
    builder.write(text.slice(at, at + slice));
  }
  return builder.finish();
}

function escapeXml(text: string, attribute: boolean): string {
  let out = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (attribute) out = out.replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
  return out;
}

/** Serialises a parameter tree the way PyMoDAQ writes it (one element per parameter, no declaration). */
export function toParameterXml(node: ParameterNode): string {
  if (!NAME.test(node.name)) throw new XmlError(`invalid parameter name ${JSON.stringify(node.name)}`);
  let attrs = '';
  for (const [key, value] of Object.entries(node.attributes)) {
    if (!NAME.test(key)) throw new XmlError(`invalid attribute name ${JSON.stringify(key)}`);
    attrs += ` ${key}="${escapeXml(value, true)}"`;
  }
  const body =
    (node.value === undefined ? '' : escapeXml(node.value, false)) +
    node.children.map(toParameterXml).join('');
  return body === '' ? `<${node.name}${attrs}/>` : `<${node.name}${attrs}>${body}</${node.name}>`;
}

/** A parameter node; `type` goes into the attributes (PyMoDAQ's `type="float"` etc.). */
export function parameter(
  name: string,
  options: {
    type?: string;
    value?: string | number | boolean;
    title?: string;
    attributes?: Record<string, string>;
    children?: ParameterNode[];
  } = {},
): ParameterNode {
  const attributes: Record<string, string> = {};
  if (options.title !== undefined) attributes.title = options.title;
  if (options.type !== undefined) attributes.type = options.type;
  Object.assign(attributes, options.attributes);
  const value =
    options.value === undefined
      ? undefined
      : typeof options.value === 'boolean'
        ? options.value
          ? 'True'
          : 'False'
        : String(options.value);
  return { name, attributes, value, children: options.children ?? [] };
}

/** The node at `path` below `root` (the root's own name is not part of the path), or undefined. */
export function findParameter(root: ParameterNode, path: readonly string[]): ParameterNode | undefined {
  let node: ParameterNode | undefined = root;
  for (const name of path) {
    node = node.children.find((c) => c.name === name);
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * Replaces (or adds) the node at `path` below `root` with `update` (keeping the update's own name as the
 * last path element). Returns false when a parent group along the path does not exist.
 */
export function applyParameter(root: ParameterNode, path: readonly string[], update: ParameterNode): boolean {
  if (path.length === 0) return false;
  const parent = findParameter(root, path.slice(0, -1));
  if (parent === undefined) return false;
  const name = path[path.length - 1]!;
  const at = parent.children.findIndex((c) => c.name === name);
  const next = { ...update, name };
  if (at >= 0) parent.children[at] = next;
  else parent.children.push(next);
  return true;
}
