import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pacemakerStatusJsonSchema } from '../../../src/cli/json-contract.js';
import { runCli } from './helpers.js';

const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'pacemaker');
const crmMon = (name: string) => join(dir, name);

describe('hastor pacemaker status --from-crm-mon/--from-cib', () => {
  it('human view: nodes, DRBD clones with their promoted nodes, stonith, the fence constraint, failed actions', async () => {
    const run = await runCli(['pacemaker', 'status', '--from-crm-mon', crmMon('crm-mon-failed-action.xml'), '--from-cib', crmMon('cib-fence-constraint.xml')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('cluster: stack corosync, DC node1, quorum yes, stonith-enabled true, maintenance-mode false, priority-fencing-delay 10000 ms (from crm_mon + CIB)');
    expect(lines.find((l) => l.startsWith('node1 '))?.split(/\s+/)).toEqual(['node1', '1', 'online', 'yes', '9']);
    expect(lines.find((l) => l.startsWith('r0 '))?.split(/\s+/)).toEqual(['r0', 'ms_drbd_r0', '1', 'node1', 'node1,node2', 'drbd-fence-by-handler-r0-ms_drbd_r0']);
    expect(lines.find((l) => l.startsWith('r1 '))?.split(/\s+/)).toEqual(['r1', 'ms_drbd_r1', '2', 'node1,node2', 'node1,node2', '-']);
    expect(lines.find((l) => l.startsWith('fence_node1 '))?.split(/\s+/)).toEqual(['fence_node1', 'stonith:fence_xvm', 'node2']);
    expect(run.stdout).toContain('constraints: 10, 1 DRBD fence constraint');
    expect(run.stdout).toContain('drbd-fence-by-handler-r0-ms_drbd_r0: ms_drbd_r0 may be Promoted only on node1 (not on node2)');
    expect(lines.find((l) => l.startsWith('mysql_monitor_20000 '))).toMatch(/^mysql_monitor_20000\s+node1\s+7 \(not running\)\s+complete/);
    expect(run.stdout).not.toMatch(/\u001b\[/);
  });

  it('warnings: stonith-enabled=false, maintenance-mode=true', async () => {
    const run = await runCli(['pacemaker', 'status', '--from-crm-mon', crmMon('crm-mon-maintenance.xml')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^warning: stonith-enabled=false/m);
    expect(run.stdout).toMatch(/^warning: maintenance-mode=true/m);
    expect(run.stdout).toMatch(/^warning: node node1 is in maintenance$/m);
  });

  it('a CIB alone: placement unknown (?), no stonith device warned', async () => {
    const run = await runCli(['pacemaker', 'status', '--from-cib', crmMon('cib-old-master.xml')]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').find((l) => l.startsWith('r0 '))?.split(/\s+/)).toEqual(['r0', 'ms_drbd_r0', '1', '?', '?', 'drbd-fence-by-handler-r0-ms_drbd_r0']);
    expect(run.stdout).toContain('no stonith device');
    expect(run.stdout).toMatch(/^warning: no stonith device is configured$/m);
  });

  it('--json is the pacemaker status contract', async () => {
    const run = await runCli(['pacemaker', 'status', '--from-crm-mon', crmMon('crm-mon-fence-history.xml'), '--from-cib', crmMon('cib-drbd-running.xml'), '--json']);
    expect(run.code).toBe(0);
    const view = pacemakerStatusJsonSchema.parse(JSON.parse(run.stdout));
    expect(view.sources).toEqual({ crmMon: true, cib: true });
    expect(view.nodes.map((n) => [n.name, n.state])).toEqual([
      ['node1', 'online'],
      ['node2', 'offline'],
    ]);
    expect(view.drbdClones.find((c) => c.drbdResource === 'r0')).toMatchObject({ cloneId: 'ms_drbd_r0', promotedMax: 1, promotedOn: ['node1'], runningOn: ['node1'] });
    expect(view.fenceHistory?.map((e) => [e.target, e.status])).toEqual([
      ['node2', 'success'],
      ['node2', 'failed'],
    ]);
    expect(view.constraints?.length).toBe(9);
    expect(view.failedActions).toEqual([]);
  });

  it('reads stdin for one of the files', async () => {
    const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'hastor.js');
    const result = spawnSync(process.execPath, [bin, 'pacemaker', 'status', '--from-crm-mon', '-', '--json'], { input: readFileSync(crmMon('crm-mon-standby.xml')), encoding: 'utf8' });
    // Through the installed bin (dist/, built by npm test as for status's bin test): stdin is the process's own.
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).nodes[1].state).toBe('standby');
  });
});

describe('hastor pacemaker status errors', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hastor-pcmk-'));

  it('a CIB given as crm_mon output: exit 3, one line saying which option to use', async () => {
    const run = await runCli(['pacemaker', 'status', '--from-crm-mon', crmMon('cib-drbd.xml')]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^hastor: cannot parse crm_mon --output-as=xml: this is a CIB/);
  });

  it('truncated XML: exit 3 with the line', async () => {
    const file = join(tmp, 'cut.xml');
    writeFileSync(file, '<pacemaker-result>\n  <summary>\n');
    const run = await runCli(['pacemaker', 'status', '--from-crm-mon', file]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/not well-formed XML/);
  });

  it("crm_mon's own 'Not connected' document: exit 6, Pacemaker not running", async () => {
    const run = await runCli(['pacemaker', 'status', '--from-crm-mon', crmMon('crm-mon-not-connected.xml')]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/Not connected.*is Pacemaker running/);
  });

  it('a missing file: exit 3', async () => {
    const run = await runCli(['pacemaker', 'status', '--from-cib', join(tmp, 'nope.xml')]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('nope.xml');
  });

  it('usage errors (2): both from stdin, --node with a file', async () => {
    const both = await runCli(['pacemaker', 'status', '--from-crm-mon', '-', '--from-cib', '-']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/only one of --from-crm-mon and --from-cib can read stdin/);
    const node = await runCli(['pacemaker', 'status', '--node', 'node1', '--from-cib', crmMon('cib-drbd.xml')]);
    expect(node.code).toBe(2);
  });

  it('--help lists the options with examples', async () => {
    const run = await runCli(['pacemaker', 'status', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--json', '--from-crm-mon', '--from-cib', '--node']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('Examples:');
  });
});
