import { InvalidConfError, parseConfString, unparseConfString } from '@labwire/bus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONF_COUNT_MESSAGE,
  CONF_END_MESSAGE,
  CONF_EQUAL_MESSAGE,
  CONF_FORM_MESSAGE,
  CONF_INDEX_MESSAGE,
  type ConfString,
  confString,
} from '../src/conf-string';

function params(text: string): Record<string, string> {
  return Object.fromEntries(parseConfString(text).params);
}

function failure(text: string): InvalidConfError {
  try {
    parseConfString(text);
  } catch (e) {
    expect(InvalidConfError.isInstance(e)).toBe(true);
    return e as InvalidConfError;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe('parseConfString: docs/protocols/cmd_tcp.md §3.2 table (Pyrame 2.1.3)', () => {
  it('a plain tcp conf_string', () => {
    const c = parseConfString('tcp(host=10.220.0.3,port=2300,timeout=2.5)');
    expect(c.name).toBe('tcp');
    expect(params('tcp(host=10.220.0.3,port=2300,timeout=2.5)')).toEqual({
      host: '10.220.0.3',
      port: '2300',
      timeout: '2.5',
    });
  });

  it('a nested conf_string is one value', () => {
    const c = parseConfString('gpib(dst_addr=3,bus=tcp(host=10.220.0.3,port=2300),adapter_addr=5)');
    expect(c.name).toBe('gpib');
    expect(Object.fromEntries(c.params)).toEqual({
      dst_addr: '3',
      bus: 'tcp(host=10.220.0.3,port=2300)',
      adapter_addr: '5',
    });
  });

  it('nesting to any depth', () => {
    expect(params('a(b=c(d=e(f=g)),h=i)')).toEqual({ b: 'c(d=e(f=g))', h: 'i' });
  });

  it('only the whole string is trimmed; keys and values keep inner spaces', () => {
    expect(parseConfString('  tcp(host=a,port=1)  ').name).toBe('tcp');
    expect(params('tcp(host=a, port=1)')).toEqual({ host: 'a', ' port': '1' });
    expect(params('tcp(host= x,port=1)')).toEqual({ host: ' x', port: '1' });
    expect(parseConfString('tcp (host=a,port=1)').name).toBe('tcp ');
    expect(parseConfString('(host=a,port=1)').name).toBe('');
  });

  it('leading and trailing commas are ignored; the last duplicate wins; a value may hold "="', () => {
    expect(params('tcp(,host=a,port=1,)')).toEqual({ host: 'a', port: '1' });
    expect(params('tcp(port=1,host=a,port=2)')).toEqual({ port: '2', host: 'a' });
    expect(params('tcp(host=a=b,port=1)')).toEqual({ host: 'a=b', port: '1' });
  });

  it('an empty parameter list', () => {
    const c = parseConfString('tcp()');
    expect(c.name).toBe('tcp');
    expect(c.params.size).toBe(0);
  });

  it.each([
    ['tcp', CONF_FORM_MESSAGE],
    ['tcp(host=a,port=1', CONF_END_MESSAGE],
    ['tcp(host=a,port=1)junk', CONF_END_MESSAGE],
    ['tcp(host=a,port=1))', CONF_COUNT_MESSAGE],
    ['tcp(host=(a,port=1)', CONF_COUNT_MESSAGE],
    ['tcp(host=a,,port=1)', CONF_EQUAL_MESSAGE],
    ['tcp(host=a,port)', CONF_EQUAL_MESSAGE],
    ['tcp(x(y),port=1)', CONF_EQUAL_MESSAGE],
    ['tcp(bus=x(y)z,port=1)', CONF_EQUAL_MESSAGE],
    ['tcp(', CONF_INDEX_MESSAGE],
    ['tcp(,)', CONF_EQUAL_MESSAGE],
  ])('%s -> Pyrame message %s', (text, message) => {
    const e = failure(text);
    expect(e.pyrameMessage).toBe(message);
    expect(e.code).toBe('InvalidConf');
    expect(e.conf).toBe(text);
    expect(e.message).toContain(message);
  });

  it('the Pyrame messages are verbatim, spelling included', () => {
    expect(CONF_FORM_MESSAGE).toBe('conf_string: error, must be of the form "module_name(parameter_list)"');
    expect(CONF_END_MESSAGE).toBe('conf_string: error, must end with closing paretheses ")"');
    expect(CONF_COUNT_MESSAGE).toBe('conf_string: incorrect number of closing paretheses ")"');
    expect(CONF_EQUAL_MESSAGE).toBe('conf_string: name of parameter and equal sign (=) not found');
  });
});

describe('parseConfString: deliberate differences (Q16)', () => {
  it('a ")" before its "(" is an error (Pyrame: host "a)(port=1")', () => {
    expect(failure('tcp(host=a)(port=1)').pyrameMessage).toBe(CONF_COUNT_MESSAGE);
  });

  it('a parenthesised group without "key=" before it is an error (Pyrame drops it silently)', () => {
    expect(failure('tcp((a=b))').pyrameMessage).toBe(CONF_EQUAL_MESSAGE);
    expect(failure('tcp(a=x(y)(z))').pyrameMessage).toBe(CONF_EQUAL_MESSAGE);
    expect(failure('tcp(a=1,(x))').pyrameMessage).toBe(CONF_EQUAL_MESSAGE);
  });
});

describe('unparseConfString', () => {
  it('writes name(key=value,…) and checks the result', () => {
    expect(unparseConfString(confString('tcp', { host: '127.0.0.1', port: 5025 }))).toBe(
      'tcp(host=127.0.0.1,port=5025)',
    );
    expect(unparseConfString(confString('gpib', [['bus', 'tcp(host=a,port=1)']]))).toBe(
      'gpib(bus=tcp(host=a,port=1))',
    );
  });

  it('refuses values that would change meaning', () => {
    expect(() => unparseConfString(confString('tcp', { host: 'a,b' }))).toThrow(InvalidConfError);
    expect(() => unparseConfString(confString('tcp', { 'k=x': 'v' }))).toThrow(InvalidConfError);
    expect(() => unparseConfString(confString('tcp', { host: 'a)' }))).toThrow(InvalidConfError);
    expect(() => unparseConfString(confString('t(x', {}))).toThrow(InvalidConfError);
  });
});

// --- properties ------------------------------------------------------------------------------------------

const plainChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 ._-:/=\\*?\t'.split(''));
const plain = fc.string({ unit: plainChar, maxLength: 8 });
const keyText = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789 '.split('')),
  maxLength: 6,
});
const nameText = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_0123456789 ,)='.split('')), maxLength: 6 })
  .filter((n) => !/^\s/.test(n));

