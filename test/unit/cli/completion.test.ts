import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '..', '..', '..', 'contrib', 'bash-completion', 'hastor');

/** What bash completes for the words typed so far (the last one is being completed). */
function complete(...words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `source '${script}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _hastor; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

describe('contrib/bash-completion/hastor', () => {
  it('registers itself for hastor', () => {
    expect(execFileSync('bash', ['-c', `source '${script}'; complete -p hastor`], { encoding: 'utf8' }).trim()).toBe('complete -F _hastor hastor');
  });

  it('completes `hastor res` to resource and `hastor resource ` to its subcommands', () => {
    expect(complete('hastor', 'res')).toEqual(['resource']);
    expect(complete('hastor', 'resource', '')).toEqual(['create', 'up', 'down', 'adjust', 'connect', 'disconnect', 'primary', 'secondary', 'verify', 'invalidate', 'delete', '--help']);
  });

  it('completes options of a subcommand, past the global --cluster and its value', () => {
    expect(complete('hastor', '--cluster', 'c.json', 'resource', 'delete', 'r0', '--')).toEqual(['--dry-run', '--json', '--override', '--keep-config', '--yes', '--help']);
    expect(complete('hastor', 'lvm', 'report', '')).toEqual(['pvs', 'vgs', 'lvs', '--node', '--vg', '--all', '--json', '--help']);
    expect(complete('hastor', 'dual-primary', 'end', 'r0', '--k')).toEqual(['--keep']);
    expect(complete('hastor', 'exporter', '--no-p')).toEqual(['--no-pacemaker']);
    expect(complete('hastor', 'exporter', '--pacemaker-timeout', '')).toEqual([]);
  });

  it('completes option values it knows', () => {
    expect(complete('hastor', 'watch', '--source', '')).toEqual(['auto', 'netlink', 'events2']);
    expect(complete('hastor', 'status', '--source', 'p')).toEqual(['proc']);
    expect(complete('hastor', 'resource', 'create', 'r0', '--override', 'create-md')).toEqual(['create-md-on-signature']);
    expect(complete('hastor', 'pacemaker', 'config', '--format', '')).toEqual(['cib', 'crm', 'pcs']);
    expect(complete('hastor', 'pacemaker', 'config', '--topology', 'g')).toEqual(['guests']);
    expect(complete('hastor', 'pacemaker', 'config', '--')).toEqual(['--topology', '--format', '--json', '--help']);
    expect(complete('hastor', 'pacemaker', 'a')).toEqual(['apply']);
    expect(complete('hastor', 'pacemaker', 'apply', '--')).toEqual(['--topology', '--node', '--dry-run', '--prune', '--json', '--help']);
    expect(complete('hastor', 'pacemaker', 'apply', '--topology', 's')).toEqual(['service']);
  });
});

describe('the completion script and the CLI agree', () => {
  it('lists every command `hastor --help` shows', async () => {
    const { runCli } = await import('./helpers.js');
    const help = (await runCli(['--help'])).stdout;
    const commands = [...help.matchAll(/^ {2}([a-z][a-z-]*)(?: \[options\]| <|\s)/gm)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(8);
    expect(complete('hastor', '').filter((w) => !w.startsWith('-')).sort()).toEqual([...new Set(commands)].sort());
  });
});
