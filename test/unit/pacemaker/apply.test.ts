/**
 * applyPacemakerConfig on a node whose CIB is in memory (fake-cib.ts applies
 * patches as Pacemaker 2.1 does): what it writes, what it leaves alone, and
 * what it refuses.
 */
import { describe, expect, it } from 'vitest';
import {
  APPLIED_SET_ID,
  CibChangedError,
  SafetyError,
  applyPacemakerConfig,
  parseCib,
  pacemakerApplyResultSchema,
  planPacemakerApply,
  type ApplyPacemakerOptions,
  type PacemakerConfig,
} from '../../../src/index.js';
import { parseClusterFile } from '../../../src/stack/cluster-file.js';
import { generateStackPacemakerConfig, type GeneratedStack } from '../../../src/stack/pacemaker-config.js';
import { GUESTS_FILE, SERVICE_FILE } from '../stack/pacemaker-cluster.js';
import { crmMonSettled, EMPTY_CIB, FakeCib, find, nvpair } from './fake-cib.js';

function stack(file: unknown = SERVICE_FILE, edit: (f: Record<string, any>) => void = () => {}): GeneratedStack {
  const copy = structuredClone(file) as Record<string, any>;
  edit(copy);
  return generateStackPacemakerConfig(parseClusterFile(JSON.stringify(copy), 'cluster.json'));
}

const apply = (cib: FakeCib, generated: GeneratedStack, options: Omit<ApplyPacemakerOptions, 'check'> = {}) =>
  applyPacemakerConfig(cib, generated.config, { ...options, check: { drbd: generated.drbd } });

const refusal = async (promise: Promise<unknown>): Promise<SafetyError> => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SafetyError);
  return error as SafetyError;
};

const service = stack();
const CLONE = "/cib/configuration/resources/clone[@id='drbd-r0-clone']";
const CLONE_META = `${CLONE}/meta_attributes[@id='drbd-r0-clone-meta_attributes']`;

