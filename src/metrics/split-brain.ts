/**
 * Split-brain detection from the state-change stream.
 *
 * DRBD 8.4 logs "Split-Brain detected but unresolved, dropping connection!"
 * during the connection handshake and tears the connection down: the
 * connection goes WFReportParams → Disconnecting → StandAlone. A user's
 * `drbdadm disconnect` also ends in StandAlone, but from Connected or
 * WFConnection, never from the handshake. So: a connection that reaches
 * StandAlone straight out of the handshake is flagged, and stays flagged
 * until it leaves StandAlone (someone resolved it and reconnected) or goes
 * away. The same handshake refusal happens for "Unrelated data" (no common
 * generation UUID), which needs the same manual repair, so it is flagged too.
 *
 * Not seen: a split-brain that happened before the exporter started (the
 * connection is StandAlone at the first status, with no history), and on
 * DRBD 9 a split-brain found after the connection reached Connected (DRBD 9
 * negotiates per peer device after Connected).
 */
import type { ConnectionState } from '../drbd/states.js';
import type { ConnectionStatus } from '../drbd/status-model.js';
import type { StatusChange } from '../drbd/watch.js';

/** Connection states of the handshake (8.4 words, and DRBD 9's Connecting). */
const HANDSHAKE_STATES: ReadonlySet<string> = new Set<ConnectionState>(['WFReportParams', 'Connecting']);

/** The key watch.ts gives a connection in StatusChange.peer: its name, else its node id, else its position. */
export function connectionPeerKey(connection: ConnectionStatus, index: number): string {
  return connection.name ?? (connection.peerNodeId !== null ? String(connection.peerNodeId) : String(index));
}

const keyOf = (resource: string | null, peer: string | null | undefined): string => `${resource ?? ''}\u0000${peer ?? ''}`;

export interface SplitBrainEvent {
  resource: string | null;
  peer: string | null;
  /** The connection state the handshake was in before DRBD dropped it. */
  during: string;
  /** Date.now() when it was seen. */
  at: number;
}

export class SplitBrainDetector {
  /** Connection state before Disconnecting, per connection. */
  private readonly beforeDisconnect = new Map<string, string | null>();
  private readonly flagged = new Map<string, SplitBrainEvent>();
  private detections = 0;

  /** Feeds the changes of one watch delivery, in order. */
  observe(changes: readonly StatusChange[], now: number = Date.now()): void {
    for (const change of changes) {
      if (change.object === 'connection' && change.field === 'connectionState') this.onConnectionState(change, now);
      else if (change.object === 'resource' && change.field === 'role' && change.to === null) this.forgetResource(change.resource);
    }
  }

  private onConnectionState(change: StatusChange, now: number): void {
    const key = keyOf(change.resource, change.peer);
    const { from, to } = change;
    if (to === null) {
      this.beforeDisconnect.delete(key);
      this.flagged.delete(key);
      return;
    }
    if (to === 'Disconnecting') {
      this.beforeDisconnect.set(key, from);
      return;
    }
    if (to === 'StandAlone') {
      const prior = from === 'Disconnecting' ? (this.beforeDisconnect.get(key) ?? null) : from;
      this.beforeDisconnect.delete(key);
      if (prior !== null && HANDSHAKE_STATES.has(prior)) {
        this.detections++;
        this.flagged.set(key, { resource: change.resource, peer: change.peer ?? null, during: prior, at: now });
      }
      return;
    }
    // Any other state: the connection left StandAlone (reconnect) or never got there.
    this.beforeDisconnect.delete(key);
    this.flagged.delete(key);
  }

  private forgetResource(resource: string | null): void {
    const prefix = `${resource ?? ''}\u0000`;
    for (const key of [...this.flagged.keys()]) if (key.startsWith(prefix)) this.flagged.delete(key);
    for (const key of [...this.beforeDisconnect.keys()]) if (key.startsWith(prefix)) this.beforeDisconnect.delete(key);
  }

  /** The split-brain seen on this connection and not resolved since, if any. */
  get(resource: string | null, peer: string): SplitBrainEvent | undefined {
    return this.flagged.get(keyOf(resource, peer));
  }

  /** Every unresolved split-brain. */
  get active(): SplitBrainEvent[] {
    return [...this.flagged.values()];
  }

  /** How many were seen since the exporter started (resolved ones included). */
  get total(): number {
    return this.detections;
  }
}
