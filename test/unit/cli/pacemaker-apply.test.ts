import { describe, expect, it } from 'vitest';
import { pacemakerApplyJsonSchema } from '../../../src/cli/json-contract.js';
import type { LoadedCluster } from '../../../src/index.js';
import { parseClusterFile } from '../../../src/stack/cluster-file.js';
import { Cluster } from '../../../src/stack/cluster.js';
import { FakeCib } from '../pacemaker/fake-cib.js';
import { SERVICE_FILE } from '../stack/pacemaker-cluster.js';
import { runCli } from './helpers.js';

/** The service cluster file with both nodes answering from in-memory CIBs. */
function cluster(edit: (f: Record<string, any>) => void = () => {}): { loaded: LoadedCluster; node1: FakeCib; node2: FakeCib } {
  const raw = structuredClone(SERVICE_FILE) as Record<string, any>;
  edit(raw);
  const file = parseClusterFile(JSON.stringify(raw), 'cluster.json');
  const node1 = new FakeCib(undefined, 'node1');
  const node2 = new FakeCib(undefined, 'node2');
  const c = new Cluster([
    { name: 'node1', executor: node1 },
    { name: 'node2', executor: node2 },
  ]);
  return { loaded: { cluster: c, guests: new Map(), resources: new Map(Object.entries(file.resources)), file }, node1, node2 };
}

describe('hastor pacemaker apply', () => {
  it('applies on the local node, then says "already applied" (exit 0 both times)', async () => {
    const t = cluster();
    const first = await runCli(['pacemaker', 'apply'], { cluster: t.loaded });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied on node1 in one CIB update \(0\.1\.0 → 0\.2\.0\): 9 changes\n/);
    expect(first.stdout).toContain('  + property stonith-enabled=true\n');
    expect(first.stdout).toContain('  + resource drbd-r0-clone (clone)\n');
    expect(first.stdout).toContain('  + constraint order-drbd-r0-clone-promote-then-g-db (rsc_order)\n');
    expect(first.stdout).toMatch(/crm_verify --live-check: ok\n$/);
    expect(t.node2.calls).toEqual([]);
    const again = await runCli(['pacemaker', 'apply'], { cluster: t.loaded });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('already applied on node1 (CIB 0.2.0): the service stack on r0 is in place, nothing to change\n');
  });

  it('--dry-run lists what changes, with the changed attributes, and writes nothing; secrets stay hidden', async () => {
    const t = cluster();
    await runCli(['pacemaker', 'apply'], { cluster: t.loaded });
    const changed = cluster((f) => {
      f.pacemaker.service.params.datadir = '/srv/db/data';
      f.pacemaker.fencing.devices[1].params.password = 'new-secret';
    });
    changed.node1.text = t.node1.text;
    const dry = await runCli(['pacemaker', 'apply', '--dry-run'], { cluster: changed.loaded });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      [
        'dry run on node1 (CIB 0.2.0): 2 changes to apply; nothing written',
        '  ~ resource fence-node2 (primitive)',
        '      params.password: (hidden) → (hidden)',
        '  ~ resource g-db (group)',
        '      db/params.datadir: /srv/db/mysql → /srv/db/data',
        '',
      ].join('\n'),
    );
    expect(changed.node1.patches).toEqual([]);
  });

  it('--json: the result with topology and resource; --node runs it elsewhere', async () => {
    const t = cluster();
    const run = await runCli(['pacemaker', 'apply', '--json', '--node', 'node2'], { cluster: t.loaded });
    expect(run.code).toBe(0);
    const json = pacemakerApplyJsonSchema.parse(JSON.parse(run.stdout));
    expect(json).toMatchObject({ topology: 'service', resource: 'r0', node: 'node2', applied: true, already: false, verify: { ok: true } });
    expect(t.node1.calls).toEqual([]);
    expect(t.node2.patches).toHaveLength(1);
  });

  it('stale objects are reported and kept; --prune deletes them', async () => {
    const t = cluster();
    await runCli(['pacemaker', 'apply'], { cluster: t.loaded });
    const less = cluster((f) => (f.pacemaker.fencing.priorityFencingDelay = '0'));
    less.node1.text = t.node1.text;
    const kept = await runCli(['pacemaker', 'apply'], { cluster: less.loaded });
    expect(kept.stdout).toContain('  stale: property priority-fencing-delay (nvpair) was applied by hastor but is not in the configuration any more; kept (--prune deletes it)\n');
    const pruned = await runCli(['pacemaker', 'apply', '--prune'], { cluster: less.loaded });
    expect(pruned.stdout).toContain('  - property priority-fencing-delay: 10s → (unset)\n');
  });

  it('crm_verify failing after the write: the output, then exit 6', async () => {
    const t = cluster();
    t.node1.verify = { stdout: '', stderr: 'error: something is wrong\n', exitCode: 78 };
    const run = await runCli(['pacemaker', 'apply'], { cluster: t.loaded });
    expect(run.code).toBe(6);
    expect(run.stdout).toContain('crm_verify --live-check: failed (exit 78)\n  error: something is wrong\n');
    expect(run.stderr).toMatch(/^hastor: the configuration was applied, but crm_verify --live-check on node1 reports errors/);
  });

  it('exit codes: 8 the CIB changed meanwhile, 4 a refusal, 3 no pacemaker section, 2 an unknown node', async () => {
    const t = cluster();
    t.node1.beforePatch = () => {
      t.node1.beforePatch = null;
      t.node1.add('resources', '<primitive id="x" class="ocf" provider="heartbeat" type="Dummy"/>');
    };
    const changed = await runCli(['pacemaker', 'apply'], { cluster: t.loaded });
    expect(changed.code).toBe(8);
    expect(changed.stderr).toContain('the CIB changed between');
    const unsafe = cluster((f) => (f.resources.r0.disk.fencing = 'resource-only'));
    const refused = await runCli(['pacemaker', 'apply'], { cluster: unsafe.loaded });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^hastor: refusing to apply this Pacemaker configuration: DRBD resource r0 uses fencing resource-only/);
    expect(unsafe.node1.calls).toEqual([]);
    const none = cluster((f) => delete f.pacemaker);
    expect((await runCli(['pacemaker', 'apply'], { cluster: none.loaded })).code).toBe(3);
    const unknown = await runCli(['pacemaker', 'apply', '--node', 'node9'], { cluster: t.loaded });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no node "node9" in cluster.json (it has node1, node2)');
  });
});
