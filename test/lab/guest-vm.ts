/**
 * Tier 3 in the lab: a lab node plays the VM, its disk a block device of
 * another node exported over iSCSI on the lab network.
 *
 * Target side: LIO configured through configfs directly (no targetcli in the
 * lab): an iblock backstore on the device, one iSCSI target with TPG 1, a
 * portal on the node's lab address, LUN 0, and an ACL for exactly one
 * initiator IQN. The ACL (not demo mode) keeps the export scoped to the VM
 * that owns the disk, as a hypervisor export would be; CHAP is off because
 * the lab link is private and carries nothing else.
 *
 * Initiator side: open-iscsi's iscsid started in the guest (no systemd
 * there), discovery + login with iscsiadm, the disk found through sysfs.
 * Everything runs inside the UML guests; no host process is started, so a
 * lab stop (guest poweroff) leaves nothing behind.
 *
 * Guest shell scripts get their inputs as positional parameters ($1…),
 * never spliced into the script text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabNode } from './harness/lab-node.js';

export const ISCSI_PORT = 3260;

/** The VM's own LVM view: only its SCSI disks (the lab's default filter takes ubd/drbd only). */
export const GUEST_LVM_CONF = `devices {
    filter = [ "a|^/dev/sd|", "r|.*|" ]
    global_filter = [ "a|^/dev/sd|", "r|.*|" ]
    obtain_device_list_from_udev = 0
}
activation {
    udev_sync = 0
    udev_rules = 0
}
global {
    use_lvmlockd = 0
}
`;
const CONFIGFS = '/sys/kernel/config/target';

export interface IscsiExportOptions {
  /** Target IQN (one target per exported device). */
  iqn: string;
  /** The only initiator allowed in (an ACL on TPG 1). */
  initiatorIqn: string;
  /** TCP port of the portal on target.address; default 3260. */
  port?: number;
}

export interface IscsiDisk {
  /** /dev/sdX in the guest. */
  device: string;
  /** sysfs session name (session1…); the number is iscsiadm's session id. */
  session: string;
  /** SCSI address host:channel:target:lun. */
  scsiAddress: string;
}

export type RescanMethod = 'iscsiadm' | 'sysfs';

