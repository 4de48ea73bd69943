// The editor side: each node module's HTML (as Node-RED serves it to the browser) registers every node type
// of the module, with an edit template and help text, and its validators refuse what the runtime refuses.
// The registration script runs in a VM with a `RED` that records the definitions (no browser here: the
// scripts touch jQuery only inside edit-dialog callbacks, which these checks do not call).

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, test } from 'vitest';
import { NODE_TYPES } from '../src/index';

interface Definition {
  category: string;
  defaults: Record<
    string,
    { value: unknown; validate?: (this: Record<string, unknown>, v: unknown) => unknown }
  >;
  label?: unknown;
}

const SRC = path.join(import.meta.dirname, '..', 'src', 'nodes');

function loadHtml(module: string) {
  const html = fs.readFileSync(path.join(SRC, `${module}.html`), 'utf8');
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map(
    (m) => m[1]!,
  );
  const definitions = new Map<string, Definition>();
  const RED = {
    nodes: { registerType: (type: string, def: Definition) => definitions.set(type, def) },
    validators: {},
    _: (key: string) => key,
  };
  for (const script of scripts) vm.runInNewContext(script, { RED, $: () => ({}) });
  const sections = (kind: 'template' | 'help') =>
    new Map(
      [
        ...html.matchAll(
          new RegExp(`<script type="text/html" data-${kind}-name="([^"]+)">([\\s\\S]*?)</script>`, 'g'),
        ),
      ].map((m) => [m[1]!, m[2]!]),
    );
  return { definitions, templates: sections('template'), help: sections('help') };
}

/** What a field's validator says about `value` in a node with `node`'s other settings (true = accepted). */
function validate(
  def: Definition,
  field: string,
  value: unknown,
  node: Record<string, unknown> = {},
): unknown {
  const rule = def.defaults[field];
  if (rule?.validate === undefined) return true;
  const self = { ...Object.fromEntries(Object.entries(def.defaults).map(([k, d]) => [k, d.value])), ...node };
  return rule.validate.call(self, value);
}

describe.each(Object.entries(NODE_TYPES))('editor HTML of %s', (module, types) => {
  const { definitions, templates, help } = loadHtml(module);

  test('registers every node type, each with an edit template and help text', () => {
    expect([...definitions.keys()].sort()).toEqual([...types].sort());
    for (const type of types) {
      expect(templates.get(type), `template of ${type}`).toMatch(/<input|<select/);
      const text =
        help
          .get(type)
          ?.replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim() ?? '';
      expect(text.length, `help of ${type}`).toBeGreaterThan(200);
    }
  });

  test('the default of every field passes its own validator', () => {
    for (const [type, def] of definitions) {
      for (const [field, rule] of Object.entries(def.defaults)) {
        expect(validate(def, field, rule.value), `${type}.${field} = ${JSON.stringify(rule.value)}`).toBe(
          true,
        );
      }
    }
  });
});

describe('editor validation', () => {
  test('cmd_tcp link: the conf_string is checked as the bus checks it', () => {
    const link = loadHtml('cmd-tcp').definitions.get('labwire-cmdtcp-link')!;
    expect(validate(link, 'conf', 'tcp(host=127.0.0.1,port=5025,timeout=2)')).toBe(true);
    expect(validate(link, 'conf', 'tcp(host=127.0.0.1,port=70000)')).toMatch(/port/);
    expect(validate(link, 'conf', 'tcp(host=127.0.0.1)')).toMatch(/port= is required/);
    expect(validate(link, 'conf', 'udp(host=a,port=1)')).toMatch(/must be tcp/);
    expect(validate(link, 'conf', 'tcp(host=a,port=1')).toMatch(/\)/);
    expect(validate(link, 'conf', 'tcp(host=a,port=1,timeout=-1)')).toMatch(/timeout/);
    // Simulated: host and port come from the simulator.
    expect(validate(link, 'conf', 'tcp(timeout=2)', { simulate: true })).toBe(true);
    const call = loadHtml('cmd-tcp').definitions.get('labwire-cmdtcp')!;
    expect(validate(call, 'op', 'wrnrd_until')).toBe(true);
    expect(validate(call, 'op', 'send')).toMatch(/one of/);
    expect(validate(call, 'count', '-1', { op: 'read' })).toMatch(/whole number/);
    expect(validate(call, 'eot', '\\n,', { op: 'read_until' })).toMatch(/empty pattern/);
    expect(validate(call, 'timeout', 'soon')).toMatch(/seconds/);
  });

  test('OptoMMP and PyMoDAQ: ports, addresses, generations', () => {
    const device = loadHtml('optommp').definitions.get('labwire-mmp-device')!;
    expect(validate(device, 'port', 0)).not.toBe(true);
    expect(validate(device, 'port', 2001)).toBe(true);
    expect(validate(device, 'window', 33)).not.toBe(true);
    const read = loadHtml('optommp').definitions.get('labwire-mmp-read')!;
    expect(validate(read, 'address', 'F0D82000')).toBe(true);
    expect(validate(read, 'address', 'F0D8200G')).not.toBe(true);
    const pymodaq = loadHtml('pymodaq').definitions;
    const actuator = pymodaq.get('labwire-pymodaq-actuator')!;
    for (const ok of ['A', 'C4', 'D', '4.4.5']) expect(validate(actuator, 'protocol', ok)).toBe(true);
    expect(validate(actuator, 'protocol', 'E')).not.toBe(true);
    expect(validate(actuator, 'host', 'two words')).not.toBe(true);
    expect(validate(pymodaq.get('labwire-pymodaq-command')!, 'dim', '3D')).not.toBe(true);
  });
});