describe('applyPacemakerConfig', () => {
  it('first apply on an empty CIB: everything added in one patch as root, crm_verify run, the record written', async () => {
    const cib = new FakeCib();
    const result = await apply(cib, service);
    expect(pacemakerApplyResultSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({ node: 'node1', applied: true, already: false, dryRun: false, attempts: 1, before: { epoch: 1, numUpdates: 0 }, after: { epoch: 2, numUpdates: 0 }, stale: [], foreign: [] });
    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual([
      'add property stonith-enabled',
      'add property priority-fencing-delay',
      'add resource fence-node1',
      'add resource fence-node2',
      'add resource drbd-r0-clone',
      'add resource g-db',
      'add constraint col-g-db-with-drbd-r0-clone-promoted',
      'add constraint order-drbd-r0-clone-promote-then-g-db',
      `add record ${APPLIED_SET_ID}`,
    ]);
    expect(cib.commands).toEqual(['crm_mon -1 --output-as=xml', 'cibadmin -Q', 'cibadmin --patch --xml-pipe', 'cibadmin -Q', 'crm_verify --live-check -V']);
    expect(cib.calls.every((c) => c.root)).toBe(true);
    expect(result.verify).toEqual({ ok: true, exitCode: 0, output: '' });
    const live = parseCib(cib.text);
    expect(live.properties).toMatchObject({ 'stonith-enabled': 'true', 'priority-fencing-delay': '10s' });
    expect(live.resources.map((r) => r.id)).toEqual(['fence-node1', 'fence-node2', 'drbd-r0-clone', 'g-db']);
    expect(live.constraints.map((c) => c.id)).toEqual(['col-g-db-with-drbd-r0-clone-promoted', 'order-drbd-r0-clone-promote-then-g-db']);
    // A value with quotes, spaces and $ survives the patch's XML unchanged.
    const params = structuredClone(SERVICE_FILE) as Record<string, any>;
    params.pacemaker.service.params = { additional_parameters: `--init-file="/srv/a b.sql" $HOME & <x>` };
    const odd = stack(params);
    await apply(cib, odd);
    const db = parseCib(cib.text).resources.find((r) => r.id === 'g-db');
    expect(db?.kind === 'group' && db.resources[2]?.params).toEqual({ additional_parameters: `--init-file="/srv/a b.sql" $HOME & <x>` });
  });

  it('a second apply is a no-op: nothing written, the epoch stays, "already"', async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    const before = cib.text;
    const again = await apply(cib, service);
    expect(again).toMatchObject({ already: true, applied: false, changes: [], after: null, verify: null, before: { epoch: 2 } });
    expect(cib.text).toBe(before);
    expect(cib.patches).toHaveLength(1);
  });

  it('a changed param replaces only that object, in its place, listing the attribute', async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    const changed = stack(SERVICE_FILE, (f) => (f.pacemaker.service.params.datadir = '/srv/db/data'));
    const result = await apply(cib, changed);
    expect(result.changes).toEqual([
      { action: 'replace', kind: 'resource', id: 'g-db', element: 'group', attributes: [{ name: 'db/params.datadir', before: '/srv/db/mysql', after: '/srv/db/data' }] },
    ]);
    const patch = cib.patches[1] as string;
    expect(patch.match(/operation="(create|delete)"/g)).toEqual(['operation="delete"', 'operation="create"']);
    expect(patch).toContain(`<change operation="delete" path="/cib/configuration/resources/group[@id='g-db']"/>`);
    expect(patch).toContain('<change operation="create" path="/cib/configuration/resources" position="3">');
    expect(parseCib(cib.text).resources.map((r) => r.id)).toEqual(['fence-node1', 'fence-node2', 'drbd-r0-clone', 'g-db']);
    expect(cib.text).toContain('value="/srv/db/data"');
    expect((await apply(cib, changed)).already).toBe(true);
  });

  it('a property set elsewhere (another id) is changed in place; one not there is added to cib-bootstrap-options', async () => {
    const cib = new FakeCib(EMPTY_CIB.replace('<crm_config/>', '<crm_config><cluster_property_set id="opts"><nvpair id="opt-stonith" name="stonith-enabled" value="no"/><nvpair id="opt-name" name="cluster-name" value="lab"/></cluster_property_set></crm_config>'));
    const result = await apply(cib, service);
    expect(result.changes.slice(0, 2)).toEqual([
      { action: 'replace', kind: 'property', id: 'stonith-enabled', element: 'nvpair', attributes: [{ name: 'value', before: 'no', after: 'true' }] },
      { action: 'add', kind: 'property', id: 'priority-fencing-delay', element: 'nvpair', attributes: [{ name: 'value', before: null, after: '10s' }] },
    ]);
    expect(cib.text).toContain('<nvpair id="opt-stonith" name="stonith-enabled" value="true"/>');
    expect(cib.text).toContain('<nvpair id="opt-name" name="cluster-name" value="lab"/>');
    expect(parseCib(cib.text).properties['priority-fencing-delay']).toBe('10s');
  });

  it("foreign objects and DRBD's fence constraint are kept, listed as left alone, and not compared", async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    cib.add('resources', '<primitive id="other" class="ocf" provider="heartbeat" type="Dummy"/>');
    cib.add('constraints', '<rsc_location id="cli-ban-other-on-node2" rsc="other" node="node2" score="-INFINITY"/>');
    cib.add(
      'constraints',
      '<rsc_location id="drbd-fence-by-handler-r0-drbd-r0-clone" rsc="drbd-r0-clone"><rule id="drbd-fence-by-handler-r0-rule-drbd-r0-clone" role="Promoted" score="-INFINITY"><expression id="drbd-fence-by-handler-r0-expr-1-drbd-r0-clone" attribute="#uname" operation="ne" value="node1"/></rule></rsc_location>',
    );
    const changed = stack(SERVICE_FILE, (f) => (f.pacemaker.fencing.priorityFencingDelay = '15s'));
    for (const prune of [false, true]) {
      const result = await apply(cib, changed, { prune });
      expect(result.foreign).toEqual(['other', 'cli-ban-other-on-node2', 'drbd-fence-by-handler-r0-drbd-r0-clone']);
      expect(result.stale).toEqual([]);
    }
    const live = parseCib(cib.text);
    expect(live.resources.map((r) => r.id)).toContain('other');
    expect(live.drbdFenceConstraints.map((c) => [c.id, c.allowedNode])).toEqual([['drbd-fence-by-handler-r0-drbd-r0-clone', 'node1']]);
    expect(live.constraints.map((c) => c.id)).toContain('cli-ban-other-on-node2');
  });

  it('meta attributes set at run time (is-managed, target-role) are not differences and survive a replacement', async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    // What hastor pacemaker maintenance on --resource drbd-r0-clone and crm_resource --meta target-role leave.
    cib.edit((root) => {
      find(root, CLONE_META)!.children.push(nvpair('drbd-r0-clone-meta_attributes-is-managed', 'is-managed', 'false'));
      find(root, `${CLONE}/primitive[@id='drbd-r0']`)!.children.push({ name: 'meta_attributes', attributes: { id: 'drbd-r0-meta' }, children: [nvpair('drbd-r0-tr', 'target-role', 'Stopped')], text: '' });
    });
    expect((await apply(cib, service)).already).toBe(true);
    // A real difference on the clone replaces it, with the run-time meta carried over.
    const plan = planPacemakerApply(cib.text, { ...service.config, clones: service.config.clones.map((c) => ({ ...c, meta: { ...c.meta, notify: 'false' } })) });
    expect(plan.changes.find((c) => c.id === 'drbd-r0-clone')?.attributes).toEqual([{ name: 'meta.notify', before: 'true', after: 'false' }]);
    expect(plan.patch).toContain('<nvpair id="drbd-r0-clone-meta_attributes-is-managed" name="is-managed" value="false"/>');
    expect(plan.patch).toContain('<nvpair id="drbd-r0-meta_attributes-target-role" name="target-role" value="Stopped"/>');
  });

  it('stale objects (applied before, gone from the configuration) are reported and kept, deleted only with prune', async () => {
    const cib = new FakeCib();
    const two = stack(GUESTS_FILE, (f) => f.pacemaker.guests.list.push({ id: 'vm2', params: { config: '/etc/libvirt/qemu/vm2.xml' } }));
    await apply(cib, two);
    const one = stack(GUESTS_FILE, (f) => (f.pacemaker.fencing.priorityFencingDelay = '0'));
    const kept = await apply(cib, one);
    expect(kept.stale).toEqual([
      { kind: 'property', id: 'priority-fencing-delay', element: 'nvpair', deleted: false },
      { kind: 'resource', id: 'vm2', element: 'primitive', deleted: false },
      { kind: 'constraint', id: 'col-vm2-with-lvm-vg_shared-clone', element: 'rsc_colocation', deleted: false },
      { kind: 'constraint', id: 'order-lvm-vg_shared-clone-then-vm2', element: 'rsc_order', deleted: false },
    ]);
    expect(kept.changes).toEqual([]);
    expect(kept.already).toBe(true);
    expect(parseCib(cib.text).resources.map((r) => r.id)).toContain('vm2');
    const pruned = await apply(cib, one, { prune: true });
    expect(pruned.changes.map((c) => `${c.action} ${c.kind} ${c.id}`)).toEqual([
      'delete property priority-fencing-delay',
      'delete resource vm2',
      'delete constraint col-vm2-with-lvm-vg_shared-clone',
      'delete constraint order-lvm-vg_shared-clone-then-vm2',
      `replace record ${APPLIED_SET_ID}`,
    ]);
    const live = parseCib(cib.text);
    expect(live.resources.map((r) => r.id)).not.toContain('vm2');
    expect(live.properties['priority-fencing-delay']).toBeUndefined();
    expect((await apply(cib, one, { prune: true })).already).toBe(true);
  });

  it('the CIB changed between read and write: CibChangedError, nothing of hastor written', async () => {
    const cib = new FakeCib();
    cib.beforePatch = () => {
      cib.beforePatch = null;
      cib.add('resources', '<primitive id="someone-else" class="ocf" provider="heartbeat" type="Dummy"/>');
    };
    const error = await apply(cib, service).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CibChangedError);
    expect((error as CibChangedError).message).toMatch(/^node1: the CIB changed between hastor's read \(0\.1\.0\) and its write \(now 0\.2\.0\).*nothing was written/);
    expect(parseCib(cib.text).resources.map((r) => r.id)).toEqual(['someone-else']);
    expect(cib.commands.at(-1)).toBe('cibadmin -Q');
  });

  it('only the status moved (num_updates): planned again and applied', async () => {
    const cib = new FakeCib();
    cib.beforePatch = () => {
      cib.beforePatch = null;
      cib.edit(() => {}, 'num_updates');
    };
    const result = await apply(cib, service);
    expect(result).toMatchObject({ applied: true, attempts: 2, before: { epoch: 1, numUpdates: 1 } });
    expect(cib.patches).toHaveLength(2);
  });

  it('a dry run reports the same changes and writes nothing', async () => {
    const cib = new FakeCib();
    const before = cib.text;
    const dry = await apply(cib, service, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, applied: false, already: false, after: null, verify: null });
    expect(dry.changes).toHaveLength(9);
    expect(cib.commands).toEqual(['crm_mon -1 --output-as=xml', 'cibadmin -Q']);
    expect(cib.text).toBe(before);
    expect((await apply(cib, service)).changes).toEqual(dry.changes);
  });

  it('crm_verify failing after the write is reported with its output', async () => {
    const cib = new FakeCib();
    cib.verify = { stdout: '', stderr: 'crm_verify: Errors found during check: config not valid\n', exitCode: 78 };
    const result = await apply(cib, service);
    expect(result).toMatchObject({ applied: true, verify: { ok: false, exitCode: 78, output: 'crm_verify: Errors found during check: config not valid' } });
  });

  it('env reaches every tool (CIB_file)', async () => {
    const cib = new FakeCib();
    await apply(cib, service, { env: { CIB_file: '/tmp/cib.xml' } });
    expect(cib.calls.every((c) => c.env?.CIB_file === '/tmp/cib.xml')).toBe(true);
  });
});

