/**
 * Guest side: hastor takes lvm's own lock of a VG (V_<vg>, withLvmLocks) and keeps it.
 * - hold (default): writes {pid, locks} to --ready-file once the locks are held, then waits
 *   until killed; a SIGKILL must release the lock (the kernel drops the flock).
 * - --try: tries once within --timeout-ms and prints the outcome as JSON (a LockError naming
 *   the holder when another process has it).
 * Usage: node hold-lvm-lock.js --vg vg_lab [--mode exclusive] [--ready-file F] [--try --timeout-ms 500]
 */
import { writeFileSync, renameSync } from 'node:fs';
import { errorInfo, option, parseArgs, toJson } from './cli-args.js';
import { withLvmLocks } from '../../../src/lvm/locks.js';

const options = parseArgs(process.argv.slice(2));
const vg = option(options, 'vg', 'vg_lab');
const mode = option(options, 'mode', 'exclusive') as 'shared' | 'exclusive';
const readyFile = options.get('ready-file')?.at(-1);
const tryOnce = options.has('try');
const timeoutMs = Number(option(options, 'timeout-ms', '60000'));

if (tryOnce) {
  const started = performance.now();
  try {
    await withLvmLocks({ vgs: [vg], mode, timeoutMs }, () => undefined);
    process.stdout.write(`${toJson({ locked: true, elapsedMs: Math.round(performance.now() - started) })}\n`);
  } catch (error) {
    const e = error as { holders?: unknown; path?: unknown };
    process.stdout.write(`${toJson({ locked: false, elapsedMs: Math.round(performance.now() - started), error: errorInfo(error), holders: e.holders ?? null, path: e.path ?? null })}\n`);
  }
} else {
  await withLvmLocks({ vgs: [vg], mode, timeoutMs }, async (locks) => {
    if (readyFile !== undefined) {
      writeFileSync(`${readyFile}.tmp`, toJson({ pid: process.pid, locks: locks.locks }));
      renameSync(`${readyFile}.tmp`, readyFile);
    }
    // Until killed: a timer keeps the process (and so the flock) alive.
    await new Promise(() => setInterval(() => undefined, 60_000));
  });
}
