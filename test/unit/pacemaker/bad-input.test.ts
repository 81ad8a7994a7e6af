import { describe, expect, it } from 'vitest';
import { parseCib, parseCrmMon } from '../../../src/pacemaker/index.js';
import { parseErrorOf } from '../parse-error-of.js';
import { fixture } from './fixtures.js';

const parsers = { crmMon: parseCrmMon, cib: parseCib } as const;

describe('bad input: a ParseError naming the source, never a crash', () => {
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name}: empty and blank input`, () => {
      expect(parseErrorOf(() => parse('')).message).toMatch(/empty input/);
      expect(parseErrorOf(() => parse(' \n\t')).message).toMatch(/empty input/);
    });

    it(`${name}: not XML, HTML, JSON`, () => {
      expect(parseErrorOf(() => parse('hello world')).message).toMatch(/no root element|not well-formed/);
      expect(parseErrorOf(() => parse('<html><body><p>Service Unavailable<br></body></html>')).message).toMatch(/not well-formed XML/);
      expect(parseErrorOf(() => parse('{"nodes": []}')).code).toBe('E_PARSE');
    });

    it(`${name}: two roots, a wrong root`, () => {
      expect(parseErrorOf(() => parse('<a/><b/>')).message).toMatch(/not well-formed|2 root elements/);
      expect(parseErrorOf(() => parse('<nodes/>')).message).toMatch(/root element <nodes>/);
    });

    it(`${name}: deep nesting is refused at once`, () => {
      const deep = `${'<x>'.repeat(100_000)}${'</x>'.repeat(100_000)}`;
      const started = Date.now();
      const error = parseErrorOf(() => parse(deep));
      expect(error.message).toMatch(/nested more than 64 levels/);
      expect(error.line).toBe(1);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  }

  it('truncated documents: a ParseError with the line', () => {
    const text = fixture('crm-mon-running.xml');
    const error = parseErrorOf(() => parseCrmMon(text.slice(0, text.indexOf('</resources>'))));
    expect(error.source).toBe('crm_mon --output-as=xml');
    expect(error.message).toMatch(/not well-formed XML/);
    const cib = fixture('cib-drbd.xml');
    expect(parseErrorOf(() => parseCib(cib.slice(0, cib.length / 2))).source).toBe('cibadmin -Q');
  });

  it('a CIB given to the crm_mon parser and crm_mon output to the CIB parser', () => {
    expect(parseErrorOf(() => parseCrmMon(fixture('cib-drbd.xml'))).message).toMatch(/this is a CIB.*--from-cib/);
    expect(parseErrorOf(() => parseCib(fixture('crm-mon-running.xml'))).message).toMatch(/crm_mon --output-as=xml output, not a CIB.*--from-crm-mon/);
  });

  it('a missing required attribute names the element and attribute, with an excerpt', () => {
    const text = fixture('crm-mon-running.xml').replace(' online="true"', '');
    const error = parseErrorOf(() => parseCrmMon(text));
    expect(error.message).toMatch(/<node> attribute online/);
    expect(error.excerpt).toMatch(/^<node name="node1"/);
    const cib = fixture('cib-drbd.xml').replace('<primitive id="p_drbd_r0" class="ocf"', '<primitive id="p_drbd_r0"');
    expect(parseErrorOf(() => parseCib(cib)).message).toMatch(/<primitive> attribute class/);
  });

  it('wrong values: a boolean, a count, a role', () => {
    expect(parseErrorOf(() => parseCrmMon(fixture('crm-mon-running.xml').replace('is_dc="true"', 'is_dc="perhaps"'))).message).toMatch(/is_dc: not a boolean/);
    expect(parseErrorOf(() => parseCrmMon(fixture('crm-mon-running.xml').replace('resources_running="9"', 'resources_running="-9"'))).message).toMatch(/resources_running/);
    expect(parseErrorOf(() => parseCrmMon(fixture('crm-mon-running.xml').replace('role="Promoted"', 'role="Boss"'))).message).toMatch(/unknown role "Boss"/);
    expect(parseErrorOf(() => parseCib(fixture('cib-drbd.xml').replace('name="promoted-max" value="1"', 'name="promoted-max" value="one"'))).message).toMatch(/promoted-max is not a count/);
  });

  it('a crm_mon document without a summary', () => {
    expect(parseErrorOf(() => parseCrmMon('<pacemaker-result api-version="2.25"><nodes/></pacemaker-result>')).message).toMatch(/no <summary>/);
  });

  it('a huge attribute is read (or refused) without hanging; the excerpt stays short', () => {
    const huge = 'x'.repeat(5_000_000);
    const text = fixture('crm-mon-running.xml').replace('name="node1" id="1" online="true"', `name="node1" id="1" online="${huge}"`);
    const started = Date.now();
    const error = parseErrorOf(() => parseCrmMon(text));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.excerpt!.length).toBeLessThanOrEqual(81);
    const name = fixture('cib-drbd.xml').replace('value="hastor-lab"', `value="${huge}"`);
    expect(parseCib(name).properties['cluster-name']).toHaveLength(5_000_000);
  });

  it('entities are decoded once; a property named __proto__ stays a key', () => {
    const cib = parseCib(fixture('cib-drbd.xml').replace('name="cluster-name" value="hastor-lab"', 'name="__proto__" value="a&lt;b&amp;c"'));
    expect(Object.hasOwn(cib.properties, '__proto__')).toBe(true);
    expect(cib.properties.__proto__).toBe('a<b&c');
    expect(Object.getPrototypeOf(cib.properties)).toBe(Object.prototype);
  });

  it('a DOCTYPE with entity expansion does not blow up', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE cib [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><cib validate-with="&c;"><configuration/></cib>`;
    try {
      const cib = parseCib(bomb);
      expect((cib.validateWith ?? '').length).toBeLessThan(10_000);
    } catch (error) {
      expect((error as Error).name).toBe('ParseError');
    }
  });
});
