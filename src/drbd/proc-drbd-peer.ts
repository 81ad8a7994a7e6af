/**
 * DRBD 9's per-peer-device debugfs file
 * `/sys/kernel/debug/drbd/resources/<res>/connections/<peer>/<vol>/proc_drbd`
 * (drbd_debugfs.c, peer_device_proc_drbd_show): one device block in the
 * /proc/drbd layout of 8.4, seen from one peer. Differences from 8.x:
 * `cs:` holds the replication state (Established, SyncSource, Off …),
 * `pe:[ap;rs]` and `ap:[writes;reads]` are pairs (summed here), `wo:` is the
 * write-ordering number, and a `blocked on activity log: a/b/c` line ends the
 * block.
 *
 * The file says nothing about the connection state, the resource name, the
 * peer or the volume (those are in the path), so the result is not a whole
 * DrbdStatus: it is the device and peer-device halves of the model plus the
 * roles, for the caller to place under the resource/connection it walked to.
 */
import { isReplicationState } from './states.js';
import type { Protocol, ReplicationState, Role } from './states.js';
import type { DeviceStatus, ParseWarning, PeerDeviceStatus } from './status-model.js';
import {
  BLANK_RE,
  DEVICE_START_RE,
  deviceFromBlock,
  fail,
  feedDeviceLine,
  newDeviceBlock,
  parseDeviceLine,
  peerDeviceFromBlock,
  requireComplete,
  splitLines,
  suspendedFromFlags,
} from './proc-drbd-lines.js';
import type { DeviceBlock } from './proc-drbd-lines.js';

const SOURCE = 'debugfs proc_drbd';

const BLOCKED_AL_RE = /^\s*blocked on activity log: (\d{1,10})\/(\d{1,10})\/(\d{1,10})\s*$/;

/** Requests waiting for activity-log extents (`blocked on activity log: a/b/c`). */
export interface ActivityLogBlocked {
  /** Application requests waiting. */
  requests: number;
  /** Peer (replicated) requests waiting. */
  peerRequests: number;
  /** Extents needed to satisfy both in the worst case. */
  extentsNeeded: number;
}

export interface Drbd9ProcPeer {
  minor: number;
  /** This node's role in the resource. */
  role: Role;
  peerRole: Role;
  protocol: Protocol | null;
  /** `'no'`/`'yes'` from the first io flag (the reason is not shown). */
  suspended: string | null;
  /** `volume` is null: the volume number is the directory name in the path. */
  device: DeviceStatus;
  /** `volume` is null for the same reason. */
  peerDevice: PeerDeviceStatus;
  activityLogBlocked: ActivityLogBlocked | null;
  /** Unknown fields kept in `extra` maps; empty when everything was understood. */
  warnings: ParseWarning[];
}

/**
 * Parses one debugfs `proc_drbd` file. Pure; throws ParseError on anything it
 * does not recognise, on a second device block, or on a truncated block.
 */
export function parseDrbd9ProcPeer(text: string): Drbd9ProcPeer {
  const lines = splitLines(text);
  let block: DeviceBlock | null = null;
  let blocked: ActivityLogBlocked | null = null;

  for (const line of lines) {
    if (BLANK_RE.test(line.text)) continue;
    if (DEVICE_START_RE.test(line.text)) {
      if (block !== null) fail(SOURCE, 'more than one device block (expected one file per peer device)', line);
      const parsed = parseDeviceLine(SOURCE, line);
      if (parsed.kind === 'unconfigured') fail(SOURCE, 'a peer device cannot be "Unconfigured"', line);
      if (!isReplicationState(parsed.stateWord)) {
        fail(SOURCE, `unknown replication state "${parsed.stateWord}"`, line);
      }
      block = newDeviceBlock(parsed, line);
      continue;
    }
    if (block === null) fail(SOURCE, 'expected the device line ("N: cs:… ro:… ds:…") first', line);
    if (blocked !== null) fail(SOURCE, 'text after the "blocked on activity log" line', line);
    const al = BLOCKED_AL_RE.exec(line.text);
    if (al && block.counters !== null) {
      blocked = { requests: Number(al[1]), peerRequests: Number(al[2]), extentsNeeded: Number(al[3]) };
      continue;
    }
    if (!feedDeviceLine(SOURCE, block, line)) fail(SOURCE, 'unrecognised line in the device block', line);
  }
  if (block === null) fail(SOURCE, 'empty input (no device line)');
  return toPeer(block, blocked);
}

function toPeer(block: DeviceBlock, activityLogBlocked: ActivityLogBlocked | null): Drbd9ProcPeer {
  const { header } = block;
  const c = requireComplete(SOURCE, block);
  // The word was checked when the device line was read.
  const replicationState = header.stateWord as ReplicationState;
  return {
    minor: header.minor,
    role: header.role,
    peerRole: header.peerRole,
    protocol: header.protocol,
    suspended: suspendedFromFlags(header.ioFlags),
    device: deviceFromBlock(block, c),
    peerDevice: peerDeviceFromBlock(block, c, replicationState),
    activityLogBlocked,
    warnings: block.warnings,
  };
}
