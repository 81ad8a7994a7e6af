/**
 * The compiled `hastor` CLI inside a two-node lab, as an operator runs it:
 * on node1 (`node <repo>/bin/hastor.js …`, the repository is at the same
 * path in the guests) with a cluster file where node1 is local and node2 is
 * reached over ssh as the unprivileged user `hastor` (key in node1's
 * ssh-agent only, sudo -n for root commands). Resource commands plan and run
 * on both nodes; `hastor watch` runs in a tmux session on node1 during the
 * initial sync, and the pane is captured while the progress bar, percent and
 * ETA are redrawn in place.
 *
 * The tests build on each other (one lab, r0 created once); run the file.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSetupJsonSchema, lvmReportJsonSchema, operationJsonSchema } from '../../src/cli/json-contract.js';
import { doctorReportSchema } from '../../src/stack/doctor.js';
import { createLv, createVg, loadModules, procWords, resource as labResource, upToDateBoth, waitForProc } from './drbd-scenario.js';
import { startLab, type Lab } from './harness/lab.js';
import type { ExecResult, LabNode } from './harness/lab-node.js';
import { GUEST_NODE, projectRoot } from './harness/paths.js';
import { AGENT_SOCKET, BASE_SUDOERS, KNOWN_HOSTS, setupSshAccess } from './ssh-setup.js';

const CLUSTER_FILE = '/etc/hastor/cluster.json';
const TMUX = ['tmux', '-L', 'hastor-lab'];
// What the CLI runs as root on node2 besides BASE_SUDOERS: delete's rm, lvm reports (`--node node2`).
const SUDOERS = `${BASE_SUDOERS}hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C rm -f -- /etc/drbd.d/*.res
hastor ALL=(root) NOPASSWD: /usr/bin/env LC_ALL\\=C lvm version, /usr/bin/env LC_ALL\\=C pvs *, /usr/bin/env LC_ALL\\=C vgs *, /usr/bin/env LC_ALL\\=C lvs *
`;

let lab: Lab;
let node1: LabNode;
let node2: LabNode;

/** `hastor <args>` on node1, with the agent for ssh to node2. */
function hastor(args: string[], timeoutMs = 120_000): Promise<ExecResult> {
  return node1.exec([GUEST_NODE, `${projectRoot()}/bin/hastor.js`, ...args], { env: { SSH_AUTH_SOCK: AGENT_SOCKET }, timeoutMs });
}

