import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/errors.js';
import { parseStatements, quoteValue, quoteWord, tokenize } from '../../../../src/drbd/config/conf-syntax.js';

describe('quoteWord', () => {
  it('leaves plain names bare', () => {
    for (const w of ['r0', 'node1', 'hv-a.example.net', '/dev/vg0/r0', 'pvc-3f1c_00000', '1node']) expect(quoteWord(w)).toBe(w);
  });

  it('quotes what would lex as something else or break the file', () => {
    expect(quoteWord('on')).toBe('"on"');
    expect(quoteWord('net')).toBe('"net"');
    expect(quoteWord('1234')).toBe('"1234"');
    expect(quoteWord('10M')).toBe('"10M"');
    expect(quoteWord('10.0.0.1')).toBe('"10.0.0.1"');
    expect(quoteWord('r+1')).toBe('"r+1"');
    expect(quoteWord('/dev/disk/by-path/pci-0000:00:1f.2-ata-1')).toBe('"/dev/disk/by-path/pci-0000:00:1f.2-ata-1"');
    expect(quoteWord('a "b" c\\d')).toBe('"a \\"b\\" c\\\\d"');
  });

  it('lets option values that are numbers stay bare', () => {
    expect(quoteValue('10G')).toBe('10G');
    expect(quoteValue('12345')).toBe('12345');
    expect(quoteValue('10.0.0.1')).toBe('"10.0.0.1"');
    expect(quoteValue('sha1')).toBe('sha1');
    expect(quoteValue('/usr/lib/drbd/notify-split-brain.sh root')).toBe('"/usr/lib/drbd/notify-split-brain.sh root"');
  });
});

describe('tokenize', () => {
  it('splits words, strings, braces and semicolons, with line numbers, skipping comments', () => {
    const tokens = tokenize('resource r0 { # comment\n  net { shared-secret "a\\"b c"; }\n}\n', 't');
    expect(tokens.map((t) => [t.kind, t.text, t.line])).toEqual([
      ['word', 'resource', 1],
      ['word', 'r0', 1],
      ['{', '{', 1],
      ['word', 'net', 2],
      ['{', '{', 2],
      ['word', 'shared-secret', 2],
      ['string', 'a"b c', 2],
      [';', ';', 2],
      ['}', '}', 2],
      ['}', '}', 3],
    ]);
  });

  it('refuses broken quoted strings with the line they are on', () => {
    expect(() => tokenize('a "open\n', 't')).toThrow(ParseError);
    try {
      tokenize('x;\ny "never closed', 't');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).line).toBe(2);
    }
  });
});

describe('parseStatements', () => {
  it('builds a tree and drops skip sections', () => {
    const tree = parseStatements('a b;\nskip c { d; e { f; } }\ng { h i; }\n', 't');
    expect(tree.map((s) => s.words.map((w) => w.text).join(' '))).toEqual(['a b', 'g']);
    expect(tree[1]?.block?.map((s) => s.words.map((w) => w.text))).toEqual([['h', 'i']]);
    expect(tree[1]?.line).toBe(3);
  });

  it.each([
    ['a { b; ', 'missing "}"'],
    ['a; }', '"}" without'],
    ['a b', 'not terminated'],
    ['a { b }', 'not terminated'],
    [';', 'empty statement'],
    ['{ a; }', 'without a keyword'],
    ['a { '.repeat(40) + '}'.repeat(40), 'nested too deeply'],
  ])('refuses %j', (text, reason) => {
    expect(() => parseStatements(text, 't')).toThrow(reason);
  });
});
