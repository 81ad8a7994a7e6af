/**
 * Filesystem geometry as the filesystem itself counts it (blocks × block
 * size), which is what says whether it already fills its device: statfs
 * totals leave out ext4's own overhead and cannot say that.
 */
import { ParseError } from '../errors.js';
import { parseJsonInput } from '../json-input.js';
import type { Executor } from './executor.js';

export type GrowableFsType = 'ext4' | 'xfs';

export interface FsGeometry {
  type: GrowableFsType;
  blockSize: bigint;
  blocks: bigint;
  sizeBytes: bigint;
}

export interface MountInfo {
  source: string;
  target: string;
  fstype: string;
}

/** `dumpe2fs -h` header: "Block count:" and "Block size:". */
export function parseDumpe2fsHeader(text: string, source = 'dumpe2fs -h'): FsGeometry {
  const field = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*$`, 'm').exec(text);
    if (m === null) throw new ParseError(`no "${name}:" line`, { source, excerpt: text.slice(0, 200) });
    return BigInt(m[1] as string);
  };
  const blocks = field('Block count');
  const blockSize = field('Block size');
  return { type: 'ext4', blocks, blockSize, sizeBytes: blocks * blockSize };
}

/** `xfs_info MOUNTPOINT`: the data section's "bsize=… blocks=…". */
export function parseXfsInfo(text: string, source = 'xfs_info'): FsGeometry {
  const line = text.split('\n').find((l) => /^data\s+=/.test(l));
  const m = line === undefined ? null : /bsize=(\d+)\s+blocks=(\d+)/.exec(line);
  if (m === null) throw new ParseError('no "data = bsize=… blocks=…" line', { source, excerpt: text.slice(0, 200) });
  const blockSize = BigInt(m[1] as string);
  const blocks = BigInt(m[2] as string);
  return { type: 'xfs', blocks, blockSize, sizeBytes: blocks * blockSize };
}

/** `findmnt -J -o SOURCE,TARGET,FSTYPE`: every mount listed (a device may be mounted twice). */
export function parseFindmntJson(text: string, source = 'findmnt -J'): MountInfo[] {
  const doc = parseJsonInput(text, source);
  const list = (doc as { filesystems?: unknown })?.filesystems;
  if (!Array.isArray(list)) throw new ParseError('no "filesystems" array', { source, excerpt: text.slice(0, 200) });
  const out: MountInfo[] = [];
  const walk = (items: unknown[]): void => {
    for (const item of items) {
      const f = item as { source?: unknown; target?: unknown; fstype?: unknown; children?: unknown };
      if (typeof f.source !== 'string' || typeof f.target !== 'string' || typeof f.fstype !== 'string') {
        throw new ParseError('a filesystem entry lacks source/target/fstype', { source, excerpt: JSON.stringify(item).slice(0, 200) });
      }
      out.push({ source: f.source, target: f.target, fstype: f.fstype });
      if (Array.isArray(f.children)) walk(f.children);
    }
  };
  walk(list);
  return out;
}

/** Where `device` is mounted (findmnt resolves /dev/vg/lv and /dev/mapper/vg-lv alike); null when it is not. */
export async function mountOf(executor: Executor, device: string, timeoutMs = 20_000): Promise<MountInfo | null> {
  const result = await executor.run(['findmnt', '-J', '-o', 'SOURCE,TARGET,FSTYPE', '--source', device], { timeoutMs, okExitCodes: [0, 1] });
  if (result.exitCode === 1 || result.stdout.trim() === '') return null;
  return parseFindmntJson(result.stdout, `${executor.node}: findmnt --source ${device}`)[0] ?? null;
}

/** The geometry of the ext4 or xfs filesystem on `device`, mounted on `mountpoint`. */
export async function fsGeometry(executor: Executor, type: GrowableFsType, device: string, mountpoint: string, timeoutMs = 20_000): Promise<FsGeometry> {
  if (type === 'ext4') {
    const { stdout } = await executor.run(['dumpe2fs', '-h', device], { root: true, timeoutMs });
    return parseDumpe2fsHeader(stdout, `${executor.node}: dumpe2fs -h ${device}`);
  }
  const { stdout } = await executor.run(['xfs_info', mountpoint], { root: true, timeoutMs });
  return parseXfsInfo(stdout, `${executor.node}: xfs_info ${mountpoint}`);
}
