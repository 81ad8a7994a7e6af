/**
 * Reads DRBD state from the best live source, or from a saved file.
 * Live order: the kernel's generic-netlink `drbd` family (no process
 * forked, has sync progress on every generation), then `drbdsetup events2
 * --now --statistics`, then /proc/drbd.
 */
import { readFile } from 'node:fs/promises';
import { readCaptureFile } from '../sys/capped-read.js';
import { HastorError } from '../errors.js';
import { runLocal } from '../sys/local-exec.js';
import { parseEvents2 } from './events2.js';
import { readDrbdStatusNetlink } from './netlink-status.js';
import { parseProcDrbd } from './proc-drbd.js';
import { parseStatusJson } from './status-json.js';
import type { DrbdStatus, SyncProgress } from './status-model.js';

export type LiveSource = 'auto' | 'netlink' | 'events2' | 'proc';
export type FileFormat = 'proc' | 'events2' | 'json';

export interface ReadLiveStatusOptions {
  source?: LiveSource;
  /** Where /proc/drbd lives (tests point it elsewhere). */
  procPath?: string;
  /** The drbdsetup executable. */
  drbdsetup?: string;
  timeoutMs?: number;
}

/** No source could be read: the module is not loaded, or every reader failed. */
export class DrbdUnavailableError extends HastorError {
  readonly attempts: readonly { source: LiveSource; error: unknown }[];

  constructor(attempts: readonly { source: LiveSource; error: unknown }[]) {
    const tried = attempts.map((a) => `${a.source}: ${(a.error as Error)?.message ?? String(a.error)}`).join('; ');
    super('E_DRBD_UNAVAILABLE', `cannot read DRBD state (${tried}). Is the drbd kernel module loaded (modprobe drbd)?`);
    this.attempts = attempts;
  }
}

async function readProc(procPath: string): Promise<DrbdStatus> {
  return parseProcDrbd(await readCaptureFile(procPath));
}

/** True when the loaded module is DRBD 8.x, whose events2 prints placeholder peer ids and names. */
async function moduleIsDrbd8(procPath: string): Promise<boolean> {
  try {
    const head = (await readFile(procPath, 'utf8')).slice(0, 64);
    return /^version: 8\./.test(head);
  } catch {
    return false;
  }
}

async function readEvents2Now(drbdsetup: string, procPath: string, timeoutMs: number): Promise<DrbdStatus> {
  const [{ stdout }, drbd84] = await Promise.all([
    runLocal([drbdsetup, 'events2', '--now', '--statistics', 'all'], { timeoutMs }),
    moduleIsDrbd8(procPath),
  ]);
  return parseEvents2(stdout, { drbd84 });
}

/** Errors that mean "try the next source", not "this source is broken". */
function isUnavailable(error: unknown): boolean {
  if (!(error instanceof HastorError)) return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
  // E_DRBD_NETLINK covers EPERM for a non-root user: events2 or /proc/drbd may still work.
  return ['E_NO_DRBD_FAMILY', 'E_DRBD_NETLINK', 'E_NATIVE', 'E_COMMAND'].includes(error.code);
}

/**
 * DRBD 8.4's netlink state carries exact resync bit counts but no speed, ETA
 * or version; /proc/drbd has them and costs no fork. Fills what netlink left
 * empty, matching devices by minor; never overrides a netlink figure.
 */
export function addProcDetails(status: DrbdStatus, proc: DrbdStatus): DrbdStatus {
  const procSyncByMinor = new Map<number, SyncProgress>();
  for (const resource of proc.resources) {
    const minor = resource.devices[0]?.minor;
    const sync = resource.connections[0]?.peerDevices[0]?.sync;
    if (minor !== undefined && sync) procSyncByMinor.set(minor, sync);
  }
  const resources = status.resources.map((resource) => ({
    ...resource,
    connections: resource.connections.map((connection) => ({
      ...connection,
      peerDevices: connection.peerDevices.map((peerDevice, index) => {
        const device = resource.devices.find((d) => d.volume === peerDevice.volume) ?? resource.devices[index];
        const fromProc = device ? procSyncByMinor.get(device.minor) : undefined;
        if (!peerDevice.sync || !fromProc) return peerDevice;
        const sync = peerDevice.sync;
        const speed = sync.speedBytesPerSecond ?? fromProc.speedBytesPerSecond;
        return {
          ...peerDevice,
          sync: {
            ...sync,
            speedBytesPerSecond: speed,
            averageSpeedBytesPerSecond: sync.averageSpeedBytesPerSecond ?? fromProc.averageSpeedBytesPerSecond,
            wantBytesPerSecond: sync.wantBytesPerSecond ?? fromProc.wantBytesPerSecond,
            etaSeconds:
              sync.etaSeconds ?? (speed !== null && speed > 0 ? Math.round(Number(sync.remainingBytes) / speed) : fromProc.etaSeconds),
            stalled: sync.stalled || fromProc.stalled,
          },
        };
      }),
    })),
  }));
  return { ...status, version: status.version ?? proc.version, resources };
}

async function readNetlinkWithProcDetails(procPath: string): Promise<DrbdStatus> {
  const status = await readDrbdStatusNetlink();
  let proc: DrbdStatus;
  try {
    proc = parseProcDrbd(await readCaptureFile(procPath));
  } catch {
    // The details are a bonus: netlink's own state stands without them.
    return status;
  }
  return addProcDetails(status, proc);
}

export async function readLiveStatus(options: ReadLiveStatusOptions = {}): Promise<DrbdStatus> {
  const procPath = options.procPath ?? '/proc/drbd';
  const drbdsetup = options.drbdsetup ?? 'drbdsetup';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const readers: Record<Exclude<LiveSource, 'auto'>, () => Promise<DrbdStatus>> = {
    netlink: () => readNetlinkWithProcDetails(procPath),
    events2: () => readEvents2Now(drbdsetup, procPath, timeoutMs),
    proc: () => readProc(procPath),
  };
  const source = options.source ?? 'auto';
  if (source !== 'auto') return readers[source]();

  const attempts: { source: LiveSource; error: unknown }[] = [];
  for (const name of ['netlink', 'events2', 'proc'] as const) {
    try {
      return await readers[name]();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      attempts.push({ source: name, error });
    }
  }
  throw new DrbdUnavailableError(attempts);
}

/** Parses a saved capture (support bundles, bug reports); `-` is stdin. At most CAPTURE_MAX_BYTES are read. */
export async function readStatusFile(path: string, format: FileFormat): Promise<DrbdStatus> {
  const text = await readCaptureFile(path);
  switch (format) {
    case 'proc':
      return parseProcDrbd(text);
    case 'events2':
      // Saved captures from 8.4 carry the same placeholders; a resource-level hint is not available, so keep them.
      return parseEvents2(text);
    case 'json':
      return parseStatusJson(text);
  }
}
