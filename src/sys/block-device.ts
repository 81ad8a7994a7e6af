/**
 * Sizes of block devices from the kernel's sysfs `size` (512-byte sectors,
 * readable without opening the device, which DRBD 8.4 refuses on a Secondary).
 */
import { ParseError } from '../errors.js';
import type { Executor } from './executor.js';

const SECTOR = 512n;

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

/** The kernel name of a /dev path that is not a symlink chain we cannot follow (sda, drbd0, dm-3). */
export async function kernelNameOf(executor: Executor, path: string, timeoutMs = 20_000): Promise<string> {
  const { stdout } = await executor.run(['readlink', '-f', '--', path], { timeoutMs });
  const resolved = stdout.trim();
  const m = /^\/dev\/([A-Za-z0-9._-]+)$/.exec(resolved);
  if (m === null) throw new ParseError(`${path} resolves to ${JSON.stringify(resolved)}, not a /dev/<name> block device`, { source: `${executor.node}: readlink -f ${path}` });
  return m[1] as string;
}
