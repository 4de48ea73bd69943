// PyMoDAQ parameter trees as XML (`Infos`, `Info_xml`, `set_info`; spec §7, §8.4).
//
// PyMoDAQ writes one element per parameter: the element name is the parameter name, the attributes are
// `title`, `type`, `visible`, `removable`, `readonly` (and more per type), the value is the text, and
// groups have child elements, e.g.
//   <exposure title="Exposure" type="float" visible="1" removable="0" readonly="0">0.1</exposure>
// PyMoDAQ's reader eval()s the values of `list`, `table` and `itemselect` parameters (spec §9 i). Here a
// value is only ever a string. The parser (fast-xml-parser) is configured to expand no entity at all;
// a document carrying a DOCTYPE or ENTITY declaration is refused before parsing (billion laughs, XXE).
// The five predefined XML entities and numeric character references are decoded by hand, in one
// non-recursive pass, because ordinary values need them (`&lt;`, `&amp;`).

import { XMLParser, XMLValidator } from 'fast-xml-parser';
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

export interface ParameterXmlLimits {
  /** Largest document accepted, in UTF-16 code units. Default 4 MiB. */
  maxLength?: number;
  /** Deepest element nesting accepted. Default 64. */
  maxDepth?: number;
  /** Most elements in one document. Default 100 000. */
  maxElements?: number;
}

const DEFAULT_MAX_LENGTH = 4 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 64;
const DEFAULT_MAX_ELEMENTS = 100_000;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  commentPropName: false,
  maxNestedTags: DEFAULT_MAX_DEPTH + 1,
});

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/**
 * Parses one parameter tree. Throws XmlError for a DOCTYPE/ENTITY declaration, malformed XML, an
 * undeclared entity reference, more or fewer than one root element, or a limit exceeded.
 */
export function parseParameterXml(xml: string | Uint8Array, limits: ParameterXmlLimits = {}): ParameterNode {
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
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    throw new XmlError(
      `malformed parameter XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}); ` +
        `starts with ${JSON.stringify(text.slice(0, 60))}`,
    );
  }
  let parsed: OrderedNode[];
  try {
    parsed = parser.parse(text) as OrderedNode[];
  } catch (e) {
    throw new XmlError(`malformed parameter XML: ${(e as Error).message}`, { cause: e });
  }
  const roots = parsed.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) {
    throw new XmlError(`parameter XML must have exactly one root element, found ${roots.length}`);
  }
  const budget = { elements: limits.maxElements ?? DEFAULT_MAX_ELEMENTS };
  return toNode(roots[0]!, 1, limits.maxDepth ?? DEFAULT_MAX_DEPTH, budget);
}

function elementName(node: OrderedNode): string | undefined {
  for (const key of Object.keys(node)) {
    if (key !== ':@' && key !== '#text' && key !== '#cdata') return key;
  }
  return undefined;
}

function toNode(
  node: OrderedNode,
  depth: number,
  maxDepth: number,
  budget: { elements: number },
): ParameterNode {
  if (depth > maxDepth) throw new XmlError(`parameter XML nests deeper than ${maxDepth} elements`);
  if (--budget.elements < 0) throw new XmlError('parameter XML has too many elements');
  const name = elementName(node)!;
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, raw] of Object.entries(node[':@'] ?? {})) attributes[key] = decodeEntities(String(raw));
  const children: ParameterNode[] = [];
  let value = '';
  for (const item of (node[name] as OrderedNode[] | undefined) ?? []) {
    if ('#text' in item) value += decodeEntities(String(item['#text']));
    else if ('#cdata' in item) {
      for (const part of item['#cdata'] as OrderedNode[]) value += String(part['#text'] ?? '');
    } else if (elementName(item) !== undefined) {
      children.push(toNode(item, depth + 1, maxDepth, budget));
    }
  }
  // Indentation between child elements is not a value.
  const hasValue = children.length === 0 ? value.length > 0 : value.trim().length > 0;
  return { name, attributes: { ...attributes }, value: hasValue ? value : undefined, children };
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** One pass over `&…;` references: predefined entities and character references only. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{0,32});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`bare '&' in parameter XML near ${JSON.stringify(whole)}`);
    const named = PREDEFINED[ref];
    if (named !== undefined) return named;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (m) {
      const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number.parseInt(m[2]!, 10);
      if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || code === 0) {
        throw new XmlError(`invalid character reference ${whole} in parameter XML`);
      }
      return String.fromCodePoint(code);
    }
    throw new XmlError(`undeclared entity ${whole} in parameter XML (entities are never expanded)`);
  });
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