describe('applyPacemakerConfig refuses, writing nothing', () => {
  const wrote = (cib: FakeCib) => cib.commands.filter((c) => c.startsWith('cibadmin --patch'));

  it('a configuration without working fencing (the generator rules), before reading anything', async () => {
    const cib = new FakeCib();
    const bare: PacemakerConfig = { ...service.config, primitives: service.config.primitives.filter((p) => p.class !== 'stonith') };
    const error = await refusal(applyPacemakerConfig(cib, bare, { check: { drbd: service.drbd } }));
    expect(error.rule).toBe('no-stonith-device');
    expect(error.message).toMatch(/^refusing to apply this Pacemaker configuration/);
    expect(cib.calls).toEqual([]);
  });

  it('stonith-enabled=false live that the configuration does not fix', async () => {
    const cib = new FakeCib(EMPTY_CIB.replace('<crm_config/>', '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>'));
    const { 'stonith-enabled': _s, ...rest } = service.config.properties;
    const error = await refusal(applyPacemakerConfig(cib, { ...service.config, properties: rest }, { check: { drbd: service.drbd } }));
    expect(error.rule).toBe('live-stonith-disabled');
    expect(wrote(cib)).toEqual([]);
    // The generated configuration sets it, and so fixes it.
    expect((await apply(cib, service)).changes[0]).toMatchObject({ kind: 'property', id: 'stonith-enabled', attributes: [{ before: 'false', after: 'true' }] });
  });

  it('a stonith device with a failed monitor, unless this apply replaces that device', async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    cib.crmMon = crmMonSettled({
      failures: '<failure op_key="fence-node1_monitor_60000" node="node2" exitstatus="error" exitreason="" exitcode="1" call="9" status="complete" last-rc-change="2026-12-07 15:38:01Z" queued="0" exec="0" interval="60000" task="monitor"/>',
    });
    const changed = stack(SERVICE_FILE, (f) => (f.pacemaker.service.params.datadir = '/srv/db/data'));
    const error = await refusal(apply(cib, changed));
    expect(error.rule).toBe('stonith-device-failed');
    expect(error.message).toContain('stonith device fence-node1');
    expect(wrote(cib)).toHaveLength(1);
    const fixed = stack(SERVICE_FILE, (f) => (f.pacemaker.fencing.devices[0].params.password = 'right'));
    expect((await apply(cib, fixed)).changes.map((c) => c.id)).toEqual(['fence-node1']);
  });

  it('the cluster in transition: no DC, or an action pending', async () => {
    for (const crmMon of [crmMonSettled({ dc: false }), crmMonSettled({ resources: '<resource id="x" resource_agent="ocf:heartbeat:Dummy" role="Stopped" pending="Starting" active="false" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="0"/>' })]) {
      const cib = new FakeCib();
      cib.crmMon = crmMon;
      const error = await refusal(apply(cib, service));
      expect(error.rule).toBe('pacemaker-in-transition');
      expect(cib.commands).toEqual(['crm_mon -1 --output-as=xml']);
    }
  });

  it('an id of hastor held by an object it did not generate', async () => {
    const cib = new FakeCib();
    cib.add('resources', '<clone id="ms_drbd_r0"><primitive id="drbd-r0" class="ocf" provider="linbit" type="drbd"/></clone>');
    const error = await refusal(apply(cib, service));
    expect(error.rule).toBe('pacemaker-foreign-object');
    expect(error.message).toContain("id drbd-r0 of hastor's clone drbd-r0-clone is already used by clone ms_drbd_r0");
    expect(wrote(cib)).toEqual([]);
  });

  it('a foreign constraint naming what the change removes', async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    cib.add('constraints', '<rsc_location id="cli-ban-ip-db-on-node2" rsc="ip-db" node="node2" score="-INFINITY"/>');
    const error = await refusal(apply(cib, stack(SERVICE_FILE, (f) => delete f.pacemaker.service.ip)));
    expect(error.rule).toBe('pacemaker-foreign-reference');
    expect(error.message).toContain('rsc_location cli-ban-ip-db-on-node2 names ip-db');
    expect(wrote(cib)).toHaveLength(1);
  });

  it("another cluster's CIB (a node the configuration does not have)", async () => {
    const cib = new FakeCib(EMPTY_CIB.replace('uname="node2"', 'uname="node3"'));
    expect((await refusal(apply(cib, service))).rule).toBe('pacemaker-other-cluster');
  });

  it('an open dual-primary window on a clone it would replace', async () => {
    const cib = new FakeCib();
    await apply(cib, service);
    cib.edit((root) => {
      const meta = find(root, CLONE_META)!;
      meta.children = meta.children.map((p) => (p.attributes.name === 'promoted-max' ? { ...p, attributes: { ...p.attributes, value: '2' } } : p));
      meta.children.push(nvpair('saved', 'hastor-promoted-max-before', '1'));
    });
    expect((await refusal(apply(cib, service))).rule).toBe('pacemaker-dual-primary-window');
  });
});
