import { describe, expect, it } from 'vitest';
import { CommandError } from '../../../../src/errors.js';
import { DrbdNode } from '../../../../src/drbd/lifecycle/drbd-node.js';
import { ScriptedExecutor, capture } from './scripted-executor.js';

const EVENTS2 = 'drbdsetup events2 --now --statistics r0';

function node(): ScriptedExecutor {
  return new ScriptedExecutor('node2').reply('drbdadm --version', 'version');
}

describe('DrbdNode (one node, through its executor)', () => {
  it('reads versions once, as root (a normal user’s PATH over ssh lacks /usr/sbin)', async () => {
    const ex = node();
    const drbd = new DrbdNode(ex);
    expect((await drbd.versions()).kernel).toBe('8.4.11');
    await drbd.versions();
    expect(ex.calls.filter((c) => c.argv[0] === 'drbdadm')).toEqual([{ argv: ['drbdadm', '--version'], root: true }]);
    await drbd.versions(true);
    expect(ex.commands.filter((c) => c === 'drbdadm --version')).toHaveLength(2);
  });

  it('reads one resource from events2 with the 8.4 placeholders dropped, or null when it is not up', async () => {
    const ex = node().reply(EVENTS2, 'events2-absent', 'events2-secondary');
    const drbd = new DrbdNode(ex);
    expect(await drbd.status('r0')).toBeNull();
    const s = await drbd.status('r0');
    expect(s).toMatchObject({ name: 'r0', role: 'Secondary', connections: [{ peerNodeId: null, name: null, connectionState: 'Connected', peerRole: 'Primary' }] });
    expect(ex.calls.find((c) => c.argv[0] === 'drbdsetup')?.root).toBe(true);
  });

  it('reads the running configuration, null when the resource is not up (rc 20)', async () => {
    const ex = node().reply('drbdsetup show r0', 'show-absent', 'show-two-primaries-node2');
    const drbd = new DrbdNode(ex);
    expect(await drbd.runningConfig('r0')).toBeNull();
    expect((await drbd.runningConfig('r0'))?.nets[0]?.['allow-two-primaries']).toBe('yes');
  });

  it('finds who uses the device: mounts, holders, open fds (find rc 1 accepted)', async () => {
    const ex = node()
      .reply('cat -- /sys/block/drbd0/dev', 'sys-dev')
      .reply('ls -1 -- /sys/block/drbd0/holders', 'holders-dm')
      .reply('cat -- /proc/self/mountinfo', 'mountinfo-mounted')
      .reply(['find', '/proc', '-mindepth', '3', '-maxdepth', '3', '-path', '/proc/[0-9]*/fd/*', '(', '-lname', '/dev/drbd0', ')', '-print'], 'fd-scan-open');
    expect(await new DrbdNode(ex).deviceUse(0)).toEqual({ minor: 0, devNumber: '147:0', holders: ['dm-3'], mounts: ['/mnt/r0 data'], openBy: [806] });
  });

  it('says nobody uses a minor that does not exist', async () => {
    const ex = node().reply('cat -- /sys/block/drbd9/dev', 'sys-dev-missing');
    expect(await new DrbdNode(ex).deviceUse(9)).toEqual({ minor: 9, devNumber: null, holders: [], mounts: [], openBy: [] });
  });

  it('reads a file, null when missing, other errors thrown', async () => {
    const ex = node().reply('cat -- /etc/drbd.d/r0.res', 'cat-config-missing', 'cat-config').reply('cat -- /etc/drbd.d/x.res', { stdout: '', stderr: 'cat: /etc/drbd.d/x.res: Permission denied\n', exitCode: 1 });
    const drbd = new DrbdNode(ex);
    expect(await drbd.readFileIfExists('/etc/drbd.d/r0.res')).toBeNull();
    expect(await drbd.readFileIfExists('/etc/drbd.d/r0.res')).toBe(capture('cat-config').stdout);
    await expect(drbd.readFileIfExists('/etc/drbd.d/x.res')).rejects.toBeInstanceOf(CommandError);
  });

  it('classifies backing devices and imports the node’s configuration', async () => {
    const ex = node().reply('wipefs --no-act --output TYPE --noheadings /dev/vg_lab/r0_disk', 'wipefs-drbd').reply('drbdadm dump r0', 'dump-node2-edited');
    const drbd = new DrbdNode(ex);
    expect(await drbd.signatures('/dev/vg_lab/r0_disk')).toMatchObject({ drbdMetaData: true, foreign: [] });
    const def = await drbd.importConfig('r0');
    expect(def.net.pingInt).toBe(5);
    expect(def.nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
  });
});
