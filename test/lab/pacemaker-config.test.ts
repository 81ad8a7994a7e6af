/**
 * hastor's generated Pacemaker configuration against Pacemaker's own tools
 * on this host (no cluster, no UML nodes): crm_verify accepts the CIB of both
 * topologies and refuses it without STONITH in Pacemaker's words;
 * crm_simulate promotes DRBD on one node (service) or two (guests) and starts
 * the file system, service, VG and guest where they belong; the crm script
 * (crm -f) and the pcs commands (pcs -f) applied to empty CIB files give the
 * same resources and constraints as the CIB rendering; and `applyPacemakerConfig`
 * with the real cibadmin, crm_mon and crm_verify on a CIB file (CIB_file)
 * applies once, then changes nothing, then only what changed.
 *
 * Needs pacemaker-cli-utils, crmsh and pcs (npm run lab:setup) and the agents
 * they check: ocf:linbit:drbd (drbd-utils), resource-agents, fence_virsh
 * (fence-agents).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CibChangedError, parseCib, planPacemakerApply } from '../../src/pacemaker/index.js';
import { renderCib, renderCrmScript, renderPcsCommands } from '../../src/pacemaker/generate/index.js';
import { parseClusterFile } from '../../src/stack/cluster-file.js';
import { applyStackPacemakerConfig } from '../../src/stack/pacemaker-apply.js';
import { generateStackPacemakerConfig } from '../../src/stack/pacemaker-config.js';
import { LocalExecutor, type ExecOptions } from '../../src/sys/executor.js';

const dir = mkdtempSync(join(tmpdir(), 'hastor-pcmk-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const r0 = {
  target: '8.4',
  protocol: 'C',
  net: { allowTwoPrimaries: true, afterSb0pri: 'discard-zero-changes', afterSb1pri: 'discard-secondary', afterSb2pri: 'disconnect' },
  disk: { fencing: 'resource-and-stonith' },
  handlers: { fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' },
  nodes: [1, 2].map((i) => ({
    name: `node${i}`,
    address: `ipv4 10.99.0.${i}:7789`,
    volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: '/dev/vg_lab/r0_disk', metaDisk: 'internal' }],
  })),
};
const CLUSTER = {
  nodes: [
    { name: 'node1', local: true },
    { name: 'node2', ssh: { host: '10.99.0.2', user: 'hastor' } },
  ],
  resources: { r0 },
  pacemaker: {
    fencing: {
      devices: [1, 2].map((i) => ({
        id: `fence-node${i}`,
        agent: 'fence_virsh',
        params: { ip: '10.99.0.254', username: 'fence', password: 'secret', plug: `node${i}`, pcmk_host_list: `node${i}` },
      })),
    },
    service: {
      id: 'db',
      agent: 'ocf:heartbeat:mysql',
      // A value with spaces, quotes and a shell metacharacter: each format must carry it unchanged.
      params: { additional_parameters: `--bind-address=0.0.0.0 --init-file="/srv/db/init it.sql" $HOME` },
      filesystem: { directory: '/srv/db', fstype: 'ext4' },
      ip: { address: '10.99.0.100', cidrNetmask: 24 },
    },
    guests: { vg: 'vg_shared', list: [{ id: 'vm1', params: { config: '/etc/libvirt/qemu/vm1.xml', hypervisor: 'qemu:///system' } }] },
  },
};
const file = parseClusterFile(JSON.stringify(CLUSTER), 'lab-cluster.json');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
/** Runs a tool; a non-zero exit is a result, a missing tool an error. Async: the two topologies run side by side (pcs is slow to start). */
function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') reject(new Error(`${cmd} not found (npm run lab:setup installs pacemaker-cli-utils, crmsh and pcs)`));
      else resolve({ status: error === null ? 0 : typeof code === 'number' ? code : ((error as { status?: number }).status ?? -1), stdout, stderr });
    });
  });
}

const emptyCib = (path: string): void => writeFileSync(path, execFileSync('cibadmin', ['--empty'], { encoding: 'utf8' }));

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (v: string): string => v.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITY[e] as string);

/** The attributes of every `<tag …>` in an XML text (enough for CIB files: no CDATA, no comments we care about). */
function tags(xml: string, name: string): Record<string, string>[] {
  return [...xml.matchAll(new RegExp(`<${name}\\s([^>]*?)/?>`, 'g'))].map((m) =>
    Object.fromEntries([...(m[1] as string).matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1] as string, unescape(a[2] as string)])),
  );
}

