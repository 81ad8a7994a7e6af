/**
 * Last-resort cleanup: every UML process this host process started is
 * recorded here and SIGKILLed by pid if we exit without `lab.stop()`
 * (a failed test, Ctrl-C, an uncaught error). Never by name.
 */
import { readdirSync, readFileSync } from 'node:fs';

const live = new Map<number, string>();
let hooked = false;

/** True when pid is alive and still the UML process we started (guards against pid reuse). */
export function isOurUml(pid: number, umid: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(`umid=${umid}`)) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after "(comm)") is the state; a zombie is already dead.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function processGroup(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

/**
 * Sends signal to the recorded UML pid and, with SIGKILL, to its process
 * group (UML makes itself a group leader; its helper processes stay in the
 * group and would outlive a SIGKILLed kernel). Only when the processes are
 * verified to be ours.
 */
export function signalRecorded(pid: number, umid: string, signal: NodeJS.Signals): void {
  if (isOurUml(pid, umid)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
  if (signal !== 'SIGKILL') return;
  if (umlProcesses(umid).some((p) => processGroup(p) === pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // group gone meanwhile
    }
  }
}

function killAll(): void {
  for (const [pid, umid] of live) signalRecorded(pid, umid, 'SIGKILL');
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

export function track(pid: number, umid: string): void {
  hook();
  live.set(pid, umid);
}

export function untrack(pid: number): void {
  live.delete(pid);
}

/**
 * Every live host process whose command line carries `umid=<umid>`: the UML
 * kernel and the helper processes it forks (they inherit its argv). Used to
 * prove nothing survived a lab; killing stays by recorded pid.
 */
export function umlProcesses(umid: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (isOurUml(Number(entry), umid)) found.push(Number(entry));
  }
  return found;
}
