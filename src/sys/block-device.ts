/**
 * Sizes of block devices from the kernel's sysfs `size` (512-byte sectors,
 * readable without opening the device, which DRBD 8.4 refuses on a Secondary).
 */
import { ParseError } from '../errors.js';
import type { Executor } from './executor.js';

const SECTOR = 512n;
const MAX_MAJOR = (1 << 12) - 1;
const MAX_MINOR = (1 << 20) - 1;

/** `/sys/class/block/<name>/size`: sectors of 512 bytes whatever the device's own block size. */
export function parseSysfsSectors(text: string, source = 'sysfs size'): bigint {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) throw new ParseError(`expected a sector count, got ${JSON.stringify(trimmed.slice(0, 40))}`, { source, line: 1, excerpt: trimmed.slice(0, 80) });
  return BigInt(trimmed) * SECTOR;
}

/** Bytes of /dev/<kernelName> from sysfs (kernelName like "drbd0", "sda", "dm-3"). */
export async function sysfsBlockBytes(executor: Executor, kernelName: string): Promise<bigint> {
  if (!/^[A-Za-z0-9._-]+$/.test(kernelName)) throw new ParseError(`not a kernel block device name: ${JSON.stringify(kernelName)}`, { source: 'sysfsBlockBytes' });
  const path = `/sys/class/block/${kernelName}/size`;
  return parseSysfsSectors(await executor.readFile(path), `${executor.node}:${path}`);
}

/** Bytes of the block device with these numbers (`/sys/dev/block/MAJ:MIN/size`), e.g. an active LV's dm device. */
export async function sysfsDevBytes(executor: Executor, major: number, minor: number): Promise<bigint> {
  const path = `/sys/dev/block/${major}:${minor}/size`;
  return parseSysfsSectors(await executor.readFile(path), `${executor.node}:${path}`);
}

/** A block device as sysfs shows it: its numbers, kernel name, size and sysfs path (which names its transport). */
export interface BlockDeviceInfo {
  major: number;
  minor: number;
  /** As in /dev: sda, dm-3, drbd0. */
  kernelName: string;
  sizeBytes: bigint;
  /** `/sys/devices/...`: an iSCSI disk's has `/sessionN/`, a device-mapper device's `virtual`. */
  sysPath: string;
  /** A device-mapper device's name (an LV's is `vg-lv`, dashes in the names doubled); null for others. */
  dmName: string | null;
}

/** A device and the devices it maps onto (an LV's PVs: its device-mapper slaves). */
export interface BlockDeviceProbe extends BlockDeviceInfo {
  slaves: BlockDeviceInfo[];
}

/**
 * `sh -c` script, $1 a /dev path: one line per device, the device first and then each of
 * its slaves, as `MAJ:MIN name sectors sysfs-path [dm-name]`. By the path's device numbers, since
 * /dev/mapper nodes are not always symlinks to dm-N (no udev). stat is the one program it
 * runs; the rest are shell builtins, as a fork costs tens of milliseconds in a small VM.
 * Exits 1 when $1 is no device.
 */
const PROBE_SCRIPT = [
  'n=$(stat -L -c "%t %T" -- "$1") || exit 1',
  'set -- $n',
  'line() { cd -P "/sys/dev/block/$1" || exit 1; read -r s < size || exit 1; m=; [ ! -r dm/name ] || read -r m < dm/name; echo "$1 ${PWD##*/} $s $PWD${m:+ $m}"; }',
  'dev=$((0x$1)):$((0x$2))',
  'line "$dev"',
  'for x in /sys/dev/block/$dev/slaves/*; do [ -e "$x/dev" ] || continue; read -r d < "$x/dev" || exit 1; line "$d"; done',
].join('\n');

/** The probe script's output; null when it printed nothing. */
export function parseBlockProbe(text: string, source = 'block device probe'): BlockDeviceProbe | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const devices = lines.map((line, i): BlockDeviceInfo => {
    const m = /^(\d+):(\d+) ([A-Za-z0-9._-]+) (\d+) (\/sys\/\S+)(?: (\S+))?$/.exec(line.trim());
    if (m === null) throw new ParseError(`expected "MAJ:MIN name sectors sysfs-path [dm-name]", got ${JSON.stringify(line.slice(0, 80))}`, { source, line: i + 1, excerpt: line.slice(0, 80) });
    const major = Number(m[1]);
    const minor = Number(m[2]);
    // Linux's dev_t: a 12-bit major, a 20-bit minor. More is a misread, and would lose precision as a number.
    if (major > MAX_MAJOR || minor > MAX_MINOR) throw new ParseError(`device numbers ${m[1]}:${m[2]} are beyond ${MAX_MAJOR}:${MAX_MINOR}`, { source, line: i + 1, excerpt: line.slice(0, 80) });
    return { major, minor, kernelName: m[3]!, sizeBytes: BigInt(m[4]!) * SECTOR, sysPath: m[5]!, dmName: m[6] ?? null };
  });
  const [device, ...slaves] = devices;
  return device === undefined ? null : { ...device, slaves };
}

/**
 * The block device at `path` and what it maps onto, in one command (each command is a
 * round trip to the node); null when the path is no block device (an inactive LV).
 */
export async function probeBlockDevice(executor: Executor, path: string, timeoutMs = 20_000): Promise<BlockDeviceProbe | null> {
  const { stdout, exitCode } = await executor.run(['sh', '-c', PROBE_SCRIPT, 'hastor-probe', path], { timeoutMs, okExitCodes: [0, 1] });
  return exitCode === 0 ? parseBlockProbe(stdout, `${executor.node}: probe of ${path}`) : null;
}
