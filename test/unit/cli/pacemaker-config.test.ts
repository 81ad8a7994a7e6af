import { describe, expect, it } from 'vitest';
import { clusterFromFile, parseClusterFile } from '../../../src/stack/cluster-file.js';
import { GUESTS_FILE, SERVICE_FILE } from '../stack/pacemaker-cluster.js';
import { runCli } from './helpers.js';

const loaded = (file: unknown) => clusterFromFile(parseClusterFile(JSON.stringify(file), 'cluster.json'));

describe('hastor pacemaker config', () => {
  it('prints the CIB by default (exit 0, nothing on stderr)', async () => {
    const run = await runCli(['pacemaker', 'config'], { cluster: loaded(SERVICE_FILE) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^<cib validate-with="pacemaker-3.9"/);
    expect(run.stdout).toContain('<rsc_order id="order-drbd-r0-clone-promote-then-g-db"');
    expect(run.stdout.endsWith('</cib>\n')).toBe(true);
  });

  it('--format crm and --format pcs; --topology guests', async () => {
    const crm = await runCli(['pacemaker', 'config', '--format', 'crm'], { cluster: loaded(SERVICE_FILE) });
    expect(crm.code).toBe(0);
    expect(crm.stdout).toMatch(/^configure\n/);
    expect(crm.stdout).toMatch(/\ncommit\n$/);
    const pcs = await runCli(['pacemaker', 'config', '--format', 'pcs'], { cluster: loaded(GUESTS_FILE) });
    expect(pcs.code).toBe(0);
    expect(pcs.stdout.split('\n')[0]).toBe('pcs property set stonith-enabled=true priority-fencing-delay=10s');
    expect(pcs.stdout).toContain('pcs constraint order start dlm-clone then start lvmlockd-clone kind=Mandatory id=order-dlm-clone-then-lvmlockd-clone\n');
    const both = structuredClone(GUESTS_FILE) as Record<string, any>;
    both.pacemaker.service = SERVICE_FILE.pacemaker.service;
    const chosen = await runCli(['pacemaker', 'config', '--topology', 'service', '--format', 'crm'], { cluster: loaded(both) });
    expect(chosen.stdout).toContain('group g-db fs-r0 ip-db db');
  });

  it('--json: topology, resource, format, the spec and the output (pcs as argv arrays)', async () => {
    const run = await runCli(['pacemaker', 'config', '--format', 'pcs', '--json'], { cluster: loaded(GUESTS_FILE) });
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ topology: 'guests', resource: 'r0', format: 'pcs' });
    expect(json.config.clones).toHaveLength(4);
    expect(json.output[0]).toEqual(['pcs', 'property', 'set', 'stonith-enabled=true', 'priority-fencing-delay=10s']);
  });

  it('a refused configuration is exit 4 with the rule and the fix on stderr, nothing on stdout', async () => {
    const f = structuredClone(SERVICE_FILE) as Record<string, any>;
    f.resources.r0.disk.fencing = 'resource-only';
    const run = await runCli(['pacemaker', 'config'], { cluster: loaded(f) });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^hastor: refusing to generate this Pacemaker configuration: DRBD resource r0 uses fencing resource-only.*Fix: .*resource-and-stonith.*\(rule drbd-fencing-resource-only;/);
    const g = structuredClone(SERVICE_FILE) as Record<string, any>;
    g.pacemaker.fencing.devices = [];
    const none = await runCli(['pacemaker', 'config', '--format', 'pcs'], { cluster: loaded(g) });
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('rule no-stonith-device');
  });

  it('a file without a pacemaker section is bad input (exit 3); a bad option value is usage (exit 2)', async () => {
    const { pacemaker: _p, ...old } = SERVICE_FILE;
    const run = await runCli(['pacemaker', 'config'], { cluster: loaded(old) });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('has no "pacemaker" section');
    const bad = await runCli(['pacemaker', 'config', '--format', 'xml'], { cluster: loaded(SERVICE_FILE) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are cib, crm, pcs/);
  });

  it('--cluster after the subcommand names the file (exit 3 when it cannot be read)', async () => {
    const run = await runCli(['pacemaker', 'config', '--cluster', '/nonexistent/cluster.json']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('/nonexistent/cluster.json');
  });
});