const json = (result: ExecResult): unknown => {
  try {
    return JSON.parse(result.stdout);
  } catch {
    throw new Error(`not JSON (exit ${result.exitCode}):\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
};

const pane = async (history = false): Promise<string> =>
  (await node1.execOk([...TMUX, 'capture-pane', '-p', '-t', 'watch', ...(history ? ['-S', '-'] : [])])).stdout;

beforeAll(async () => {
  lab = await startLab({ nodes: 2, disksMiB: [512] });
  [node1, node2] = lab.nodes as [LabNode, LabNode];
  await loadModules(lab.nodes);
  const spec = labResource('r0', 0, 128);
  await Promise.all([node1, node2].map(async (n) => { await createVg(n); await createLv(n, spec); }));
  // sshd in node2, the agent with the key in node1 (where the CLI runs).
  await setupSshAccess(node2, node1, SUDOERS);
  const clusterFile = {
    nodes: [
      { name: node1.name, local: true },
      {
        name: node2.name,
        ssh: { host: node2.address, user: 'hastor', knownHostsFile: KNOWN_HOSTS, controlDir: '/run/hastor-ssh', options: { ConnectTimeout: '10' } },
        sudo: true,
      },
    ],
    resources: {
      r0: {
        target: '8.4',
        protocol: 'C',
        net: { pingInt: 3, pingTimeout: 10, connectInt: 3, timeout: 20, verifyAlg: 'crc32c' },
        // A fixed, slow resync: 128 MiB at 4 MiB/s lasts ~30 s, long enough to watch.
        disk: { cPlanAhead: 0, resyncRate: '4M' },
        nodes: [node1, node2].map((n) => ({
          name: n.name,
          address: `ipv4 ${n.address}:7789`,
          volumes: [{ volume: 0, minor: 0, device: '/dev/drbd0', disk: '/dev/vg_lab/r0_disk', metaDisk: 'internal' }],
        })),
      },
    },
  };
  await node1.execOk(['mkdir', '-p', '/etc/hastor']);
  await node1.writeFile(CLUSTER_FILE, `${JSON.stringify(clusterFile, null, 2)}\n`);
}, 240_000);

afterAll(async () => {
  await node1?.exec([...TMUX, 'kill-server']).catch(() => undefined);
  await lab?.stop();
});

describe('hastor resource on two nodes (node2 over ssh with sudo -n)', () => {
  it('create --dry-run prints the plan for both nodes and changes nothing', async () => {
    const run = await hastor(['resource', 'create', 'r0', '--dry-run']);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^resource create r0: would run\n/);
    for (const line of ['node1  write /etc/drbd.d/r0.res (mode 0644)', 'node2  write /etc/drbd.d/r0.res (mode 0644)', 'node2  drbdadm create-md r0', 'node2  drbdadm up r0', 'node1  drbdadm primary --force r0']) {
      expect(run.stdout).toContain(line);
    }
    expect((await node2.exec(['test', '-e', '/etc/drbd.d/r0.res'])).exitCode).toBe(1);
    const plan = operationJsonSchema.parse(json(await hastor(['resource', 'create', 'r0', '--dry-run', '--json'])));
    expect(plan.actions.filter((a) => a.node === 'node2').map((a) => a.argv.join(' '))).toEqual(['write-file /etc/drbd.d/r0.res', 'drbdadm create-md r0', 'drbdadm up r0']);
    expect(plan.state).toEqual({ node1: null, node2: null });
  });

  it('hastor watch in a tmux pane on node1 redraws the initial sync in place: bar, percent and ETA advance', async () => {
    // A shell around watch keeps the pane after Ctrl-C so its exit code can be read.
    await node1.execOk([
      ...TMUX,
      'new-session', '-d', '-s', 'watch', '-x', '160', '-y', '45',
      `${GUEST_NODE} ${projectRoot()}/bin/hastor.js watch --interval 0.5; echo "watch exit=$?"; sleep 600`,
    ]);
    for (let i = 0; i < 50 && !(await pane()).includes('hastor watch'); i++) await sleep(200);
    expect(await pane()).toContain('no DRBD devices configured');

    const create = await hastor(['resource', 'create', 'r0', '--no-wait']);
    expect(create.stderr).toBe('');
    expect(create.exitCode).toBe(0);
    expect(create.stdout).toContain('done: 8 actions ran');

    const samples: { percent: number; eta: number | null; text: string }[] = [];
    for (let i = 0; i < 8; i++) {
      await sleep(2500);
      const text = await pane();
      const m = /\[([#.]{20})\] (\d+\.\d)%/.exec(text);
      if (m) samples.push({ percent: Number(m[2]), eta: Number(/ETA (\d+) s/.exec(text)?.[1] ?? NaN) || null, text });
    }
    const percents = samples.map((s) => s.percent);
    expect(samples.length, `no progress bar on the pane; last pane:\n${await pane()}`).toBeGreaterThanOrEqual(3);
    // Advancing: strictly increasing over the samples, not stuck.
    expect(new Set(percents).size).toBeGreaterThanOrEqual(3);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(samples.some((s) => s.eta !== null && s.eta > 0)).toBe(true);
    expect(samples[0]?.text).toMatch(/SyncSource|SyncTarget/);
    // Redrawn in place: the pane's whole history holds one frame, not one per redraw.
    const history = await pane(true);
    expect(history.match(/hastor watch {2}\d\d:\d\d:\d\d/g)?.length).toBe(1);

    await waitForProc(node1, 0, upToDateBoth, 'UpToDate/UpToDate', 120_000);
    await sleep(1500);
    const after = await pane();
    expect(after).toMatch(/UpToDate\/UpToDate/);
    expect(after).toMatch(/replicationState: Sync(Source|Target) -> Established/);
    expect(after).not.toMatch(/\] \d+\.\d%/);

    await node1.execOk([...TMUX, 'send-keys', '-t', 'watch', 'C-c']);
    for (let i = 0; i < 25 && !(await pane()).includes('watch exit='); i++) await sleep(200);
    expect(await pane()).toContain('watch exit=0');
  });

  it('create again: nothing to do', async () => {
    const again = operationJsonSchema.parse(json(await hastor(['resource', 'create', 'r0', '--json'])));
    expect(again.actions).toEqual([]);
    expect(again.state.node2?.[0]).toMatchObject({ role: 'Secondary', diskState: 'UpToDate', peerDiskState: 'UpToDate', replicationState: 'Established' });
  });

  it('primary on node1, then dual-primary begin is refused by a safety rule (exit 4)', async () => {
    const primary = operationJsonSchema.parse(json(await hastor(['resource', 'primary', 'r0', '--node', 'node1', '--json'])));
    expect(primary.actions.map((a) => `${a.node}: ${a.argv.join(' ')}`)).toEqual(['node1: drbdadm primary r0']);
    expect(primary.state.node1?.[0]?.role).toBe('Primary');
    expect(procWords((await node1.execOk(['cat', '/proc/drbd'])).stdout, 0)?.ro).toBe('Primary/Secondary');

    const begin = await hastor(['dual-primary', 'begin', 'r0', '--dry-run']);
    expect(begin.exitCode).toBe(4);
    expect(begin.stderr).toMatch(/^hastor: refusing dual-primary for r0: .*rule dual-primary-requires-/);
    expect(procWords((await node2.execOk(['cat', '/proc/drbd'])).stdout, 0)?.ro).toBe('Secondary/Primary');
  });

  it('doctor finds no error on the healthy pair (exit 0, JSON contract)', async () => {
    const run = await hastor(['doctor', '--json']);
    const report = doctorReportSchema.parse(json(run));
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(report.nodes).toEqual(['node1', 'node2']);
  });

  it('lvm report --node node2 reads node2\'s VGs over ssh with sudo -n', async () => {
    const run = await hastor(['lvm', 'report', 'vgs', '--node', 'node2', '--json']);
    expect(run.stderr).toBe('');
    const report = lvmReportJsonSchema.parse(json(run));
    expect(report.node).toBe('node2');
    expect(report.vgs?.items.map((v) => v.name)).toEqual(['vg_lab']);
  });

  it('lvm cluster-setup --dry-run shows each node\'s lvmlockd edits and changes nothing', async () => {
    const before = (await node2.execOk(['cat', '/etc/lvm/lvm.conf'])).stdout;
    const run = await hastor(['lvm', 'cluster-setup', '--dry-run', '--json', '--node', 'node1']);
    const result = clusterSetupJsonSchema.parse(json(run));
    expect(result.nodes[0]?.edits.some((e) => e.path === 'global/use_lvmlockd' && e.new === 1)).toBe(true);
    expect((await node2.execOk(['cat', '/etc/lvm/lvm.conf'])).stdout).toBe(before);
  });

  it('secondary, then delete: refused without --yes, done with it on both nodes', async () => {
    expect((await hastor(['resource', 'secondary', 'r0', '--node', 'node1'])).exitCode).toBe(0);
    const refused = await hastor(['resource', 'delete', 'r0']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('run it again with --yes');
    expect((await node2.exec(['test', '-e', '/etc/drbd.d/r0.res'])).exitCode).toBe(0);

    const deleted = await hastor(['resource', 'delete', 'r0', '--yes']);
    expect(deleted.stderr).toBe('');
    expect(deleted.exitCode).toBe(0);
    expect(deleted.stdout).toContain('node2  drbdadm -- --force wipe-md r0');
    for (const n of [node1, node2]) {
      expect((await n.exec(['test', '-e', '/etc/drbd.d/r0.res'])).exitCode).toBe(1);
      expect((await n.execOk(['wipefs', '--no-act', '--output', 'TYPE', '--noheadings', '/dev/vg_lab/r0_disk'])).stdout).not.toContain('drbd');
    }
  });
});
