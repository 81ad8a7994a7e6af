import { describe, expect, it } from 'vitest';
import { ConfigError, ParseError } from '../../../src/errors.js';
import { LvmConfigFile, formatConfigValue } from '../../../src/lvm/config-file.js';
import { fixture, thrown } from './helpers.js';

const debian = fixture('conf-debian-2.03.16/lvm.conf');
const debianLocal = fixture('conf-debian-2.03.16/lvmlocal.conf');
const example202 = fixture('conf-2.02/example.conf.in');

/** Lines of b that differ from a, as [line number, text] (a and b must have the same length). */
function changedLines(a: string, b: string): Array<[number, string]> {
  const x = a.split('\n');
  const y = b.split('\n');
  expect(y).toHaveLength(x.length);
  return y.flatMap((line, i) => (line === x[i] ? [] : [[i + 1, line] as [number, string]]));
}

/** The one block inserted into a to make b: [first line number, inserted lines]. */
function insertedLines(a: string, b: string): [number, string[]] {
  const x = a.split('\n');
  const y = b.split('\n');
  let start = 0;
  while (start < x.length && x[start] === y[start]) start++;
  let end = 0;
  while (end < x.length - start && x[x.length - 1 - end] === y[y.length - 1 - end]) end++;
  expect(x.length - start - end).toBe(0); // nothing of a was changed
  return [start + 1, y.slice(start, y.length - end)];
}

describe('round trip', () => {
  it('Debian lvm2 2.03.16 lvm.conf and lvmlocal.conf come back byte for byte', () => {
    for (const text of [debian, debianLocal, example202, fixture('conf-2.02/example.conf.in.lvmconf-enable-cluster'), fixture('conf-syntax/lvm.conf')]) {
      expect(LvmConfigFile.parse(text).toString()).toBe(text);
    }
  });

  it('the Debian files set nothing: every setting is a commented default', () => {
    const conf = LvmConfigFile.parse(debian);
    expect(conf.settings()).toEqual([]);
    expect(conf.sections().map((s) => [s.name, s.line])).toEqual([
      ['config', 27],
      ['devices', 52],
      ['allocation', 409],
      ['log', 768],
      ['backup', 919],
      ['shell', 958],
      ['global', 968],
      ['activation', 1399],
      ['dmeventd', 2348],
    ]);
    expect(conf.get('global/locking_dir')).toBeUndefined();
    expect(LvmConfigFile.parse(debianLocal).sections().map((s) => s.name)).toEqual(['local']);
  });

  it('reads the values of an lvm2 2.02-era file', () => {
    const conf = LvmConfigFile.parse(example202);
    expect(conf.get('global/locking_type')).toBe(1);
    expect(conf.get('global/umask')).toBe(63); // 077, octal as strtoll reads it
    expect(conf.get('global/locking_dir')).toBe('@DEFAULT_LOCK_DIR@');
    expect(conf.get('devices/filter')).toEqual(['a/.*/']);
    expect(conf.get('devices/preferred_names')).toEqual([]);
    expect(conf.get('log/prefix')).toBe('  ');
    expect(conf.get('activation/process_priority')).toBe(-18);
    expect(conf.get('dmeventd/snapshot_library')).toBe('libdevmapper-event-lvm2snapshot.so');
    expect(conf.setting('global/locking_type')?.line).toBe(319);
    expect(conf.entries().size).toBe(62);
  });
});

describe('syntax as lvmconfig reads it', () => {
  // Expected values are what `lvmconfig --type current` printed for this file (lvm2 2.03.16).
  const conf = LvmConfigFile.parse(fixture('conf-syntax/lvm.conf'));

  it('strings, bare words, numbers and arrays', () => {
    expect(conf.get('a/s1')).toBe('x"y');
    expect(conf.get('a/s2')).toBe('back\\slash');
    expect(conf.get('a/s3')).toBe('dot\\.keep'); // unknown escapes keep their backslash
    expect(conf.get('a/s4')).toBe('single "q"');
    expect(conf.get('a/b')).toBe('bare_word');
    expect(conf.get('a/i1')).toBe(63);
    expect(conf.get('a/i2')).toBe(-18);
    expect(conf.get('a/f1')).toBe(1.5);
    expect(conf.get('a/f2')).toBe(0.5);
    expect(conf.get('a/arr')).toEqual(['a', 'b', 1]);
    expect(conf.get('a/multi')).toEqual(['one', 'two']);
    expect(conf.get('a/empty')).toEqual([]);
  });

  it('a repeated key keeps its last value, sections merge, key paths nest', () => {
    expect(conf.get('a/dup')).toBe(2);
    expect(conf.get('a/extra')).toBe(1);
    expect(conf.get('a/p/q')).toBe(5);
    expect(conf.get('quoted section/k')).toBe('v');
    expect(thrown(() => conf.set('quoted section/k', 'w'))).toBeInstanceOf(ConfigError);
    expect(conf.sections('a')).toHaveLength(2);
  });
});

