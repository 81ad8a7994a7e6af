/**
 * Guest side: one DRBD reading through hastor's own code, per source.
 * proc → parseProcDrbd(/proc/drbd), events2 → parseEvents2(`drbdsetup events2
 * --now --statistics all`), netlink → readDrbdStatusNetlink() (the addon's
 * generic-netlink socket), auto → readLiveStatus(). Each source is loaded on
 * its own, so one broken or missing module fails only its own readings.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { DrbdStatus } from '../../../src/drbd/status-model.js';

export type GuestSource = 'proc' | 'events2' | 'netlink' | 'auto';

export interface Reading {
  status: DrbdStatus;
  /** The text the parser was given (proc, events2), for diagnosing disagreements. */
  raw: string | null;
}

const run = promisify(execFile);

// Loaded by a computed specifier: each module is resolved only when its source is used.
async function load<T>(relative: string): Promise<T> {
  const specifier = new URL(`../../../src/drbd/${relative}`, import.meta.url).href;
  return (await import(specifier)) as T;
}

export async function readSource(source: GuestSource): Promise<Reading> {
  switch (source) {
    case 'proc': {
      const { parseProcDrbd } = await load<{ parseProcDrbd: (text: string) => DrbdStatus }>('proc-drbd.js');
      const raw = await readFile('/proc/drbd', 'utf8');
      return { status: parseProcDrbd(raw), raw };
    }
    case 'events2': {
      const { parseEvents2 } = await load<{ parseEvents2: (text: string) => DrbdStatus }>('events2.js');
      const { stdout } = await run('drbdsetup', ['events2', '--now', '--statistics', 'all'], { timeout: 20_000 });
      return { status: parseEvents2(stdout), raw: stdout };
    }
    case 'netlink': {
      const { readDrbdStatusNetlink } = await load<{ readDrbdStatusNetlink: () => Promise<DrbdStatus> }>('netlink-status.js');
      return { status: await readDrbdStatusNetlink(), raw: null };
    }
    case 'auto': {
      const { readLiveStatus } = await load<{ readLiveStatus: (o: { source: 'auto' }) => Promise<DrbdStatus> }>('read-status.js');
      return { status: await readLiveStatus({ source: 'auto' }), raw: null };
    }
  }
}

export async function loadReport(): Promise<typeof import('../../../src/drbd/status-report.js')> {
  return load('status-report.js');
}
