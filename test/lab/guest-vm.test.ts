/**
 * Tier 3 in the lab: node3 is the VM, its disk an LV of node1 exported over
 * iSCSI (LIO on node1, open-iscsi in node3), grown ONLINE: lvextend on
 * node1, a SCSI rescan in node3, then pvresize/lvextend/resize2fs (and
 * xfs_growfs) inside the guest while its filesystem stays mounted.
 *
 * node1 uses plain LVM on /dev/ubda here, not an LV on /dev/drbd0: DRBD sits
 * below the exported LV and does not change what the transport and the
 * guest see, so it is left out to prove the transport and the rescan path
 * alone. node2 only serves as an initiator the ACL must keep out.
 *
 * One lab for the file; the tests build on each other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secondsSince } from './drbd-scenario.js';
import {
  attachIscsiDisk,
  backstoreName,
  blockDeviceBytes,
  detachIscsiDisk,
  exportBlockDeviceIscsi,
  exportSerial,
  GUEST_LVM_CONF,
  removeIscsiExport,
  rescanIscsiDisk,
  stopIscsiInitiator,
  type IscsiDisk,
} from './guest-vm.js';
import { startLab, type Lab } from './harness/lab.js';
import type { LabNode } from './harness/lab-node.js';

const fileStart = Date.now();
const log = (line: string) => console.log(`[guest-vm +${secondsSince(fileStart)}] ${line}`);
const MiB = 2 ** 20;

const VG = 'vg_tier2';
const EXT4_LV = 'vm_ext4';
const XFS_LV = 'vm_xfs';
const EXT4_IQN = 'iqn.2025-01.lab.hastor:vm-ext4';
const XFS_IQN = 'iqn.2025-01.lab.hastor:vm-xfs';
const GUEST_IQN = 'iqn.2025-01.lab.hastor:node3';
const INTRUDER_IQN = 'iqn.2025-01.lab.hastor:node2';
const CONFIGFS = '/sys/kernel/config/target';


// Accept every device, to show what keeps the guest's PV out once the filter is open.
const OPEN_FILTER = 'devices { filter = [ "a|.*|" ] global_filter = [ "a|.*|" ] }';

const timings: Array<[string, number]> = [];
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const value = await fn();
  const ms = performance.now() - t;
  timings.push([label, ms]);
  log(`${label}: ${ms.toFixed(0)} ms`);
  return value;
}

let lab: Lab | undefined;
let node1: LabNode;
let node2: LabNode;
let node3: LabNode;
let ext4Disk: IscsiDisk;
let xfsDisk: IscsiDisk;
let ext4Sum = '';
let xfsSum = '';

const sh = async (node: LabNode, script: string, timeoutMs = 120_000): Promise<string> => (await node.execOk(script, { timeoutMs })).stdout;
const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

/** df of a mount point in bytes: [size, available]. */
async function df(node: LabNode, mountPoint: string): Promise<[number, number]> {
  const [size, avail] = words(await sh(node, `df -B1 --output=size,avail ${mountPoint} | tail -n1`)).map(Number);
  return [size as number, avail as number];
}

async function mountSource(node: LabNode, mountPoint: string): Promise<string> {
  return (await sh(node, `findmnt -n -o SOURCE ${mountPoint}`)).trim();
}

/** sha256 of a file, read back from the disk (page cache dropped first). */
async function coldSum(node: LabNode, path: string): Promise<string> {
  return words(await sh(node, `sync; echo 3 > /proc/sys/vm/drop_caches; sha256sum ${path}`))[0] as string;
}

