/** Running a shell snippet as the real `nobody` user: a local attacker, for tests that need root to set up. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Tests that play a local attacker need root (to be attacked) and the `nobody` user. */
export const canPlayAttacker = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs `sh -c script` as nobody:nogroup with no supplementary groups; throws if it fails. */
export function asNobody(script: string, ...args: string[]): string {
  return execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', 'sh', '-c', script, 'as-nobody', ...args], { encoding: 'utf8' });
}

/** A fresh directory like /run/lock or /tmp: world-writable with the sticky bit. */
export function worldWritableDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o1777);
  return dir;
}
