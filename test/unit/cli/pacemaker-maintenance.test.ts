/**
 * `hastor pacemaker maintenance` and the refusals of hastor's own commands on
 * a Pacemaker-managed resource, on scripted nodes answering with Pacemaker
 * 2.1.5 documents (test/fixtures/pacemaker).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { setPacemakerMaintenance } from '../../../src/index.js';
import type { Reply, ScriptedExecutor } from '../drbd/lifecycle/scripted-executor.js';
import { CRM_MON, EVENTS2 } from '../stack/two-nodes.js';
import { loadedCluster, twoNodes } from './cluster.js';
import { runCli } from './helpers.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/pacemaker/${name}`, import.meta.url), 'utf8');
const ok = (stdout: string): Reply => ({ stdout, stderr: '', exitCode: 0 });
const RUNNING = fixture('crm-mon-running.xml');
/** Derived: crm_mon after `is-managed=false` on ms_drbd_r0 (the clone and its instances unmanaged). */
const R0_UNMANAGED = RUNNING.replace(/(<clone id="ms_drbd_r0"[^>]*?)managed="true"/, '$1managed="false"');
const UNMANAGE = 'crm_resource --resource ms_drbd_r0 --meta --set-parameter is-managed --parameter-value false';

function member(ex: ScriptedExecutor, ...crmMon: string[]): void {
  ex.reply(CRM_MON, ...crmMon.map(ok)).reply('cibadmin -Q', ok(fixture('cib-drbd-running.xml')));
}

describe('setPacemakerMaintenance', () => {
  it('unmanages one resource with crm_resource and returns once crm_mon shows it', async () => {
    const t = twoNodes();
    member(t.node1, RUNNING, RUNNING, R0_UNMANAGED);
    t.node1.reply(UNMANAGE, ok(''));
    const result = await setPacemakerMaintenance(t.node1, { on: true, resource: 'ms_drbd_r0', pollIntervalMs: 0 });
    expect(result).toMatchObject({ node: 'node1', resource: 'ms_drbd_r0', on: true, already: false, dryRun: false });
    expect(t.node1.commands).toEqual([CRM_MON, UNMANAGE, CRM_MON, CRM_MON]);
  });

  it('already so: runs nothing; a dry run only says what it would run', async () => {
    const t = twoNodes();
    member(t.node1, R0_UNMANAGED);
    expect((await setPacemakerMaintenance(t.node1, { on: true, resource: 'ms_drbd_r0' })).already).toBe(true);
    const dry = await setPacemakerMaintenance(t.node1, { on: false, resource: 'ms_drbd_r0', dryRun: true });
    expect(dry.argv.join(' ')).toBe('crm_resource --resource ms_drbd_r0 --meta --delete-parameter is-managed');
    expect(t.node1.commands).toEqual([CRM_MON, CRM_MON]);
  });

  it('the whole cluster: maintenance-mode through crm_attribute', async () => {
    const t = twoNodes();
    member(t.node1, RUNNING);
    const dry = await setPacemakerMaintenance(t.node1, { on: true, dryRun: true });
    expect(dry.argv.join(' ')).toBe('crm_attribute --type crm_config --name maintenance-mode --update true');
    member(t.node1, fixture('crm-mon-maintenance.xml'));
    expect((await setPacemakerMaintenance(t.node1, { on: true })).already).toBe(true);
  });

  it('an unknown resource, and an id Pacemaker would not accept, are refused before anything runs', async () => {
    const t = twoNodes();
    member(t.node1, RUNNING);
    await expect(setPacemakerMaintenance(t.node1, { on: true, resource: 'ms_drbd_r9' })).rejects.toThrow(/has no resource ms_drbd_r9/);
    await expect(setPacemakerMaintenance(t.node1, { on: true, resource: 'a b;rm' })).rejects.toThrow(/not a Pacemaker id/);
    expect(t.node1.commands).toEqual([CRM_MON]);
  });
});

describe('hastor pacemaker maintenance', () => {
  it('--drbd r0 finds the clone, unmanages it, and says how to give it back', async () => {
    const t = twoNodes();
    member(t.node1, RUNNING, RUNNING, R0_UNMANAGED);
    t.node1.reply(UNMANAGE, ok(''));
    const run = await runCli(['pacemaker', 'maintenance', 'on', '--drbd', 'r0', '--node', 'node1'], { cluster: loadedCluster(t) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`ms_drbd_r0 is now unmanaged (ran on node1: ${UNMANAGE}); give it back with: hastor pacemaker maintenance off --resource ms_drbd_r0\n`);
  });

  it('bad input is a usage error (2): not on/off, both --resource and --drbd, a DRBD resource no clone manages', async () => {
    const t = twoNodes();
    member(t.node1, RUNNING);
    expect((await runCli(['pacemaker', 'maintenance', 'maybe'], { cluster: loadedCluster(t) })).code).toBe(2);
    expect((await runCli(['pacemaker', 'maintenance', 'on', '--resource', 'x', '--drbd', 'r0'], { cluster: loadedCluster(t) })).code).toBe(2);
    const none = await runCli(['pacemaker', 'maintenance', 'on', '--drbd', 'r5', '--node', 'node1'], { cluster: loadedCluster(t) });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no Pacemaker clone manages DRBD resource "r5" (DRBD clones: ms_drbd_r0 (r0), ms_drbd_r1 (r1))');
  });
});

describe('hastor resource on a Pacemaker-managed resource', () => {
  it('primary is refused by the safety rule (exit 4) with the crm_resource command to use; nothing changes', async () => {
    const t = twoNodes();
    t.node1.reply(EVENTS2, 'events2-uptodate-secondary-node1').reply('drbdadm primary r0', 'primary');
    t.node2.reply(EVENTS2, 'events2-uptodate-secondary-node2');
    member(t.node1, RUNNING);
    const run = await runCli(['resource', 'primary', 'r0', '--node', 'node1'], { cluster: loadedCluster(t) });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('Pacemaker manages r0 as ms_drbd_r0');
    expect(run.stderr).toContain('crm_resource --resource ms_drbd_r0 --move --promoted --node node1');
    expect(t.node1.mutations).toEqual([]);
  });
});