/** configfs-safe name of the iblock storage object backing an export, derived from its IQN. */
export function backstoreName(iqn: string): string {
  return `hastor_${iqn.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 120);
}

// LIO keeps PR/ALUA metadata in db_root (/etc/target, inside the guest's
// overlay); creating it before the module loads avoids "db_root: cannot open".
const LIO_SETUP = `
mkdir -p /etc/target
modprobe -a target_core_mod target_core_iblock iscsi_target_mod
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
[ -d ${CONFIGFS}/core ] || { echo "LIO configfs missing under ${CONFIGFS}" >&2; exit 2; }
`;

const EXPORT_SCRIPT = `set -eu
dev=$1 iqn=$2 ini=$3 addr=$4 port=$5 so=$6 serial=$7
${LIO_SETUP}
[ -b "$dev" ] || { echo "not a block device: $dev" >&2; exit 2; }
B=${CONFIGFS}/core/iblock_0/$so
mkdir -p "$B"
if [ "$(cat "$B/enable")" = 1 ]; then
  # Already configured: it must be the same device (iblock refuses a new udev_path while enabled).
  cur=$(cat "$B/udev_path")
  [ "$cur" = "$dev" ] || { echo "backstore $so already serves $cur" >&2; exit 3; }
else
  echo "udev_path=$dev" > "$B/control"
  echo "$dev" > "$B/udev_path"
  echo 1 > "$B/enable"
fi
# The unit serial can only be set while no LUN exports the device.
if grep -q 'Number: *$' "$B/wwn/vpd_unit_serial"; then echo "$serial" > "$B/wwn/vpd_unit_serial"; fi
G=${CONFIGFS}/iscsi/$iqn/tpgt_1
mkdir -p "$G/np/$addr:$port" "$G/lun/lun_0" "$G/acls/$ini/lun_0"
for l in "$G/lun/lun_0"/*; do
  if [ -L "$l" ] && [ "\${l##*/}" != "$so" ]; then echo "lun_0 of $iqn already maps \${l##*/}" >&2; exit 3; fi
done
[ -L "$G/lun/lun_0/$so" ] || ln -s "$B" "$G/lun/lun_0/$so"
[ -L "$G/acls/$ini/lun_0/lun_0" ] || ln -s "$G/lun/lun_0" "$G/acls/$ini/lun_0/lun_0"
echo 0 > "$G/acls/$ini/lun_0/write_protect"
echo 0 > "$G/attrib/generate_node_acls"
echo 0 > "$G/attrib/authentication"
[ "$(cat "$G/enable")" = 1 ] || echo 1 > "$G/enable"
`;

// Reverse order of creation: mapped LUNs, ACLs, LUNs, portals, TPG, target, backstore.
const REMOVE_SCRIPT = `set -eu
iqn=$1 so=$2
[ -d ${CONFIGFS} ] || exit 0
T=${CONFIGFS}/iscsi/$iqn
if [ -d "$T" ]; then
  for G in "$T"/tpgt_*; do
    [ -d "$G" ] || continue
    for acl in "$G"/acls/*; do
      [ -d "$acl" ] || continue
      for ml in "$acl"/lun_*; do
        [ -d "$ml" ] || continue
        for l in "$ml"/*; do if [ -L "$l" ]; then rm "$l"; fi; done
        rmdir "$ml"
      done
      rmdir "$acl"
    done
    for lun in "$G"/lun/lun_*; do
      [ -d "$lun" ] || continue
      for l in "$lun"/*; do if [ -L "$l" ]; then rm "$l"; fi; done
      rmdir "$lun"
    done
    for np in "$G"/np/*; do if [ -d "$np" ]; then rmdir "$np"; fi; done
    [ "$(cat "$G/enable")" = 0 ] || echo 0 > "$G/enable"
    rmdir "$G"
  done
  rmdir "$T"
fi
B=${CONFIGFS}/core/iblock_0/$so
if [ -d "$B" ]; then rmdir "$B"; fi
`;

/** Deterministic T10 unit serial for an export, so the guest can tell disks apart (vpd_pg80). */
function unitSerial(iqn: string): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(iqn)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return `hastor${h.toString(16).padStart(8, '0')}`;
}

/**
 * Exports devicePath of target over iSCSI on target.address:port. Running it
 * again with the same arguments changes nothing; a different device under the
 * same IQN is refused.
 */
export async function exportBlockDeviceIscsi(target: LabNode, devicePath: string, opts: IscsiExportOptions): Promise<void> {
  const port = opts.port ?? ISCSI_PORT;
  await target.execOk(['/bin/sh', '-c', EXPORT_SCRIPT, 'export', devicePath, opts.iqn, opts.initiatorIqn, target.address, String(port), backstoreName(opts.iqn), unitSerial(opts.iqn)]);
}

/** Removes the export of iqn (and its backstore); a missing export is not an error. */
export async function removeIscsiExport(target: LabNode, iqn: string): Promise<void> {
  await target.execOk(['/bin/sh', '-c', REMOVE_SCRIPT, 'remove', iqn, backstoreName(iqn)]);
}

/** The unit serial the guest reads from /sys/block/sdX/device/vpd_pg80 for this export. */
export function exportSerial(iqn: string): string {
  return unitSerial(iqn);
}

// `iscsid -f` writes no pid file (only the daemonizing mode does): the pid
// spawnBackground returns is recorded here, and checked to still be iscsid.
const ISCSID_PIDFILE = '/run/hastor-lab-iscsid.pid';
const ISCSID_STATE = `
pidfile=${ISCSID_PIDFILE}
running=
if [ -s $pidfile ]; then
  p=$(cat $pidfile)
  if [ "$(cat /proc/$p/comm 2>/dev/null)" = iscsid ]; then running=$p; fi
fi
`;

