import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exporterCommand } from '../../../src/cli/commands/exporter.js';
import { UsageError, type CliContext } from '../../../src/cli/context.js';
import { MAX_DURATION_SECONDS, parseDuration } from '../../../src/cli/duration.js';
import { runCli } from './helpers.js';

// Above 2^31-1 ms: Node's timer fired these after 1 ms (issue 15, defect 2).
const OVERFLOW = '3000000';

describe('parseDuration', () => {
  it('turns seconds as typed into whole milliseconds', () => {
    expect(parseDuration('30', '--x', { minSeconds: 1 })).toBe(30_000);
    expect(parseDuration('0.5', '--x', { minSeconds: 0.1 })).toBe(500);
    expect(parseDuration('.25', '--x', { minSeconds: 0 })).toBe(250);
    expect(parseDuration(' 2. ', '--x', { minSeconds: 0 })).toBe(2000);
    expect(parseDuration('0', '--x', { minSeconds: 0 })).toBe(0);
    expect(parseDuration(String(MAX_DURATION_SECONDS), '--x', { minSeconds: 1 })).toBe(86_400_000);
  });

  it('refuses values beyond a day, below the minimum, or not plain seconds, naming the option and the bounds', () => {
    for (const bad of [OVERFLOW, '86400.001', '1e9', 'Infinity', 'NaN', '', ' ', '-1', '+5', '0x10', '5s', '1,5', '9'.repeat(400)]) {
      expect(() => parseDuration(bad, '--poll-interval', { minSeconds: 1 }), bad).toThrow(UsageError);
    }
    expect(() => parseDuration(OVERFLOW, '--poll-interval', { minSeconds: 1 })).toThrow('--poll-interval "3000000": out of range, expected from 1 to 86400 seconds (24 h)');
    expect(() => parseDuration('0.5', '--lvm-interval', { minSeconds: 1 })).toThrow(/--lvm-interval "0.5": out of range, expected from 1 to 86400/);
    expect(() => parseDuration('0.0004', '--timeout', { minSeconds: 0.001 })).toThrow(/out of range/);
    expect(() => parseDuration('soon', '--timeout', { minSeconds: 0 })).toThrow(/--timeout "soon": expected a number of seconds from 0 to 86400/);
  });
});

function exporterContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: { write: () => true } as unknown as NodeJS.WriteStream,
    env: {},
    out: () => undefined,
    usageError: (message: string): never => {
      throw new UsageError(message);
    },
    clusterPath: () => '/nonexistent/cluster.json',
    loadCluster: () => Promise.reject(new Error('the exporter must not read the cluster file')),
  };
}

describe('every seconds option refuses a delay the timer cannot hold (exit 2)', () => {
  it('exporter --poll-interval and --lvm-interval', async () => {
    for (const flag of ['--poll-interval', '--lvm-interval']) {
      let started = false;
      const command = exporterCommand(exporterContext(), {
        until: async () => {
          started = true;
          return 'SIGTERM';
        },
      }).exitOverride();
      const error = await command.parseAsync(['--listen', '127.0.0.1:0', '--no-lvm', flag, OVERFLOW], { from: 'user' }).catch((e: unknown) => e);
      expect(error, flag).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(`${flag} "3000000": out of range, expected from 1 to 86400 seconds`);
      expect(started).toBe(false);
    }
  });

  it('watch --timeout and --interval', async () => {
    for (const args of [['--timeout', OVERFLOW], ['--interval', OVERFLOW], ['--interval', '0.01'], ['--timeout', '0']]) {
      const run = await runCli(['watch', '--source', 'events2', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(`${args[0]} "${args[1]}": out of range`);
    }
  });

  it('lvm lock --timeout: the command never runs', async () => {
    const locking = mkdtempSync(join(tmpdir(), 'hastor-duration-'));
    const run = await runCli(['lvm', 'lock', 'global', '--timeout', OVERFLOW, '--locking-dir', locking, '--', 'sh', '-c', 'echo ran']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--timeout "3000000": out of range, expected from 0 to 86400 seconds');
  });
});