/** What must agree between the three renderings: resources by id and agent, groups with their order, constraints, our properties. */
function summary(xml: string, properties: string[]): Record<string, unknown> {
  const groups = [...xml.matchAll(/<group id="([^"]+)"[^>]*>([\s\S]*?)<\/group>/g)].map((m) => `${m[1]}: ${tags(m[2] as string, 'primitive').map((p) => p.id).join(' ')}`);
  const clones = [...xml.matchAll(/<clone id="([^"]+)"[^>]*>[\s\S]*?<(?:primitive|group) id="([^"]+)"/g)].map((m) => `${m[1]} of ${m[2]}`);
  const settings = tags(xml, 'nvpair').filter((n) => properties.includes(n.name as string) && (n.id as string).startsWith('cib-bootstrap-options'));
  return {
    primitives: tags(xml, 'primitive').map((p) => `${p.id} ${p.class}:${p.provider ?? ''}:${p.type}`).sort(),
    params: [...xml.matchAll(/<primitive id="([^"]+)"[^>]*>\s*<instance_attributes[^>]*>([\s\S]*?)<\/instance_attributes>/g)]
      .flatMap((m) => tags(m[2] as string, 'nvpair').map((n) => `${m[1]} ${n.name}=${n.value}`))
      .sort(),
    groups: groups.sort(),
    clones: clones.sort(),
    colocations: tags(xml, 'rsc_colocation')
      .map((c) => `${c.id}: ${c.rsc}:${c['rsc-role'] ?? 'Started'} with ${c['with-rsc']}:${c['with-rsc-role'] ?? 'Started'} ${c.score}`)
      .sort(),
    orders: tags(xml, 'rsc_order')
      .map((o) => `${o.id}: ${o.first}:${o['first-action'] ?? 'start'} then ${o.then}:${o['then-action'] ?? 'start'} ${o.kind ?? 'Mandatory'}`)
      .sort(),
    properties: settings.map((n) => `${n.name}=${n.value}`).sort(),
  };
}

/** The status lines of crm_simulate's "Revised Cluster Status". */
function revised(out: string): string {
  const at = out.indexOf('Revised Cluster Status');
  expect(at, out).toBeGreaterThan(-1);
  return out.slice(at);
}

