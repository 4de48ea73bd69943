// Parameter XML: what PyMoDAQ writes parses; entities are never expanded; DTDs are refused; hostile or
// random input is an XmlError, nothing else.

import {
  applyParameter,
  findParameter,
  type ParameterNode,
  parameter,
  parseParameterXml,
  toParameterXml,
} from '@labwire/pymodaq';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XmlError } from '../src/errors';

// From docs/protocols/pymodaq.md §7 (vector v5_bytes_xml): one element per parameter, the value as text.
const EXPOSURE =
  '<exposure title="Exposure" type="float" visible="1" removable="0" readonly="0">0.1</exposure>';

describe('parseParameterXml', () => {
  it('reads a PyMoDAQ parameter: name, attributes, value as text', () => {
    const node = parseParameterXml(EXPOSURE);
    expect(node).toEqual({
      name: 'exposure',
      attributes: { title: 'Exposure', type: 'float', visible: '1', removable: '0', readonly: '0' },
      value: '0.1',
      children: [],
    });
  });

  it('reads a settings tree from bytes, ignoring indentation between children', () => {
    const xml = `<?xml version="1.0"?>
<settings title="Settings" type="group">
  <units title="Units" type="str">mm</units>
  <group1 type="group">
    <gain type="int">3</gain>
  </group1>
  <empty type="str"/>
</settings>`;
    const root = parseParameterXml(new TextEncoder().encode(xml));
    expect(root.children.map((c) => c.name)).toEqual(['units', 'group1', 'empty']);
    expect(findParameter(root, ['units'])?.value).toBe('mm');
    expect(findParameter(root, ['group1', 'gain'])?.value).toBe('3');
    expect(findParameter(root, ['empty'])?.value).toBeUndefined();
    expect(findParameter(root, ['group1'])?.value).toBeUndefined();
    expect(findParameter(root, ['nope'])).toBeUndefined();
  });

  it('decodes the predefined entities and character references once, and nothing else', () => {
    const node = parseParameterXml('<a t="x &quot;y&quot;">1 &lt; 2 &amp;&amp; &#x41;&#66; &amp;lt;</a>');
    expect(node.value).toBe('1 < 2 && AB &lt;');
    expect(node.attributes.t).toBe('x "y"');
    expect(parseParameterXml('<a><![CDATA[&lt;raw>]]></a>').value).toBe('&lt;raw>');
  });

  it('never evaluates a value: a list parameter stays text', () => {
    const node = parseParameterXml(
      "<items type=\"list\" limits=\"['a', __import__('os')]\">__import__('os').system('x')</items>",
    );
    expect(node.value).toBe("__import__('os').system('x')");
    expect(node.attributes.limits).toBe("['a', __import__('os')]");
  });

  it.each([
    [
      'a DOCTYPE with entities (billion laughs)',
      '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>',
      /DOCTYPE/,
    ],
    ['an external entity', '<!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]><l>&x;</l>', /DOCTYPE/],
    ['a lone ENTITY declaration', '<l><!ENTITY x "y"></l>', /ENTITY/],
    ['an undeclared entity', '<l>&x;</l>', /undeclared entity/],
    ['malformed XML', '<a><b></a>', /malformed/],
    ['two roots', '<a/><b/>', /exactly one root/],
    ['no element', 'just text', /malformed|root/],
    ['an empty document', '', /malformed|root/],
  ])('refuses %s with an XmlError', (_, xml, message) => {
    expect(() => parseParameterXml(xml)).toThrow(message);
    try {
      parseParameterXml(xml);
    } catch (e) {
      expect(XmlError.isInstance(e)).toBe(true);
      expect((e as XmlError).code).toBe('Xml');
    }
  });

  it('enforces its limits', () => {
    expect(() => parseParameterXml(`<a>${'x'.repeat(100)}</a>`, { maxLength: 50 })).toThrow(
      /exceeds the limit/,
    );
    const deep = `${'<a>'.repeat(20)}${'</a>'.repeat(20)}`;
    expect(() => parseParameterXml(deep, { maxDepth: 10 })).toThrow(/deeper/);
    const wide = `<r>${'<a/>'.repeat(20)}</r>`;
    expect(() => parseParameterXml(wide, { maxElements: 10 })).toThrow(/too many/);
    expect(parseParameterXml(wide).children).toHaveLength(20);
  });

  it('turns any input into a tree or an XmlError, never another error', () => {
    const fragments = fc.constantFrom(
      '<a>',
      '</a>',
      '<b x="1">',
      '</b>',
      '<c/>',
      '&amp;',
      '&lt;',
      '&#65;',
      '&#xZZ;',
      '&foo;',
      '&',
      '<!DOCTYPE x>',
      '<!ENTITY e "v">',
      '<![CDATA[',
      ']]>',
      '<?xml version="1.0"?>',
      '<!-- c -->',
      'text',
      ' ',
      '"',
      "'",
      '=',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fragments, { maxLength: 12 }).map((a) => a.join('')),
        ),
        (xml) => {
          try {
            const node = parseParameterXml(xml);
            expect(typeof node.name).toBe('string');
          } catch (e) {
            expect(XmlError.isInstance(e)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Characters XML 1.0 allows (tab, newline, carriage return and from U+0020 on; no lone surrogates). */
function isXmlText(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
    if ((c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) return false;
  }
  return true;
}

describe('toParameterXml', () => {
  it('writes what it reads, escaping text and attributes', () => {
    const tree = parameter('settings', {
      type: 'group',
      children: [
        parameter('units', { type: 'str', value: 'µm <&> "q"' }),
        parameter('flag', { type: 'bool', value: true }),
        parameter('note', { type: 'text', value: 'line 1\nline 2', attributes: { tip: 'a\n"b"' } }),
      ],
    });
    const xml = toParameterXml(tree);
    expect(xml).toContain('<flag type="bool">True</flag>');
    expect(parseParameterXml(xml)).toEqual(tree);
  });

  it('round-trips generated trees', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
    const text = fc.string({ maxLength: 20 }).filter(isXmlText);
    const leaf = fc.record({
      name,
      attributes: fc.dictionary(name, text, { maxKeys: 3 }),
      value: text.filter((s) => s.trim() === s && s.length > 0).map((s) => s as string | undefined),
      children: fc.constant([] as ParameterNode[]),
    });
    const tree = fc.record({
      name,
      attributes: fc.constant({}),
      value: fc.constant(undefined),
      children: fc.array(leaf, { maxLength: 4 }),
    });
    fc.assert(
      fc.property(tree, (t) => {
        const attributes = (n: { attributes: Record<string, string> }) => ({ ...n.attributes });
        const parsed = parseParameterXml(toParameterXml(t));
        expect(parsed.name).toBe(t.name);
        expect(parsed.children.map((c) => [c.name, attributes(c), c.value])).toEqual(
          t.children.map((c) => [c.name, attributes(c), c.value]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('refuses names that are not XML names', () => {
    expect(() => toParameterXml(parameter('1abc'))).toThrow(XmlError);
    expect(() => toParameterXml(parameter('a', { attributes: { 'b c': 'x' } }))).toThrow(XmlError);
  });
});

describe('applyParameter', () => {
  it('replaces or adds a parameter under an existing group', () => {
    const root = parameter('settings', { children: [parameter('g', { type: 'group' })] });
    expect(applyParameter(root, ['g', 'x'], parameter('ignored', { value: '1' }))).toBe(true);
    expect(findParameter(root, ['g', 'x'])?.value).toBe('1');
    expect(applyParameter(root, ['g', 'x'], parameter('x', { value: '2' }))).toBe(true);
    expect(findParameter(root, ['g'])?.children).toHaveLength(1);
    expect(findParameter(root, ['g', 'x'])?.value).toBe('2');
    expect(applyParameter(root, ['missing', 'x'], parameter('x'))).toBe(false);
    expect(applyParameter(root, [], parameter('x'))).toBe(false);
  });
});
