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
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import type { LabNode } from './lab-node.js';

export const FENCE_HANDLER = '/usr/local/sbin/lab-fence-peer';

export interface FenceRecord {
  from: string;
  target: string;
  result: 'off' | 'void';
  atMs: number;
}

export interface FenceService {
  readonly fenced: readonly FenceRecord[];
  stop(): void;
}

interface FenceRequest {
  from: string;
  target: string;
  id: string;
}

const fenceDir = (node: LabNode): string => join(node.nodeDir, 'fence');

/** Serves the fence requests of every node of `lab`, one at a time, until stop(). */
export function startFenceService(lab: Lab, options: { pollMs?: number; log?: (line: string) => void } = {}): FenceService {
  const fenced: FenceRecord[] = [];
  const log = options.log ?? ((line: string) => console.log(line));
  let stopped = false;
  let busy = false;
  for (const node of lab.nodes) mkdirSync(fenceDir(node), { recursive: true });

  const serve = async (node: LabNode, file: string): Promise<void> => {
    const dir = fenceDir(node);
    const request = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FenceRequest;
    renameSync(join(dir, file), join(dir, `${request.id}.taken`));
    // The asker died before we got to it (the peer fenced it first): do nothing.
    const asker = lab.node(request.from);
    let result: FenceRecord['result'] = 'void';
    if (asker.isRunning()) {
      const target = lab.node(request.target);
      if (target.isRunning()) await lab.killNode(target.name);
      result = 'off';
    }
    fenced.push({ from: request.from, target: request.target, result, atMs: Date.now() });
    log(`[lab] fence request from ${request.from} for ${request.target}: ${result}`);
    if (asker.isRunning()) {
      writeFileSync(join(dir, `${request.id}.tmp`), `${JSON.stringify({ result })}\n`);
      renameSync(join(dir, `${request.id}.tmp`), join(dir, `${request.id}.res`));
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