describe.concurrent.each([
  { topology: 'service' as const, promoted: ['node1'] },
  { topology: 'guests' as const, promoted: ['node1', 'node2'] },
])('topology $topology against Pacemaker 2.1 tools', ({ topology, promoted }) => {
  const { config } = generateStackPacemakerConfig(file, { topology });
  const cibPath = join(dir, `${topology}.xml`);
  const xml = renderCib(config);
  writeFileSync(cibPath, xml);

  it('crm_verify accepts the CIB', async () => {
    const r = await run(['crm_verify', '-x', cibPath, '-V']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('without the STONITH devices crm_verify refuses it, in Pacemaker\'s words', async () => {
    const copy = join(dir, `${topology}-nostonith.xml`);
    writeFileSync(copy, xml.replace(/ *<primitive id="[^"]+" class="stonith"[\s\S]*?<\/primitive>\n/g, ''));
    expect(readFileSync(copy, 'utf8')).not.toContain('class="stonith"');
    const r = await run(['crm_verify', '-x', copy, '-V']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Resource start-up disabled since no STONITH resources have been defined');
  });

  it(`crm_simulate: DRBD promoted on ${promoted.length} node(s), the stack started there`, async () => {
    // First transition: both nodes up (with quorum), everything that needs no promotion starts.
    const sim = join(dir, `${topology}-sim.xml`);
    writeFileSync(sim, xml);
    const after = join(dir, `${topology}-sim-1.xml`);
    const first = await run(['crm_simulate', '-x', sim, '-S', '-q', '1', '-u', 'node1', '-u', 'node2', '-O', after]);
    expect(first.status, first.stderr).toBe(0);
    expect(revised(first.stdout)).toMatch(/Unpromoted: \[ node1 node2 \]/);
    // The drbd agent sets promotion scores from DRBD's state; here node1 is preferred, node2 may also be promoted.
    for (const [node, score] of [['node1', '10000'], ['node2', '1000']] as const) {
      const r = await run(['crm_attribute', '-N', node, '-n', 'master-drbd-r0', '-v', score, '-l', 'reboot'], { CIB_file: after });
      expect(r.status, r.stderr).toBe(0);
    }
    const second = await run(['crm_simulate', '-x', after, '-S', '-q', '1']);
    expect(second.status, second.stderr).toBe(0);
    const status = revised(second.stdout);
    expect(status).toContain(`Promoted: [ ${promoted.join(' ')} ]`);
    if (topology === 'service') {
      expect(status).toMatch(/Unpromoted: \[ node2 \]/);
      for (const id of ['fs-r0', 'ip-db', 'db']) expect(status).toMatch(new RegExp(`\\* ${id}\\s+\\([^)]+\\):\\s+Started node1`));
      expect(second.stdout).toMatch(/Resource action: drbd-r0\s+promote on node1/);
    } else {
      for (const clone of ['dlm-clone', 'lvmlockd-clone', 'lvm-vg_shared-clone']) {
        expect(status).toMatch(new RegExp(`Clone Set: ${clone} \\[[^\\]]+\\]:\\n\\s+\\* Started: \\[ node1 node2 \\]`));
      }
      expect(status).toMatch(/\* vm1\s+\(ocf:heartbeat:VirtualDomain\):\s+Started node[12]/);
    }
  });

  it('crm -f and pcs -f on empty CIBs give the same resources and constraints as the CIB rendering', async () => {
    const properties = Object.keys(config.properties);
    const want = summary(xml, properties);

    const crmScript = join(dir, `${topology}.crm`);
    writeFileSync(crmScript, renderCrmScript(config));
    const crmCib = join(dir, `${topology}-crm.xml`);
    emptyCib(crmCib);
    const pcsCib = join(dir, `${topology}-pcs.xml`);
    emptyCib(pcsCib);
    const viaCrm = async (): Promise<void> => {
      const crm = await run(['crm', '-f', crmScript], { CIB_file: crmCib });
      expect(crm.status, crm.stderr).toBe(0);
    };
    const viaPcs = async (): Promise<void> => {
      for (const argv of renderPcsCommands(config, { cibFile: pcsCib })) {
        const r = await run(argv);
        expect(r.status, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      }
    };
    await Promise.all([viaCrm(), viaPcs()]);
    expect(summary(readFileSync(crmCib, 'utf8'), properties)).toEqual(want);
    expect(summary(readFileSync(pcsCib, 'utf8'), properties)).toEqual(want);
    // Both results are valid CIBs too.
    for (const path of [crmCib, pcsCib]) expect((await run(['crm_verify', '-x', path])).status).toBe(0);
    // What crm -f made is what apply would write: only its record is missing (pcs adds the agents' default ops).
    expect(planPacemakerApply(readFileSync(crmCib, 'utf8'), config).changes.map((c) => `${c.action} ${c.kind}`)).toEqual(['add record']);
  });
});

describe('pacemaker apply with Pacemaker 2.1 tools on a CIB file (CIB_file)', () => {
  const path = join(dir, 'apply.xml');
  const env = { CIB_file: path };
  const executor = new LocalExecutor('node1');
  const query = async (): Promise<string> => (await run(['cibadmin', '-Q'], env)).stdout;
  const epoch = async (): Promise<number | null> => parseCib(await query()).epoch;
  const serviceWith = (edit: (f: Record<string, any>) => void) => {
    const copy = structuredClone(CLUSTER) as Record<string, any>;
    edit(copy);
    return parseClusterFile(JSON.stringify(copy), 'lab-cluster.json');
  };

  /** cibadmin --empty, both nodes joined (crm_simulate) and node1 the DC: crm_mon sees a cluster at rest. */
  const settledCib = async (target: string): Promise<void> => {
    const empty = `${target}.empty`;
    emptyCib(empty);
    const up = await run(['crm_simulate', '-x', empty, '-u', 'node1', '-u', 'node2', '-q', '1', '-S', '-O', target]);
    expect(up.status, up.stderr).toBe(0);
    expect((await run(['cibadmin', '--modify', '--xml-text', '<cib dc-uuid="node1"/>'], { CIB_file: target })).status).toBe(0);
  };

  it('applies to an empty CIB, then changes nothing, then only the changed param; a stale patch is refused whole', async () => {
    await settledCib(path);

    const first = await applyStackPacemakerConfig(file, executor, { env });
    expect(first.result).toMatchObject({ applied: true, already: false, verify: { ok: true } });
    expect(first.result.after?.epoch).toBe(first.result.before.epoch + 1);
    const verify = await run(['crm_verify', '-x', path, '-V']);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    const live = parseCib(await query());
    expect(live.resources.map((r) => r.id)).toEqual(['fence-node1', 'fence-node2', 'drbd-r0-clone', 'g-db']);
    expect(live.properties).toMatchObject({ 'stonith-enabled': 'true', 'priority-fencing-delay': '10s' });

    // Again: nothing written, the same epoch and the same document.
    const applied = await query();
    const again = await applyStackPacemakerConfig(file, executor, { env });
    expect(again.result).toMatchObject({ already: true, applied: false, changes: [] });
    expect(await query()).toBe(applied);

    // One param changed: one object replaced in place, and Pacemaker's own diff shows only that value (and the version) moved.
    const changed = serviceWith((f) => (f.pacemaker.service.params.datadir = '/srv/db/data'));
    const dry = await applyStackPacemakerConfig(changed, executor, { env, dryRun: true });
    expect(dry.result.changes).toEqual([{ action: 'replace', kind: 'resource', id: 'g-db', element: 'group', attributes: [{ name: 'db/params.datadir', before: null, after: '/srv/db/data' }] }]);
    expect(await query()).toBe(applied);
    const third = await applyStackPacemakerConfig(changed, executor, { env });
    expect(third.result).toMatchObject({ applied: true, verify: { ok: true } });
    const before = join(dir, 'apply-before.xml');
    const after = join(dir, 'apply-after.xml');
    writeFileSync(before, applied);
    writeFileSync(after, await query());
    const diff = await run(['crm_diff', '--original', before, '--new', after]);
    const paths = [...diff.stdout.matchAll(/<change operation="(\w+)" path="([^"]+)"/g)].map((m) => `${m[1]} ${unescape(m[2] as string)}`);
    expect(paths.filter((p) => p !== 'modify /cib'), diff.stdout).toEqual([
      "create /cib/configuration/resources/group[@id='g-db']/primitive[@id='db']/instance_attributes[@id='db-instance_attributes']",
    ]);
    expect((await applyStackPacemakerConfig(changed, executor, { env })).result.already).toBe(true);
    expect(await epoch()).toBe(third.result.after?.epoch);

    // A patch planned before someone else's change is refused by cibadmin itself (exit 103), and nothing of it lands.
    const stale = planPacemakerApply(await query(), generateStackPacemakerConfig(file).config);
    expect(stale.patch).not.toBeNull();
    expect((await run(['crm_attribute', '--type', 'crm_config', '--name', 'cluster-name', '--update', 'lab'], env)).status).toBe(0);
    const refused = await run(['cibadmin', '--patch', '--xml-text', stale.patch as string], env);
    expect(refused.status).toBe(103);
    expect(refused.stderr).toContain('Update was older than existing configuration');
    expect(await query()).toContain('value="/srv/db/data"');

    // Through applyPacemakerConfig: a change landing between its read and its write is a CibChangedError, nothing written.
    const racing = Object.assign(Object.create(executor) as LocalExecutor, {
      run: async (argv: readonly string[], options?: ExecOptions) => {
        if (argv[1] === '--patch') await run(['crm_attribute', '--type', 'crm_config', '--name', 'cluster-name', '--update', 'lab2'], env);
        return executor.run(argv, options);
      },
    });
    const error = await applyStackPacemakerConfig(file, racing, { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CibChangedError);
    expect(await query()).toContain('value="/srv/db/data"');
  });

  it('the guests topology applies to an empty CIB, passes crm_verify, and is a no-op the second time', async () => {
    const guests = join(dir, 'apply-guests.xml');
    await settledCib(guests);
    const first = await applyStackPacemakerConfig(file, executor, { env: { CIB_file: guests }, topology: 'guests' });
    expect(first.result).toMatchObject({ applied: true, verify: { ok: true } });
    expect((await run(['crm_verify', '-x', guests])).status).toBe(0);
    const again = await applyStackPacemakerConfig(file, executor, { env: { CIB_file: guests }, topology: 'guests' });
    expect(again.result).toMatchObject({ already: true, before: first.result.after });
  });
});
