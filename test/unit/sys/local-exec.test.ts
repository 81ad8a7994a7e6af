/**
 * What a failed command's error says: the stderr lines that tell why, not a
 * warning printed before them (lvm warns about lvmlockd first, then says the
 * VG is full), with the whole stderr kept on the error.
 */
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../../src/errors.js';
import { failureReason, runLocal } from '../../../src/sys/local-exec.js';

describe('failureReason', () => {
  it('leaves warnings out when something else was said, and keeps at most three lines', () => {
    const lvm = '  WARNING: skipping LV lock in lvmlockd.\n  Insufficient free space: 8 extents needed, but only 0 available\n';
    expect(failureReason(lvm)).toBe('Insufficient free space: 8 extents needed, but only 0 available');
    expect(failureReason('a\nb\nc\nd\n')).toBe('a; b; c');
  });

  it('keeps the warnings when they are all there is, and nothing from an empty stderr', () => {
    expect(failureReason('  WARNING: Device /dev/sdb not found.\n')).toBe('WARNING: Device /dev/sdb not found.');
    expect(failureReason('\n \n')).toBe('');
  });

  it('shortens a flood to a bounded message', () => {
    expect(failureReason(`${'x'.repeat(5000)}\n`).length).toBeLessThanOrEqual(400);
  });
});

describe('runLocal on a failing command', () => {
  it("names the reason lvm gives after its warning; the error keeps all of stderr", async () => {
    const script = 'echo "  WARNING: skipping LV lock in lvmlockd." >&2; echo "  Insufficient free space: 8 extents needed, but only 0 available" >&2; exit 5';
    const error = await runLocal(['sh', '-c', script]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(/exited with 5: Insufficient free space: 8 extents needed, but only 0 available$/);
    expect((error as CommandError).stderr).toContain('WARNING: skipping LV lock');
    expect((error as CommandError).exitCode).toBe(5);
  });
});