describe('edits', () => {
  it('changing a value touches only that value', () => {
    const conf = LvmConfigFile.parse(example202);
    const edited = conf.set('global/locking_type', 3);
    expect(changedLines(example202, edited.toString())).toEqual([[319, '    locking_type = 3']]);
    expect(edited.get('global/locking_type')).toBe(3);
    expect(conf.get('global/locking_type')).toBe(1); // the original is unchanged
  });

  it('setting the value it already has changes nothing', () => {
    const conf = LvmConfigFile.parse(example202);
    expect(conf.set('global/locking_type', 1)).toBe(conf);
    expect(conf.set('devices/filter', ['a/.*/'])).toBe(conf);
  });

  it('a new setting goes right after lvm\'s commented example of it, with its indentation', () => {
    const edited = LvmConfigFile.parse(debian).set('global/use_lvmlockd', 1).toString();
    const [line, inserted] = insertedLines(debian, edited);
    expect(inserted).toEqual(['\tuse_lvmlockd = 1']);
    expect(debian.split('\n')[line - 2]).toBe('\t# use_lvmlockd = 0');
    const local = LvmConfigFile.parse(debianLocal).set('local/host_id', 7);
    expect(insertedLines(debianLocal, local.toString())).toEqual([57, ['\thost_id = 7']]);
    expect(local.get('local/host_id')).toBe(7);
  });

  it('without an example it goes at the end of the section', () => {
    const edited = LvmConfigFile.parse(example202).set('global/use_lvmetad', 0).toString();
    const [line, inserted] = insertedLines(example202, edited);
    expect(inserted).toEqual(['    use_lvmetad = 0']);
    expect(edited.split('\n')[line]).toBe('}'); // the closing brace of global { ... }
  });

  it('a missing section is created at the end of the file', () => {
    const text = 'global {\n\tumask = 077\n}\n';
    expect(LvmConfigFile.parse(text).set('devices/global_filter', ['a|^/dev/drbd[0-9]+$|', 'r|.*|']).toString()).toBe(
      'global {\n\tumask = 077\n}\n\ndevices {\n\tglobal_filter = [ "a|^/dev/drbd[0-9]+$|", "r|.*|" ]\n}\n',
    );
    expect(LvmConfigFile.parse('').set('local/host_id', 1).toString()).toBe('local {\n\thost_id = 1\n}\n');
    expect(LvmConfigFile.parse('a {\n    b {\n        c = 1\n    }\n}\n').set('a/x/y', 'z').toString()).toBe(
      'a {\n    b {\n        c = 1\n    }\n    x {\n        y = "z"\n    }\n}\n',
    );
  });

  it('a multi-line array is replaced whole; one-line sections stay valid', () => {
    const conf = LvmConfigFile.parse(fixture('conf-syntax/lvm.conf'));
    const edited = conf.set('a/multi', ['three']);
    expect(edited.get('a/multi')).toEqual(['three']);
    expect(edited.toString()).toContain('  multi = [ "three" ]\n  empty = [ ]');
    const inline = LvmConfigFile.parse('x { a = 1 }\n').set('x/b', 2);
    expect(inline.toString()).toBe('x { a = 1 \n\tb = 2\n}\n');
    expect(inline.entries()).toEqual(new Map<string, unknown>([['x/a', 1], ['x/b', 2]]));
  });

  it('unset removes every occurrence, and only its lines', () => {
    const text = 'a {\n\tdup = 1\n\tkeep = 2 # why\n\tdup = 3  # last\n}\n';
    const out = LvmConfigFile.parse(text).unset('a/dup');
    expect(out.toString()).toBe('a {\n\tkeep = 2 # why\n}\n');
    expect(LvmConfigFile.parse('a { x = 1 y = 2 }').unset('a/x').toString()).toBe('a { y = 2 }');
    const conf = LvmConfigFile.parse(example202);
    expect(conf.unset('global/nothing')).toBe(conf);
  });

  it('values are written in lvm\'s syntax and escaped', () => {
    expect(formatConfigValue('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(LvmConfigFile.parse(`x { s = ${formatConfigValue('a"b\\c')} }`).get('x/s')).toBe('a"b\\c');
    expect(formatConfigValue([1, 'x', -2.5])).toBe('[ 1, "x", -2.5 ]');
    expect(formatConfigValue([])).toBe('[ ]');
    for (const bad of [Number.NaN, Infinity, 1e21, 1e-7]) expect(thrown(() => formatConfigValue(bad))).toBeInstanceOf(ConfigError);
    expect(thrown(() => formatConfigValue('nul\0'))).toBeInstanceOf(ConfigError);
    expect(thrown(() => LvmConfigFile.parse('').set('global//x', 1))).toBeInstanceOf(ConfigError);
    expect(thrown(() => LvmConfigFile.parse('').set('global/x y', 1))).toBeInstanceOf(ConfigError);
  });
});

describe('malformed files', () => {
  const cases: Array<[string, string, number, string]> = [
    ['a {\n  b = "unterminated\n}\n', 'unterminated string', 2, '  b = "unterminated'],
    ['a {\n  b = 1\n', 'section "a" opened on line 1 is not closed', 1, 'a {'],
    ['a = 1\n}\n', '"}" without a matching "{"', 2, '}'],
    ['a {\n  b 1\n}\n', 'expected "=" or "{" after "b"', 2, '  b 1'],
    ['a {\n  b = [ "x",\n', 'array opened on line 2 is not closed', 2, '  b = [ "x",'],
    ['a {\n  b = [ x, y ]\n}\n', 'expected a value, found "y"', 2, '  b = [ x, y ]'],
    ['a {\n  b =\n}\n', 'expected a value, found "}"', 3, '}'],
    ['a { b = 1 2 }', 'expected "=" or "{" after "2"', 1, 'a { b = 1 2 }'],
  ];
  it.each(cases)('%j: ParseError with the line', (text, reason, line, excerpt) => {
    const error = thrown(() => LvmConfigFile.parse(text, '/etc/lvm/lvm.conf')) as ParseError;
    expect(error).toBeInstanceOf(ParseError);
    expect(error.message).toContain(reason);
    expect(error.source).toBe('/etc/lvm/lvm.conf');
    expect(error.line).toBe(line);
    expect(error.excerpt).toBe(excerpt);
  });
});