const INITIATOR_PREP = `set -eu
ini=$1
${ISCSID_STATE}
modprobe -a iscsi_tcp sd_mod
# systemd-tmpfiles would create these; iscsiadm fails without the lock dir.
mkdir -p /run/lock/iscsi /etc/iscsi
# No systemd: iscsiadm must never try to socket-activate iscsid.
sed -i 's|^iscsid.startup *=.*|iscsid.startup = /bin/true|' /etc/iscsi/iscsid.conf
want="InitiatorName=$ini"
have=$(grep '^InitiatorName=' /etc/iscsi/initiatorname.iscsi 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  if [ -n "$running" ]; then
    if ls /sys/class/iscsi_session/ 2>/dev/null | grep -q .; then echo "iscsid runs as $have with sessions open" >&2; exit 3; fi
    kill "$running"
    while [ -d /proc/$running ]; do sleep 0.1; done
    running=
  fi
  echo "$want" > /etc/iscsi/initiatorname.iscsi
fi
if [ -n "$running" ]; then echo running
elif grep -q @ISCSIADM_ABSTRACT_NAMESPACE /proc/net/unix; then echo "an iscsid not started by this helper holds the control socket" >&2; exit 3
else echo start; fi
`;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`lab: ${what} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Starts iscsid in the guest (once) as initiatorIqn. iscsid runs in the
 * foreground under the guest agent, its log in <nodeDir>/iscsid.log; it dies
 * with the guest kernel, or with stopIscsiInitiator.
 */
export async function startIscsiInitiator(guest: LabNode, initiatorIqn: string): Promise<void> {
  const state = (await guest.execOk(['/bin/sh', '-c', INITIATOR_PREP, 'prep', initiatorIqn])).stdout.trim();
  if (state === 'running') return;
  const log = join(guest.nodeDir, 'iscsid.log');
  const pid = await guest.spawnBackground(['iscsid', '-f'], { stdoutPath: log });
  await guest.execOk(['/bin/sh', '-c', 'echo "$1" > "$2"', 'pidfile', String(pid), ISCSID_PIDFILE]);
  // Its control socket is the abstract unix name ISCSIADM_ABSTRACT_NAMESPACE.
  await waitFor(`${guest.name}: iscsid (pid ${pid}) did not open its control socket`, 15_000, async () => {
    const r = await guest.exec(['grep', '-q', '@ISCSIADM_ABSTRACT_NAMESPACE', '/proc/net/unix']);
    if (r.exitCode === 0) return true;
    if ((await guest.exec(['test', '-d', `/proc/${pid}`])).exitCode !== 0) {
      throw new Error(`lab: ${guest.name}: iscsid exited at start:\n${readFileSync(log, 'utf8')}`);
    }
    return undefined;
  });
}

/** Logs out of every session and stops iscsid (by its pid file, checked to be iscsid). */
export async function stopIscsiInitiator(guest: LabNode): Promise<void> {
  await guest.execOk([
    '/bin/sh',
    '-c',
    `${ISCSID_STATE}
