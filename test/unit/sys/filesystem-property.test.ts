import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors.js';
import { parseDumpe2fsHeader, parseFindmntJson, parseXfsInfo, type FsGeometry } from '../../../src/sys/filesystem.js';
import { hostileText, mutatedFixture, outcome } from '../property-helpers.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/filesystem/${name}`, import.meta.url), 'utf8');
const DUMPE2FS = fixture('dumpe2fs-h-ext4-64m.txt');
const XFS_INFO = fixture('xfs-info-320m.txt');

/** What every geometry a parser returns must satisfy. */
function checkGeometry(g: FsGeometry): void {
  expect(g.sizeBytes).toBe(g.blocks * g.blockSize);
  expect(g.blockSize >= 512n && g.blockSize <= 65536n).toBe(true);
  expect(g.blockSize & (g.blockSize - 1n)).toBe(0n);
  expect(g.blocks >= 0n).toBe(true);
}

describe('parseDumpe2fsHeader / parseXfsInfo: ParseError or a sane geometry, whatever the input', () => {
  it('on random text and mutated captures', () => {
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.oneof(hostileText(), mutatedFixture([DUMPE2FS, XFS_INFO])), (text) => {
        for (const parse of [parseDumpe2fsHeader, parseXfsInfo]) {
          const result = outcome(parse, text, ParseError);
          seen[result]++;
          if (result === 'ok') checkGeometry(parse(text));
        }
      }),
      { numRuns: 800 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('reads back any block count and any real block size', () => {
    const sizes = fc.constantFrom(512n, 1024n, 2048n, 4096n, 8192n, 65536n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 60n }), sizes, (blocks, blockSize) => {
        const ext4 = parseDumpe2fsHeader(`Filesystem volume name:   <none>\nBlock count:              ${blocks}\nBlock size:               ${blockSize}\n`);
        expect(ext4).toEqual({ type: 'ext4', blocks, blockSize, sizeBytes: blocks * blockSize });
        const xfs = parseXfsInfo(`meta-data=/dev/x isize=512\ndata     =                       bsize=${blockSize}   blocks=${blocks}, imaxpct=25\n`);
        expect(xfs).toEqual({ type: 'xfs', blocks, blockSize, sizeBytes: blocks * blockSize });
      }),
    );
  });

  it('refuses a block size no filesystem has (regression: fuzzing got bsize=0096 through as 96)', () => {
    for (const bad of ['0', '3', '1000', '131072']) {
      expect(() => parseDumpe2fsHeader(`Block count: 100\nBlock size: ${bad}\n`)).toThrow(ParseError);
      expect(() => parseXfsInfo(`data     =   bsize=${bad}   blocks=100, imaxpct=25\n`)).toThrow(ParseError);
    }
  });
});

/** findmnt's JSON shape with hostile values where strings belong, and nested children. */
const jsonValue = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({}));
const mountEntry: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  entry: fc.record(
    {
      source: fc.oneof(fc.string(), jsonValue),
      target: fc.oneof(fc.string(), jsonValue),
      fstype: fc.oneof(fc.constantFrom('ext4', 'xfs'), jsonValue),
      children: fc.oneof({ depthSize: 'small' }, fc.array(tie('entry'), { maxLength: 3 }), jsonValue),
    },
    { requiredKeys: [] },
  ),
})).entry;

describe('parseFindmntJson: ParseError or mounts with string fields, whatever the input', () => {
  it('on random text, random JSON and findmnt-shaped documents with wrong types', () => {
    const docs = fc.oneof(
      hostileText(),
      fc.json().map((j) => j),
      fc.array(fc.oneof(mountEntry, jsonValue), { maxLength: 4 }).map((list) => JSON.stringify({ filesystems: list })),
    );
    const seen = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(docs, (text) => {
        const result = outcome(parseFindmntJson, text, ParseError);
        seen[result]++;
        if (result === 'ok') {
          for (const m of parseFindmntJson(text)) {
            expect([typeof m.source, typeof m.target, typeof m.fstype]).toEqual(['string', 'string', 'string']);
          }
        }
      }),
      { numRuns: 600 },
    );
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  it('rejects null entries and 100,000 levels of children with a ParseError (regression: fuzzing found the TypeError on null; deep nesting overflowed the stack)', () => {
    expect(() => parseFindmntJson('{"filesystems":[null]}')).toThrow(ParseError);
    expect(() => parseFindmntJson('{"filesystems":[{"source":"a","target":"/","fstype":"xfs","children":[7]}]}')).toThrow(ParseError);
    let deep = '{"source":"/dev/x","target":"/","fstype":"xfs"}';
    for (let i = 0; i < 100_000; i++) deep = `{"source":"/dev/x","target":"/","fstype":"xfs","children":[${deep}]}`;
    const mounts = (() => {
      try {
        return parseFindmntJson(`{"filesystems":[${deep}]}`);
      } catch (e) {
        expect(e).toBeInstanceOf(ParseError);
        return null;
      }
    })();
    if (mounts !== null) expect(mounts).toHaveLength(100_001);
  });

  it('lists every mount of a tree in document order', () => {
    const tree = { filesystems: [{ source: 'a', target: '/', fstype: 'xfs', children: [{ source: 'b', target: '/b', fstype: 'ext4', children: [{ source: 'c', target: '/b/c', fstype: 'xfs' }] }, { source: 'd', target: '/d', fstype: 'xfs' }] }] };
    expect(parseFindmntJson(JSON.stringify(tree)).map((m) => m.source)).toEqual(['a', 'b', 'c', 'd']);
  });
});
