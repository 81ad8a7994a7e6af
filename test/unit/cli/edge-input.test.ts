import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hastor-edge-input-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('hastor status on hostile captures', () => {
  it('5,000 levels of JSON: a ParseError, exit 3 (was a RangeError, exit 1)', async () => {
    for (const text of ['['.repeat(5000) + ']'.repeat(5000), `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`]) {
      const run = await runCli(['status', '--from-json', file('deep.json', text)]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/^hastor: cannot parse drbdsetup status --json line 1: JSON nested more than 256 levels deep/);
    }
  });

  it('a cluster file 5,000 levels deep: exit 3', async () => {
    const run = await runCli(['--cluster', file('deep-cluster.json', `{"nodes":[${'['.repeat(5000)}${']'.repeat(5000)}]}`), 'doctor']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('nested more than 256 levels deep');
  });

  it('--from-proc /dev/zero stops at the 64 MiB cap: exit 3 (was "Invalid string length")', async () => {
    const run = await runCli(['status', '--from-proc', '/dev/zero']);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('hastor: /dev/zero is larger than the 64 MiB hastor reads from a capture; is it the right file?\n');
  });
});
