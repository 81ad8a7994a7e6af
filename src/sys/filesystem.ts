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
  const blockSize = checkBlockSize(field('Block size'), source, text);
  return { type: 'ext4', blocks, blockSize, sizeBytes: blocks * blockSize };
}

/** ext4 and xfs blocks are a power of two from 512 B to 64 KiB; anything else is a misread. */
function checkBlockSize(blockSize: bigint, source: string, text: string): bigint {
  if (blockSize < 512n || blockSize > 65536n || (blockSize & (blockSize - 1n)) !== 0n) {
    throw new ParseError(`block size ${blockSize} is not a power of two from 512 to 65536`, { source, excerpt: text.slice(0, 200) });
  }
  return blockSize;
}

/** `xfs_info MOUNTPOINT`: the data section's "bsize=… blocks=…". */
export function parseXfsInfo(text: string, source = 'xfs_info'): FsGeometry {
  const line = text.split('\n').find((l) => /^data\s+=/.test(l));
  const m = line === undefined ? null : /bsize=(\d+)\s+blocks=(\d+)/.exec(line);
  if (m === null) throw new ParseError('no "data = bsize=… blocks=…" line', { source, excerpt: text.slice(0, 200) });
  const blockSize = checkBlockSize(BigInt(m[1] as string), source, text);
  const blocks = BigInt(m[2] as string);
  return { type: 'xfs', blocks, blockSize, sizeBytes: blocks * blockSize };
}

/** `findmnt -J -o SOURCE,TARGET,FSTYPE`: every mount listed (a device may be mounted twice). */
export function parseFindmntJson(text: string, source = 'findmnt -J'): MountInfo[] {
  const doc = parseJsonInput(text, source);
  const list = (doc as { filesystems?: unknown })?.filesystems;
  if (!Array.isArray(list)) throw new ParseError('no "filesystems" array', { source, excerpt: text.slice(0, 200) });
  const out: MountInfo[] = [];
  // Depth first with a stack of its own: nesting as deep as the JSON parser accepts cannot overflow the call stack.
  const pending: unknown[] = [...list].reverse();
  while (pending.length > 0) {
    const item = pending.pop();
    const f = (typeof item === 'object' && item !== null ? item : {}) as { source?: unknown; target?: unknown; fstype?: unknown; children?: unknown };
    if (typeof f.source !== 'string' || typeof f.target !== 'string' || typeof f.fstype !== 'string') {
      throw new ParseError('a filesystem entry lacks source/target/fstype', { source, excerpt: shortJson(item) });
    }
    out.push({ source: f.source, target: f.target, fstype: f.fstype });
    if (Array.isArray(f.children)) for (let i = f.children.length - 1; i >= 0; i--) pending.push(f.children[i]);
  }
  return out;
}

/** An excerpt of an entry that may itself be deeply nested: its `children` left out, which JSON.stringify would recurse into. */
function shortJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(JSON.stringify(value)).slice(0, 200);
  return JSON.stringify(value, (key, v: unknown) => (key === 'children' ? '…' : v)).slice(0, 200);
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
