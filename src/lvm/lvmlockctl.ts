/**
 * `lvmlockctl --info`: what lvmlockd holds on this node. lv_active_exclusively
 * cannot tell a shared from an exclusive activation under lvmlockd (lvm2 2.03
 * reports any local activation as exclusive), so the LV lock mode comes from here.
 *
 *   VG vgshared lock_type=sanlock <vg uuid>
 *   LS sanlock lvm_vgshared          (the lockspace is started)
 *   LK VG un ver 5
 *   LK LV sh <lv uuid>
 */
import { ParseError } from '../errors.js';
import type { Executor } from '../sys/executor.js';

export type LvmlockdMode = 'ex' | 'sh' | 'un';

export interface LvmlockdVgInfo {
  vg: string;
  lockType: string;
  uuid: string;
  lockspaceStarted: boolean;
  /** LV uuid → the mode lvmlockd holds its lock in on this node. */
  lvLocks: Map<string, LvmlockdMode>;
}

export function parseLvmlockctlInfo(text: string, source = 'lvmlockctl --info'): LvmlockdVgInfo[] {
  const vgs: LvmlockdVgInfo[] = [];
  let current: LvmlockdVgInfo | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const vg = /^VG (\S+) lock_type=(\S+) (\S+)$/.exec(line);
    if (vg !== null) {
      current = { vg: vg[1] as string, lockType: vg[2] as string, uuid: vg[3] as string, lockspaceStarted: false, lvLocks: new Map() };
      vgs.push(current);
      return;
    }
    if (current === undefined) throw new ParseError('a line before the first "VG" line', { source, line: i + 1, excerpt: line });
    if (/^LS \S+ lvm_\S+$/.test(line)) {
      current.lockspaceStarted = true;
      return;
    }
    const lk = /^LK LV (ex|sh|un) (\S+)/.exec(line);
    if (lk !== null) current.lvLocks.set(lk[2] as string, lk[1] as LvmlockdMode);
  });
  return vgs;
}

/** The mode lvmlockd on `node` holds the LV's lock in; null when lvmlockd holds nothing for it. */
export async function lvLockModeOn(node: Executor, vg: string, lvUuid: string, timeoutMs = 20_000): Promise<LvmlockdMode | null> {
  const { stdout } = await node.run(['lvmlockctl', '--info'], { root: true, timeoutMs });
  const info = parseLvmlockctlInfo(stdout, `${node.node}: lvmlockctl --info`).find((v) => v.vg === vg);
  return info?.lvLocks.get(lvUuid) ?? null;
}
