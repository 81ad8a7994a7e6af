/** DRBD resources for the lab benchmarks: many at once, initial sync skipped, waits on /proc/drbd. */
import { setTimeout as sleep } from 'node:timers/promises';
import { createLv, procWords, renderRes84, type ResourceSpec } from '../test/lab/drbd-scenario.js';
import type { LabNode } from '../test/lab/harness/lab-node.js';

/** Polls /proc/drbd until every minor passes. */
export async function waitAll(node: LabNode, minors: readonly number[], test: (cs: string, ds: string) => boolean, what: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await node.execOk(['cat', '/proc/drbd'])).stdout;
    if (
      minors.every((m) => {
        const w = procWords(last, m);
        return w !== null && test(w.cs, w.ds);
      })
    ) {
      return;
    }
    await sleep(500);
  }
  throw new Error(`bench: ${node.name} never reached ${what} on every minor within ${timeoutMs} ms:\n${last}`);
}

/** LVs, .res files, create-md and up on both nodes; then skip the initial sync (both sides are empty). */
export async function addResources(nodes: readonly LabNode[], specs: readonly ResourceSpec[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      for (const spec of specs) await createLv(n, spec);
      await n.writeFile(`/etc/drbd.d/bench-${specs[0]!.minor}.res`, specs.map((s) => renderRes84(s, nodes)).join('\n'));
      const names = specs.map((s) => s.name).join(' ');
      await n.execOk(['/bin/sh', '-ec', `for r in ${names}; do drbdadm create-md --force "$r"; drbdadm up "$r"; done`], { timeoutMs: 300_000 });
    }),
  );
  const minors = specs.map((s) => s.minor);
  const [first] = nodes;
  await waitAll(first!, minors, (cs) => cs === 'Connected', 'Connected');
  await first!.execOk(['/bin/sh', '-ec', `for r in ${specs.map((s) => s.name).join(' ')}; do drbdadm -- --clear-bitmap new-current-uuid "$r"; done`], { timeoutMs: 300_000 });
  await waitAll(first!, minors, (cs, ds) => cs === 'Connected' && ds === 'UpToDate/UpToDate', 'Connected UpToDate/UpToDate');
}
