import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { parseXml } from '../../../../src/drbd/config/xml.js';

describe('parseXml', () => {
  it('reads elements, attributes, text and entities as drbdadm prints them', () => {
    const [root, ...rest] = parseXml(
      '<?xml version="1.0"?>\n<!-- c -->\n<config file="/etc/drbd.conf">\n  <option name="x" value="a &quot;b&quot; &lt;&amp;&gt; &apos;c&apos; &#65;&#x42;"/>\n  <disk>/dev/x</disk>\n</config>\n',
      't',
    );
    expect(rest).toEqual([]);
    expect(root?.name).toBe('config');
    expect(root?.attrs).toEqual({ file: '/etc/drbd.conf' });
    expect(root?.children.map((c) => [c.name, c.line])).toEqual([
      ['option', 4],
      ['disk', 5],
    ]);
    expect(root?.children[0]?.attrs.value).toBe('a "b" <&> \'c\' AB');
    expect(root?.children[1]?.text).toBe('/dev/x');
  });

  it('accepts several top-level elements (dump-xml of named resources)', () => {
    expect(parseXml('<resource name="a"/>\n<resource name="b"></resource>', 't').map((r) => r.attrs.name)).toEqual(['a', 'b']);
  });

  it.each([
    ['<a><b></a>', 2 - 1, 'does not close'],
    ['<a>\n<b x="1" x="2"/></a>', 2, 'given twice'],
    ['<a>&nbsp;</a>', 1, 'unknown entity'],
    ['<a>a & b</a>', 1, 'entity reference'],
    ['<a>\n\n<b>', 3, 'not closed'],
    ['text', 1, 'outside any element'],
    ['<!DOCTYPE x><a/>', 1, 'DOCTYPE'],
    ['<a><![CDATA[x]]></a>', 1, 'DOCTYPE and CDATA'],
    ['<a b=c/>', 1, 'malformed attribute'],
    ['<a>x > y</a>', 1, 'stray ">"'],
    ['<a/>\n<?xml version="1.0"?>', 2, 'declaration'],
    ['</a>', 1, 'does not close anything'],
  ])('refuses %j at line %i', (text, line, reason) => {
    try {
      parseXml(text, 't');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).line).toBe(line);
      expect((e as ParseError).message).toContain(reason);
    }
  });

  it('refuses nesting deeper than drbdadm prints', () => {
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100), 't')).toThrow('nested too deeply');
  });
});