// A nested conf_string sits inside a value, so its name cannot hold "," or ")".
const nestedNameText = fc
  .string({ unit: fc.constantFrom(...'abcxyz_09 ='.split('')), maxLength: 5 })
  .filter((n) => !n.startsWith(' '));

const confAt = (depth: number, name: fc.Arbitrary<string>): fc.Arbitrary<ConfString> => {
  const value =
    depth <= 1
      ? plain
      : fc.oneof(
          plain,
          fc
            .tuple(plain, confAt(depth - 1, nestedNameText))
            .map(([prefix, c]) => prefix + unparseConfString(c)),
        );
  return fc
    .tuple(name, fc.array(fc.tuple(keyText, value), { maxLength: 4 }))
    .map(([n, entries]) => confString(n, entries));
};
const conf = (depth: number) => confAt(depth, nameText);

describe('conf_string properties', () => {
  it('parse(unparse(c)) == c, nested values included', () => {
    fc.assert(
      fc.property(conf(3), (c) => {
        const back = parseConfString(unparseConfString(c));
        expect(back.name).toBe(c.name);
        expect([...back.params]).toEqual([...c.params]);
      }),
      { numRuns: 300 },
    );
  });

  it('unparse(parse(s)) parses to the same thing for any text that parses', () => {
    const text = fc.string({ unit: fc.constantFrom(...'ab=,() \t'.split('')), maxLength: 16 });
    fc.assert(
      fc.property(text, (s) => {
        let c: ConfString;
        try {
          c = parseConfString(s);
        } catch (e) {
          expect(InvalidConfError.isInstance(e)).toBe(true);
          return;
        }
        let written: string;
        try {
          written = unparseConfString(c);
        } catch (e) {
          // Only names that cannot be written back (leading spaces are trimmed, "(" ends a name) fail.
          expect(InvalidConfError.isInstance(e)).toBe(true);
          return;
        }
        const again = parseConfString(written);
        expect(again.name).toBe(c.name);
        expect([...again.params]).toEqual([...c.params]);
      }),
      { numRuns: 500 },
    );
  });

  it('any text either parses or raises InvalidConfError (never anything else)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          parseConfString(s);
        } catch (e) {
          expect(InvalidConfError.isInstance(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
