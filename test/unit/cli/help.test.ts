import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../../src/cli/exit-codes.js';
import { BadInputError, SilentExit, UsageError } from '../../../src/cli/context.js';
import { ActionError, ClusterStepError, CommandError, ConfigError, LockError, ParseError, ResourceStateError, SafetyError, StateTimeoutError } from '../../../src/index.js';
import { runCli } from './helpers.js';

const root = join(import.meta.dirname, '..', '..', '..');

/** Every command and subcommand. */
const COMMANDS: string[][] = [
  [],
  ['status'],
  ['watch'],
  ['resource'],
  ...['create', 'up', 'down', 'adjust', 'connect', 'disconnect', 'primary', 'secondary', 'verify', 'invalidate', 'delete'].map((s) => ['resource', s]),
  ['dual-primary'],
  ['dual-primary', 'begin'],
  ['dual-primary', 'end'],
  ['lvm'],
  ['lvm', 'report'],
  ['lvm', 'lock'],
  ['lvm', 'cluster-setup'],
  ['grow'],
  ['doctor'],
  ['exporter'],
  ['lab'],
];

describe('--help', () => {
  for (const command of COMMANDS) {
    it(`hastor ${command.join(' ')} --help: exit 0, usage and an example`, async () => {
      const run = await runCli([...command, '--help']);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(new RegExp(`^Usage: hastor ${command.join(' ')}`));
      if (command.length === 0) expect(run.stdout).toContain('Exit codes: 0 ok');
      else expect(run.stdout).toMatch(/\nExamples:\n {2}(hastor|npm run lab) /);
    });
  }

  it('changing commands offer --dry-run, destructive ones --yes', async () => {
    for (const sub of ['create', 'up', 'down', 'adjust', 'connect', 'disconnect', 'primary', 'secondary', 'verify', 'invalidate', 'delete']) {
      expect((await runCli(['resource', sub, '--help'])).stdout).toContain('--dry-run');
    }
    for (const sub of ['delete', 'invalidate', 'primary']) expect((await runCli(['resource', sub, '--help'])).stdout).toContain('--yes');
    for (const args of [['dual-primary', 'begin'], ['dual-primary', 'end'], ['lvm', 'cluster-setup']]) {
      expect((await runCli([...args, '--help'])).stdout).toContain('--dry-run');
    }
  });

  it('read commands offer --json', async () => {
    for (const args of [['status'], ['watch'], ['doctor'], ['lvm', 'report']]) expect((await runCli([...args, '--help'])).stdout).toContain('--json');
  });

  it('an unknown command is a usage error (2) with a suggestion', async () => {
    const run = await runCli(['resorce']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("(Did you mean resource?)");
  });
});

describe('hastor lab', () => {
  it('points at npm run lab (the harness is test code, not shipped)', async () => {
    const run = await runCli(['lab']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('npm run lab -- up');
    expect(run.stdout).toContain('npm run test:lab');
  });

  it('with arguments it does not pretend to run anything: usage error (2) and the pointer', async () => {
    const run = await runCli(['lab', 'up']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^hastor: `hastor lab` does not run the lab; in a source checkout run: npm run lab -- up\n/);
  });
});

describe('exit codes', () => {
  it('maps each error class to its documented code', () => {
    const command = new CommandError('x', { argv: ['x'], exitCode: 1, stderr: '' });
    expect(exitCodeFor(new UsageError('u'))).toBe(EXIT.usage);
    expect(exitCodeFor(new ConfigError('c'))).toBe(EXIT.usage);
    expect(exitCodeFor(new BadInputError('b'))).toBe(EXIT.badInput);
    expect(exitCodeFor(new ParseError('p', { source: 's' }))).toBe(EXIT.badInput);
    expect(exitCodeFor(new SafetyError('rule', 'm', 'o'))).toBe(EXIT.refusedBySafetyRule);
    expect(exitCodeFor(new LockError('l', { path: '/run/lock/lvm/V_x' }))).toBe(EXIT.lockTimeout);
    expect(exitCodeFor(command)).toBe(EXIT.commandFailed);
    expect(exitCodeFor(new ActionError('op', [], { node: 'n', argv: ['x'], reason: 'r' }, command))).toBe(EXIT.commandFailed);
    expect(exitCodeFor(new ClusterStepError('step', [{ node: 'a', ok: false, error: new SafetyError('r', 'm', 'o') }, { node: 'b', ok: false, error: command }]))).toBe(EXIT.refusedBySafetyRule);
    expect(exitCodeFor(new ResourceStateError('r0', 'not up'))).toBe(EXIT.wrongState);
    expect(exitCodeFor(new StateTimeoutError('waiting', 10, 'not up'))).toBe(EXIT.stateTimeout);
    expect(exitCodeFor(new Error('bug'))).toBe(EXIT.failure);
    expect(new SilentExit(4).exitCode).toBe(4);
  });

  it('an error is one line on stderr, no stack trace', () => {
    const bin = join(root, 'bin', 'hastor.js');
    const plain = (() => {
      try {
        execFileSync(process.execPath, [bin, 'status', '--from-proc', '/nonexistent/proc-drbd'], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        return (error as { stderr: string }).stderr;
      }
      return '';
    })();
    expect(plain.trim().split('\n')).toHaveLength(1);
  });
});
