/**
 * Fencing through the host, as a hypervisor fences its guests: a node asks
 * (a request file in its lab dir, which the host shares read-write), the host
 * powers the target off for real (Lab.killNode: SIGKILL by recorded pid, no
 * process left) and answers. A request from a node that is itself dead by the
 * time it is served is void: in a two-node race only the first fence happens.
 *
 * installDrbdFenceHandler puts a DRBD fence-peer handler in a node that exits
 * 7 ("peer fenced") only after the host answered that the peer is off, and 1
 * otherwise, so DRBD keeps I/O frozen when the fence did not happen.
 *
 * Pacemaker's fence agent of the lab (fence_lab, installFenceAgent in
 * pacemaker.ts) asks the same service with an `action`: off, reboot (off, the
 * answer, then Lab.bootNode), on, status, monitor, list. "off" is answered
 * only once the target's recorded UML pid is gone and no process of it is
 * left (Lab.killNode waits for that; the service checks again before answering).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import type { LabNode } from './lab-node.js';
import { umlProcesses } from './reaper.js';

export const FENCE_HANDLER = '/usr/local/sbin/lab-fence-peer';

/** What a node may ask the host: power actions on a target, and the queries of a fence agent. */
export type FenceAction = 'off' | 'reboot' | 'on' | 'status' | 'monitor' | 'list';

/** One power-off the host did (or refused): the actions off and reboot. */
export interface FenceRecord {
  from: string;
  target: string;
  /** What was asked (DRBD's handler asks `off`). */
  action: 'off' | 'reboot';
  /**
   * off: the target's recorded UML pid is gone and none of its processes is
   * left (checked after the kill, before answering); void: the asker was dead
   * when served, nothing done, no answer; failed: the target still ran.
   */
  result: 'off' | 'void' | 'failed';
  /** The target's UML pid at the time of the request (the one checked gone). */
  targetPid: number;
  /** For reboot: whether the target booted again after the answer. */
  bootedAgain?: boolean;
  atMs: number;
}

/** A query answered (status, monitor, list, on). */
export interface FenceQuery {
  from: string;
  target: string;
  action: FenceAction;
  result: string;
  atMs: number;
}

export interface FenceService {
  readonly fenced: readonly FenceRecord[];
  readonly queries: readonly FenceQuery[];
  stop(): void;
}

interface FenceRequest {
  from: string;
  target: string;
  id: string;
  /** Absent in requests of DRBD's handler: off. */
  action?: FenceAction;
}

/** The host-shared directory a node writes its fence requests into (same path inside the node). */
export const fenceDir = (node: LabNode): string => join(node.nodeDir, 'fence');

/** True once no process of the node's boot is left and its recorded pid is gone from the host. */
function confirmedOff(node: LabNode, pid: number): boolean {
  return !node.isRunning() && umlProcesses(node.umid).length === 0 && !existsSync(`/proc/${pid}`);
}

/**
 * Serves the fence requests of every node of `lab`, one at a time, until
 * stop(). `off` and `reboot` answer "off" only after the target's recorded
 * UML pid is confirmed gone (Lab.killNode waits for it; checked again here);
 * `reboot` boots the target again after answering.
 */
export function startFenceService(lab: Lab, options: { pollMs?: number; log?: (line: string) => void } = {}): FenceService {
  const fenced: FenceRecord[] = [];
  const queries: FenceQuery[] = [];
  const log = options.log ?? ((line: string) => console.log(line));
  let stopped = false;
  let busy = false;
  for (const node of lab.nodes) mkdirSync(fenceDir(node), { recursive: true });

  const answer = (dir: string, id: string, body: Record<string, unknown>): void => {
    writeFileSync(join(dir, `${id}.tmp`), `${JSON.stringify(body)}\n`);
    renameSync(join(dir, `${id}.tmp`), join(dir, `${id}.res`));
  };

  const serve = async (node: LabNode, file: string): Promise<void> => {
    const dir = fenceDir(node);
    const request = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FenceRequest;
    renameSync(join(dir, file), join(dir, `${request.id}.taken`));
    const action = request.action ?? 'off';
    const asker = lab.node(request.from);
    const target = lab.nodes.find((n) => n.name === request.target);
    if (action === 'monitor' || action === 'list' || action === 'status' || action === 'on') {
      let result = 'ok';
      if (action === 'status') result = target ? (target.isRunning() ? 'on' : 'off') : 'unknown';
      if (action === 'on') {
        if (!target) result = 'unknown';
        else {
          if (!target.isRunning()) await lab.bootNode(target.name);
          result = target.isRunning() ? 'on' : 'failed';
        }
      }
      queries.push({ from: request.from, target: request.target, action, result, atMs: Date.now() });
      if (asker.isRunning()) answer(dir, request.id, { result, nodes: lab.nodes.map((n) => n.name) });
      return;
    }
    if (!target) {
      if (asker.isRunning()) answer(dir, request.id, { result: 'unknown' });
      return;
    }
    // The asker died before we got to it (the peer fenced it first): do nothing.
    const targetPid = target.pid;
    let result: FenceRecord['result'] = 'void';
    if (asker.isRunning()) {
      if (target.isRunning()) await lab.killNode(target.name);
      result = confirmedOff(target, targetPid) ? 'off' : 'failed';
    }
    const record: FenceRecord = { from: request.from, target: request.target, action, result, targetPid, atMs: Date.now() };
    fenced.push(record);
    log(`[lab] fence ${action} request from ${request.from} for ${request.target} (pid ${targetPid}): ${result}`);
    if (asker.isRunning()) answer(dir, request.id, { result });
    if (action === 'reboot' && result === 'off') {
      try {
        await lab.bootNode(target.name);
        record.bootedAgain = true;
      } catch (error) {
        record.bootedAgain = false;
        log(`[lab] fence reboot: ${target.name} did not boot again: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  };

  const tick = async (): Promise<void> => {
    if (stopped || busy) return;
    busy = true;
    try {
      for (const node of lab.nodes) {
        const dir = fenceDir(node);
        if (!existsSync(dir)) continue;
        for (const file of readdirSync(dir).filter((f) => f.endsWith('.req')).sort()) await serve(node, file);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick().catch((e: unknown) => log(`[lab] fence service: ${(e as Error).message}`)), options.pollMs ?? 100);
  timer.unref();
  return {
    fenced,
    queries,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/**
 * The node's DRBD fence-peer handler: asks the host to power `peer` off and
 * waits for the answer. `delaySeconds` holds the request back, as a fence
 * delay favours the node that runs the service in a two-node race.
 */
export async function installDrbdFenceHandler(node: LabNode, peer: string, delaySeconds = 0): Promise<void> {
  const dir = fenceDir(node);
  mkdirSync(dir, { recursive: true });
  const script = `#!/bin/sh
# DRBD fence-peer handler of the lab: the host powers ${peer} off; "fenced" (7) only once it is off.
sleep ${delaySeconds}
id="$(date +%s%N)-$$"
printf '{"from":"${node.name}","target":"${peer}","id":"%s"}\\n' "$id" > "${dir}/$id.tmp" && mv "${dir}/$id.tmp" "${dir}/$id.req" || exit 1
i=0
while [ $i -lt 600 ]; do
  [ -f "${dir}/$id.res" ] && break
  sleep 0.1; i=$((i+1))
done
grep -q '"off"' "${dir}/$id.res" 2>/dev/null && exit 7
exit 1
`;
  await node.writeFile(FENCE_HANDLER, script);
  await node.execOk(['chmod', '0755', FENCE_HANDLER]);
  // A crash right after must not leave an empty handler that "succeeds".
  await node.execOk(['sync']);
}