if ls /sys/class/iscsi_session/ 2>/dev/null | grep -q .; then iscsiadm -m node --logoutall=all >/dev/null; fi
if [ -n "$running" ]; then kill "$running"; while [ -d /proc/$running ]; do sleep 0.1; done; fi
rm -f $pidfile`,
  ]);
}

/** The sysfs session (sessionN) logged in to iqn, if any. */
async function sessionFor(guest: LabNode, iqn: string): Promise<string | undefined> {
  const r = await guest.execOk([
    '/bin/sh',
    '-c',
    'for s in /sys/class/iscsi_session/session*; do [ -r "$s/targetname" ] && [ "$(cat "$s/targetname")" = "$1" ] && echo "${s##*/}"; done; exit 0',
    'session',
    iqn,
  ]);
  return r.stdout.trim().split('\n').filter(Boolean)[0];
}

/** The SCSI disk of a session: [scsi address, sdX], once the scan has attached it. */
async function diskOfSession(guest: LabNode, session: string): Promise<[string, string] | undefined> {
  const r = await guest.exec([
    '/bin/sh',
    '-c',
    'for b in /sys/class/iscsi_session/$1/device/target*/*:*:*:*/block/*; do [ -e "$b" ] && { d=${b%/block/*}; echo "${d##*/} ${b##*/}"; }; done; exit 0',
    'disk',
    session,
  ]);
  const [address, name] = (r.stdout.trim().split('\n')[0] ?? '').split(' ');
  return address && name ? [address, name] : undefined;
}

/** host[:port] → [host, port]. */
function splitPortal(portal: string): [string, number] {
  const m = /^(.*?)(?::(\d+))?$/.exec(portal);
  return [m?.[1] ?? portal, m?.[2] ? Number(m[2]) : ISCSI_PORT];
}

/**
 * Starts iscsid as initiatorIqn if needed, discovers portal (host or
 * host:port), logs in to iqn (unless a session exists already) and waits for
 * the SCSI disk. Returns its /dev/sdX.
 */
export async function attachIscsiDisk(guest: LabNode, portal: string, iqn: string, initiatorIqn: string): Promise<IscsiDisk> {
  const [host, port] = splitPortal(portal);
  const p = `${host}:${port}`;
  await startIscsiInitiator(guest, initiatorIqn);
  let session = await sessionFor(guest, iqn);
  if (!session) {
    const found = await guest.execOk(['iscsiadm', '-m', 'discovery', '-t', 'sendtargets', '-p', p], { timeoutMs: 60_000 });
    if (!found.stdout.split('\n').some((line) => line.trim().endsWith(` ${iqn}`))) {
      throw new Error(`lab: ${guest.name}: discovery at ${p} did not list ${iqn}:\n${found.stdout}`);
    }
    await guest.execOk(['iscsiadm', '-m', 'node', '-T', iqn, '-p', p, '--login'], { timeoutMs: 60_000 });
    session = await waitFor(`${guest.name}: no session for ${iqn} after login`, 15_000, () => sessionFor(guest, iqn));
  }
  const s = session;
  const [scsiAddress, name] = await waitFor(`${guest.name}: ${iqn} logged in (${s}) but no SCSI disk appeared`, 30_000, () => diskOfSession(guest, s));
  // No udev: devtmpfs creates the node; wait for it rather than assume.
  await waitFor(`${guest.name}: /dev/${name} did not appear`, 10_000, async () => ((await guest.exec(['test', '-b', `/dev/${name}`])).exitCode === 0 ? true : undefined));
  return { device: `/dev/${name}`, session: s, scsiAddress };
}

/**
 * Logs out of iqn and forgets its node record; waits until the session is
 * gone. Whatever uses the disk (mounts, dm devices) must be closed first.
 * Not attached is not an error.
 */
export async function detachIscsiDisk(guest: LabNode, iqn: string): Promise<void> {
  if (await sessionFor(guest, iqn)) await guest.execOk(['iscsiadm', '-m', 'node', '-T', iqn, '--logout'], { timeoutMs: 60_000 });
  // rc 21: no record (never discovered, or deleted already).
  const del = await guest.exec(['iscsiadm', '-m', 'node', '-T', iqn, '-o', 'delete']);
  if (del.exitCode !== 0 && del.exitCode !== 21) throw new Error(`lab: ${guest.name}: iscsiadm -o delete ${iqn} exited ${del.exitCode}: ${del.stderr}`);
  await waitFor(`${guest.name}: session for ${iqn} still there after logout`, 15_000, async () => ((await sessionFor(guest, iqn)) ? undefined : true));
}

/** Size of a block device in bytes (blockdev --getsize64). */
export async function blockDeviceBytes(node: LabNode, device: string): Promise<number> {
  return Number((await node.execOk(['blockdev', '--getsize64', device])).stdout.trim());
}

/**
 * Makes the guest re-read the disk's capacity: 'iscsiadm' rescans the
 * session (`iscsiadm -m session -r N --rescan`), 'sysfs' writes 1 to the SCSI
 * device's rescan attribute. Returns the new size in bytes.
 */
export async function rescanIscsiDisk(guest: LabNode, disk: IscsiDisk, method: RescanMethod): Promise<number> {
  if (method === 'iscsiadm') {
    await guest.execOk(['iscsiadm', '-m', 'session', '-r', disk.session.replace(/^session/, ''), '--rescan']);
  } else {
    await guest.execOk(['/bin/sh', '-c', 'echo 1 > "/sys/class/scsi_device/$1/device/rescan"', 'rescan', disk.scsiAddress]);
  }
  return blockDeviceBytes(guest, disk.device);
}
