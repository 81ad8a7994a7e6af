import { describe, expect, it } from 'vitest';
import { escapeControls, formatBytes, formatDuration, formatSyncAmounts, progressBar, table } from '../../../src/cli/format.js';

describe('CLI formatting', () => {
  it('formats bytes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(256 * 2 ** 20)).toBe('256 MiB');
    expect(formatBytes(3 * 2 ** 40)).toBe('3 TiB');
  });

  it('shows sync amounts in one unit', () => {
    expect(formatSyncAmounts(51900 * 2 ** 20, 409584 * 2 ** 20)).toBe('51900 MiB of 409584 MiB');
    expect(formatSyncAmounts(28 * 1024, 512 * 1024)).toBe('28 KiB of 512 KiB');
  });

  it('formats durations as h:mm:ss', () => {
    expect(formatDuration(1347)).toBe('0:22:27');
    expect(formatDuration(90061)).toBe('25:01:01');
  });

  it('draws a bar proportional to the percent, clamped', () => {
    expect(progressBar(50, 10)).toBe('[#####.....]');
    expect(progressBar(150, 4)).toBe('[####]');
    expect(progressBar(-3, 4)).toBe('[....]');
  });

  it('aligns table columns', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y');
  });
});

describe('table with a capture-sized row count', () => {
  it('aligns 323,000 rows (Math.max(...rows) overflowed the stack)', () => {
    const rows = Array.from({ length: 323_000 }, (_, i) => [String(i), 'Connected']);
    const lines = table(['MINOR', 'CONNECTION'], rows).split('\n');
    expect(lines).toHaveLength(323_001);
    expect(lines[0]).toBe('MINOR   CONNECTION');
    expect(lines[323_000]).toBe('322999  Connected');
  });
});

describe('escapeControls', () => {
  it('makes every terminal control visible: ESC, CSI, OSC title, BEL, C1, DEL, bidi overrides', () => {
    expect(escapeControls('r0\u001b[2J\u001b]0;pwned\u0007')).toBe('r0\\x1b[2J\\x1b]0;pwned\\x07');
    expect(escapeControls('a\u009b31mb\u007fc')).toBe('a\\x9b31mb\\x7fc');
    expect(escapeControls('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(escapeControls('a\tb\rc\nd')).toBe('a\\tb\\rc\\nd');
  });

  it('keeps newlines only when asked, and leaves plain text and non-ASCII letters alone', () => {
    expect(escapeControls('line 1\nline\u001b 2', { newlines: true })).toBe('line 1\nline\\x1b 2');
    expect(escapeControls('vg_data/lv-1 ünïcödé 87.4% [###...]')).toBe('vg_data/lv-1 ünïcödé 87.4% [###...]');
  });
});