describe('tier 3: a UML guest on an iSCSI-exported LV, grown online', () => {
  beforeAll(async () => {
    lab = await timed('boot 3 nodes', () => startLab({ nodes: 3 }));
    node1 = lab.node('node1');
    node2 = lab.node('node2');
    node3 = lab.node('node3');
    await node1.execOk(['modprobe', 'dm-mod']);
    await timed('node1: VG + 128 MiB LV', async () => {
      await node1.execOk(['vgcreate', '-y', VG, '/dev/ubda']);
      await node1.execOk(['lvcreate', '-y', '-L', '128m', '-n', EXT4_LV, VG]);
    });
    await node3.writeFile('/etc/lvm/lvm.conf', GUEST_LVM_CONF);
  });

  afterAll(async () => {
    if (!lab) return;
    // Best effort, so a failed test still leaves the target side clean before poweroff.
    await node3?.exec('umount /mnt/ext4 /mnt/xfs; vgchange -an vg_guest').catch(() => undefined);
    for (const iqn of [EXT4_IQN, XFS_IQN]) await detachIscsiDisk(node3, iqn).catch(() => undefined);
    for (const iqn of [EXT4_IQN, XFS_IQN]) await removeIscsiExport(node1, iqn).catch(() => undefined);
    await lab.stop();
    log(`timings:\n${timings.map(([label, ms]) => `  ${label.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms`).join('\n')}`);
  });

  it('exports the LV from node1 over iSCSI, idempotently, to one initiator', async () => {
    const dev = `/dev/${VG}/${EXT4_LV}`;
    await timed('export (LIO configfs)', () => exportBlockDeviceIscsi(node1, dev, { iqn: EXT4_IQN, initiatorIqn: GUEST_IQN }));
    await timed('export again (no-op)', () => exportBlockDeviceIscsi(node1, dev, { iqn: EXT4_IQN, initiatorIqn: GUEST_IQN }));

    const so = `${CONFIGFS}/core/iblock_0/${backstoreName(EXT4_IQN)}`;
    const tpg = `${CONFIGFS}/iscsi/${EXT4_IQN}/tpgt_1`;
    expect(await sh(node1, `cat ${so}/info`)).toMatch(/Status: ACTIVATED[\s\S]*UDEV PATH: \/dev\/vg_tier2\/vm_ext4/);
    expect((await sh(node1, `cat ${tpg}/enable ${tpg}/attrib/generate_node_acls ${tpg}/attrib/authentication`)).split('\n').slice(0, 3)).toEqual(['1', '0', '0']);
    expect(await sh(node1, `ls ${tpg}/acls`)).toBe(`${GUEST_IQN}\n`);
    expect(await sh(node1, `ls ${tpg}/np`)).toBe(`${node1.address}:3260\n`);
    // One LUN, one link, after two runs.
    expect((await sh(node1, `find ${tpg}/lun -maxdepth 2 -type l`)).trim().split('\n')).toHaveLength(1);
    expect(await sh(node1, 'ss -Hltn')).toContain(`${node1.address}:3260`);
    // The same IQN over another device is refused.
    await node1.execOk(['lvcreate', '-y', '-L', '8m', '-n', 'other', VG]);
    await expect(exportBlockDeviceIscsi(node1, `/dev/${VG}/other`, { iqn: EXT4_IQN, initiatorIqn: GUEST_IQN })).rejects.toThrow(/already serves/);
    await node1.execOk(['lvremove', '-y', `${VG}/other`]);
  });

  it('keeps an initiator without an ACL out', async () => {
    const refused = await timed('node2: attach attempt (refused)', () => attachIscsiDisk(node2, node1.address, EXT4_IQN, INTRUDER_IQN)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Error);
    log(`node2 refused: ${String((refused as Error).message).split('\n').filter((l) => /iscsiadm|lab:/.test(l)).join(' | ')}`);
    expect((refused as Error).message).toMatch(/authorization failure/);
    expect(await sh(node2, 'ls /sys/class/iscsi_session/ 2>/dev/null; grep -c " sd" /proc/partitions || true')).toBe('0\n');
    await stopIscsiInitiator(node2);
  });

  it('node3 attaches the disk and builds LVM + ext4 on it', async () => {
    ext4Disk = await timed('node3: iscsid + discovery + login + disk', () => attachIscsiDisk(node3, node1.address, EXT4_IQN, GUEST_IQN));
    log(`node3 sees ${EXT4_IQN} as ${ext4Disk.device} (${ext4Disk.session}, ${ext4Disk.scsiAddress})`);
    expect(ext4Disk.device).toMatch(/^\/dev\/sd[a-z]$/);
    // Attaching again finds the same session and disk.
    expect(await attachIscsiDisk(node3, node1.address, EXT4_IQN, GUEST_IQN)).toEqual(ext4Disk);
    expect(await blockDeviceBytes(node3, ext4Disk.device)).toBe(128 * MiB);
    const name = ext4Disk.device.slice('/dev/'.length);
    expect((await sh(node3, `cat /sys/block/${name}/device/vendor`)).trim()).toBe('LIO-ORG');
    expect(await sh(node3, `cat /sys/block/${name}/device/vpd_pg80`)).toContain(exportSerial(EXT4_IQN));

    await timed('node3: pvcreate + vgcreate + lvcreate', async () => {
      await node3.execOk(['pvcreate', '-y', ext4Disk.device]);
      await node3.execOk(['vgcreate', '-y', 'vg_guest', ext4Disk.device]);
      await node3.execOk(['lvcreate', '-y', '-l', '100%FREE', '-n', 'data', 'vg_guest']);
    });
    await timed('node3: mkfs.ext4 + mount', () => sh(node3, 'mkfs.ext4 -q /dev/vg_guest/data && mkdir -p /mnt/ext4 && mount /dev/vg_guest/data /mnt/ext4'));
    await timed('node3: write 16 MiB pattern + sync', () => sh(node3, 'head -c 16M /dev/urandom > /mnt/ext4/pattern && sync'));
    ext4Sum = await coldSum(node3, '/mnt/ext4/pattern');
    expect(ext4Sum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('node1 does not see the guest VG, and the guest sees only its disk', async () => {
    const pvs = async (config?: string): Promise<string[]> =>
      (await node1.execOk(['pvs', '--noheadings', '-o', 'pv_name,vg_name', ...(config ? ['--config', config] : [])])).stdout
        .split('\n')
        .map((l) => words(l).join(' '))
        .filter(Boolean);
    // The lab filter (ubd/drbd only) keeps /dev/dm-* out.
    expect(await pvs()).toEqual([`/dev/ubda ${VG}`]);
    // lvm2 2.03's default scan_lvs=0 keeps the guest PV out even with the filter open…
    expect((await sh(node1, 'lvmconfig --type full devices/scan_lvs')).trim()).toBe('scan_lvs=0');
    expect(await pvs(OPEN_FILTER)).toEqual([`/dev/ubda ${VG}`]);
    // …and is what does it: with scan_lvs=1 node1 would read the guest's VG from inside the LV.
    const exposed = await pvs(OPEN_FILTER.replace('devices {', 'devices { scan_lvs = 1'));
    expect(exposed).toContain(`/dev/${VG}/${EXT4_LV} vg_guest`);
    expect(words(await sh(node1, 'vgs --noheadings -o vg_name'))).toEqual([VG]);

    expect(words(await sh(node3, 'vgs --noheadings -o vg_name'))).toEqual(['vg_guest']);
    expect(words(await sh(node3, 'pvs --noheadings -o pv_name'))).toEqual([ext4Disk.device]);
  });

  it('grows online: lvextend on node1, iscsiadm rescan in node3, ext4 grown while mounted', async () => {
    const source = await mountSource(node3, '/mnt/ext4');
    const [sizeBefore] = await df(node3, '/mnt/ext4');
    expect(sizeBefore).toBeLessThan(128 * MiB);

    await timed('node1: lvextend 128 → 256 MiB', () => node1.execOk(['lvextend', '-L', '256m', `${VG}/${EXT4_LV}`]));
    expect(await blockDeviceBytes(node1, `/dev/${VG}/${EXT4_LV}`)).toBe(256 * MiB);
    // LIO raises no "capacity data has changed" unit attention: the guest keeps the old size until it rescans.
    expect(await blockDeviceBytes(node3, ext4Disk.device)).toBe(128 * MiB);
    const size = await timed('node3: iscsiadm -m session --rescan', () => rescanIscsiDisk(node3, ext4Disk, 'iscsiadm'));
    expect(size).toBe(256 * MiB);
    expect(await sh(node3, 'dmesg')).toContain(`${ext4Disk.device.slice('/dev/'.length)}: detected capacity change from 262144 to 524288`);
    expect(await mountSource(node3, '/mnt/ext4')).toBe(source);

    await timed('node3: pvresize', () => node3.execOk(['pvresize', ext4Disk.device]));
    await timed('node3: lvextend -l +100%FREE', () => node3.execOk(['lvextend', '-l', '+100%FREE', 'vg_guest/data']));
    await timed('node3: resize2fs (online)', () => node3.execOk(['resize2fs', '/dev/vg_guest/data']));

    const [sizeAfter, availAfter] = await df(node3, '/mnt/ext4');
    log(`ext4: df size ${(sizeBefore / MiB).toFixed(1)} → ${(sizeAfter / MiB).toFixed(1)} MiB, ${(availAfter / MiB).toFixed(1)} MiB free`);
    expect(sizeAfter).toBeGreaterThan(200 * MiB);
    expect(availAfter).toBeGreaterThan(180 * MiB);
    expect(await mountSource(node3, '/mnt/ext4')).toBe(source);
    expect(await coldSum(node3, '/mnt/ext4/pattern')).toBe(ext4Sum);
    // The new space is usable: more than the old filesystem's whole size fits now.
    await timed('node3: write 140 MiB into the grown fs', () => sh(node3, 'head -c 140M /dev/zero > /mnt/ext4/fill && sync && rm /mnt/ext4/fill'));
  });

  it('xfs on a second export: whole-disk xfs, sysfs rescan, xfs_growfs', async () => {
    // mkfs.xfs 6.1 refuses filesystems under 300 MB.
    await node1.execOk(['lvcreate', '-y', '-L', '320m', '-n', XFS_LV, VG]);
    await timed('export #2', () => exportBlockDeviceIscsi(node1, `/dev/${VG}/${XFS_LV}`, { iqn: XFS_IQN, initiatorIqn: GUEST_IQN }));
    xfsDisk = await timed('node3: login #2 (iscsid running)', () => attachIscsiDisk(node3, node1.address, XFS_IQN, GUEST_IQN));
    expect(xfsDisk.device).not.toBe(ext4Disk.device);
    expect(xfsDisk.session).not.toBe(ext4Disk.session);
    expect(await blockDeviceBytes(node3, xfsDisk.device)).toBe(320 * MiB);

    await timed('node3: mkfs.xfs + mount', () => sh(node3, `mkfs.xfs -q -f ${xfsDisk.device} && mkdir -p /mnt/xfs && mount ${xfsDisk.device} /mnt/xfs`));
    await sh(node3, 'head -c 16M /dev/urandom > /mnt/xfs/pattern && sync');
    xfsSum = await coldSum(node3, '/mnt/xfs/pattern');
    const [sizeBefore] = await df(node3, '/mnt/xfs');

    await timed('node1: lvextend 320 → 512 MiB', () => node1.execOk(['lvextend', '-L', '512m', `${VG}/${XFS_LV}`]));
    expect(await blockDeviceBytes(node3, xfsDisk.device)).toBe(320 * MiB);
    const size = await timed('node3: echo 1 > …/device/rescan', () => rescanIscsiDisk(node3, xfsDisk, 'sysfs'));
    expect(size).toBe(512 * MiB);
    // The other disk was not touched by this rescan.
    expect(await blockDeviceBytes(node3, ext4Disk.device)).toBe(256 * MiB);
    await timed('node3: xfs_growfs (online)', () => node3.execOk(['xfs_growfs', '/mnt/xfs']));

    const [sizeAfter] = await df(node3, '/mnt/xfs');
    log(`xfs: df size ${(sizeBefore / MiB).toFixed(1)} → ${(sizeAfter / MiB).toFixed(1)} MiB`);
    expect(sizeAfter).toBeGreaterThan(sizeBefore + 150 * MiB);
    expect(await mountSource(node3, '/mnt/xfs')).toBe(xfsDisk.device);
    expect(await coldSum(node3, '/mnt/xfs/pattern')).toBe(xfsSum);
  });

  it('detaches and removes both exports cleanly', async () => {
    await timed('node3: umount + vgchange -an', () => sh(node3, 'umount /mnt/ext4 /mnt/xfs && vgchange -an vg_guest'));
    await timed('node3: logout ×2', async () => {
      await detachIscsiDisk(node3, EXT4_IQN);
      await detachIscsiDisk(node3, XFS_IQN);
    });
    await detachIscsiDisk(node3, XFS_IQN); // not attached: a no-op
    expect(await sh(node3, 'ls /sys/class/iscsi_session/; grep -c " sd" /proc/partitions || true')).toBe('0\n');

    await timed('node1: remove exports ×2', async () => {
      await removeIscsiExport(node1, EXT4_IQN);
      await removeIscsiExport(node1, XFS_IQN);
    });
    await removeIscsiExport(node1, EXT4_IQN); // gone already: a no-op
    expect(await sh(node1, `ls ${CONFIGFS}/iscsi ${CONFIGFS}/core/iblock_0`)).not.toMatch(/iqn\.|hastor_/);
    expect(await sh(node1, 'ss -Hltn')).not.toContain(':3260');
    // Nothing holds the LVs open any more.
    await node1.execOk(['vgchange', '-an', VG]);

    await stopIscsiInitiator(node3);
    expect(await sh(node3, 'grep -c @ISCSIADM_ABSTRACT_NAMESPACE /proc/net/unix || true')).toBe('0\n');
  });
});
