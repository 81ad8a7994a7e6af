/**
 * DRBD state vocabularies, as the kernel and drbd-utils print them. DRBD 8.x
 * folds connection and replication into one `cs:` word; DRBD 9 (and
 * drbd-utils' events2/status on 8.4) splits them. The model keeps the word the
 * source printed; `canonicalConnectionState` maps 8.x words onto DRBD 9's.
 */

export const ROLES = ['Primary', 'Secondary', 'Unknown'] as const;
export type Role = (typeof ROLES)[number];

// In the kernel's enum drbd_disk_state order (DRBD 9): the netlink decoder indexes it.
export const DISK_STATES = [
  'Diskless',
  'Attaching',
  'Detaching',
  'Failed',
  'Negotiating',
  'Inconsistent',
  'Outdated',
  'DUnknown',
  'Consistent',
  'UpToDate',
] as const;
export type DiskState = (typeof DISK_STATES)[number];

/** Replication states (DRBD 9 `replication:`; on 8.x a subset of `cs:`), in enum drbd_repl_state order: the netlink decoder indexes it. */
export const REPLICATION_STATES = [
  'Off',
  'Established',
  'StartingSyncS',
  'StartingSyncT',
  'WFBitMapS',
  'WFBitMapT',
  'WFSyncUUID',
  'SyncSource',
  'SyncTarget',
  'VerifyS',
  'VerifyT',
  'PausedSyncS',
  'PausedSyncT',
  'Ahead',
  'Behind',
] as const;
export type ReplicationState = (typeof REPLICATION_STATES)[number];

/** Connection states of both generations (8.x `cs:` words that are not replication states, and DRBD 9's). */
export const CONNECTION_STATES = [
  'StandAlone',
  'Disconnecting',
  'Unconnected',
  'Timeout',
  'BrokenPipe',
  'NetworkFailure',
  'ProtocolError',
  'TearDown',
  'Connecting',
  'WFConnection',
  'WFReportParams',
  'Connected',
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export const PROTOCOLS = ['A', 'B', 'C'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** States in which resync (or online verify) moves data and progress is meaningful. */
export const SYNCING_STATES: ReadonlySet<ReplicationState> = new Set<ReplicationState>([
  'SyncSource',
  'SyncTarget',
  'PausedSyncS',
  'PausedSyncT',
  'VerifyS',
  'VerifyT',
]);

function isOneOf<T extends string>(list: readonly T[], word: string): word is T {
  return (list as readonly string[]).includes(word);
}

export const isRole = (word: string): word is Role => isOneOf(ROLES, word);
export const isDiskState = (word: string): word is DiskState => isOneOf(DISK_STATES, word);
export const isReplicationState = (word: string): word is ReplicationState => isOneOf(REPLICATION_STATES, word);
export const isConnectionState = (word: string): word is ConnectionState => isOneOf(CONNECTION_STATES, word);
export const isProtocol = (word: string): word is Protocol => isOneOf(PROTOCOLS, word);

export interface SplitConnectionState {
  connectionState: ConnectionState;
  replicationState: ReplicationState;
}

/**
 * Splits an 8.x `cs:` word. A replication word (SyncSource, VerifyT, Ahead …)
 * means the connection is up; `Connected` itself means Established.
 * Returns null for an unknown word so the caller can raise a ParseError with
 * its own position.
 */
export function splitLegacyConnectionState(word: string): SplitConnectionState | null {
  if (word === 'Connected') return { connectionState: 'Connected', replicationState: 'Established' };
  if (isReplicationState(word) && word !== 'Off' && word !== 'Established') {
    return { connectionState: 'Connected', replicationState: word };
  }
  if (isConnectionState(word)) return { connectionState: word, replicationState: 'Off' };
  return null;
}

/** Maps an 8.x connection word onto DRBD 9's vocabulary, for comparing sources. */
export function canonicalConnectionState(state: ConnectionState): ConnectionState {
  switch (state) {
    case 'WFConnection':
    case 'WFReportParams':
      return 'Connecting';
    default:
      return state;
  }
}
