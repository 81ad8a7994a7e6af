import { parseErrorOf } from './parse-error-of.js';
import { describe, expect, it } from 'vitest';
import { JSON_MAX_DEPTH, parseJsonInput } from '../../src/json-input.js';
import { parseFindmntJson } from '../../src/sys/filesystem.js';
import { parseJsonReportDocument } from '../../src/lvm/report-json.js';
import { parseShellReply } from '../../src/lvm/lvm-shell.js';
import { parseStatusJson } from '../../src/drbd/status-json.js';
import { parseClusterFile } from '../../src/stack/cluster-file.js';

const nested = (levels: number, open = '[', close = ']') => open.repeat(levels) + close.repeat(levels);


describe('parseJsonInput', () => {
  it('parses ordinary JSON', () => {
    expect(parseJsonInput('{"a":[1,{"b":"[[["}]}', 'x')).toEqual({ a: [1, { b: '[[[' }] });
  });

  it('accepts nesting up to the limit and refuses one level more, naming the line', () => {
    expect(parseJsonInput(nested(JSON_MAX_DEPTH), 'x')).toBeDefined();
    const error = parseErrorOf(() => parseJsonInput(`{\n"a":\n${nested(JSON_MAX_DEPTH + 1)}}`, 'capture.json'));
    expect(error.message).toMatch(/^cannot parse capture\.json line 3: JSON nested more than 256 levels deep/);
    expect(error.line).toBe(3);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ s: `\\"${'['.repeat(1000)}` });
    expect(parseJsonInput(text, 'x')).toEqual({ s: `\\"${'['.repeat(1000)}` });
  });

  it('turns a syntax error into a ParseError with the line and its text', () => {
    const error = parseErrorOf(() => parseJsonInput('[\n{\n  "name": "r0",\n  "role": }\n]', 'f.json'));
    expect(error.line).toBe(4);
    expect(error.excerpt).toBe('  "role": }');
    expect(error.message).toContain('not valid JSON');
  });

  it('turns an unterminated text into a ParseError', () => {
    expect(parseErrorOf(() => parseJsonInput('{"a": [1, 2', 'f.json')).message).toContain('not valid JSON');
  });
});

// 5,000 levels made these throw RangeError (JSON.stringify of an excerpt, recursive walkers).
describe('every JSON reader of outside input refuses 5,000 levels with a ParseError', () => {
  const deepArray = nested(5000);
  const deepObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  it.each([
    ['drbdsetup status --json', (t: string) => parseStatusJson(t)],
    ['findmnt -J', (t: string) => parseFindmntJson(t)],
    ['lvm report', (t: string) => parseJsonReportDocument(t, 'lvs')],
    ['lvm shell reply', (t: string) => parseShellReply(t)],
    ['cluster file', (t: string) => parseClusterFile(t, 'cluster.json')],
  ])('%s', (_name, parse) => {
    for (const text of [deepArray, deepObject, `[${deepObject}]`, `{"filesystems":[${deepObject}]}`]) {
      expect(parseErrorOf(() => parse(text)).message).toContain('nested more than 256 levels deep');
    }
  });

  it('findmnt children nested within the limit are still read', () => {
    let fs = '{"source":"/dev/x","target":"/","fstype":"ext4"}';
    for (let i = 0; i < 100; i++) fs = `{"source":"/dev/x${i}","target":"/m${i}","fstype":"ext4","children":[${fs}]}`;
    expect(parseFindmntJson(`{"filesystems":[${fs}]}`)).toHaveLength(101);
  });
});
