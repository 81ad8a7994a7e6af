/**
 * The DRBD options hastor types, one table per configuration section: the
 * keyword drbdadm reads, the kind of value, and for numbers the scale and the
 * range from drbd_limits.h. "8.4" ranges are the mainline kernel's
 * include/linux/drbd_limits.h (in-tree DRBD 8.4.11, what the lab runs), "9"
 * ranges are drbd-headers' linux/drbd_limits.h, except `c-max-rate` whose
 * minimum became 0 in DRBD 9.0.28 (drbd.conf-9.0(5); drbdadm 9.22 accepts 0).
 * Option lists and enum words follow drbd-utils' config_flags.c (v84 and v9)
 * and the drbd.conf-8.4(5)/drbd.conf-9.0(5) man pages of drbd-utils 9.22.
 *
 * Anything drbdadm knows but these tables do not goes to a section's `extra`
 * map verbatim, so an imported configuration renders back without loss.
 */
import type { Scale } from './units.js';

export const DRBD_TARGETS = ['8.4', '9'] as const;
export type DrbdTarget = (typeof DRBD_TARGETS)[number];

export interface Range {
  readonly min: number;
  readonly max: number;
}

interface SpecBase {
  /** The word in the configuration file. */
  readonly keyword: string;
  /** Targets whose drbdadm knows the option; absent means both. */
  readonly targets?: readonly DrbdTarget[];
}
export interface BooleanSpec extends SpecBase {
  readonly type: 'boolean';
}
export interface EnumSpec<V extends string = string, P extends string = never> extends SpecBase {
  readonly type: 'enum';
  readonly values: Readonly<Record<DrbdTarget, readonly V[]>>;
  /** A word that may be followed by a host name (`discard-node-<host>`). */
  readonly hostPrefix?: P;
}
export interface NumberSpec extends SpecBase {
  readonly type: 'number';
  readonly scale: Scale;
  /** What one unit of the stored number is, for messages. */
  readonly unit: string;
  readonly range: Readonly<Record<DrbdTarget, Range>>;
}
export interface StringSpec extends SpecBase {
  readonly type: 'string';
  readonly maxLength: number;
}
/** `quorum`-style: a symbol or a node count. */
export interface CountSpec<V extends string = string> extends SpecBase {
  readonly type: 'count';
  readonly symbols: readonly V[];
  readonly range: Range;
}
export type OptionSpec = BooleanSpec | EnumSpec<string, string> | NumberSpec | StringSpec | CountSpec;

/** The model's value type for one option. */
export type SpecValue<S> = S extends BooleanSpec
  ? boolean
  : S extends EnumSpec<infer V, infer P>
    ? V | `${P}${string}`
    : S extends NumberSpec
      ? number
      : S extends CountSpec<infer V>
        ? V | number
        : string;

/** A section's typed options plus the verbatim passthrough of everything else. */
export type SectionValues<T> = { [K in keyof T]?: SpecValue<T[K]> } & {
  /** Options hastor does not type: keyword → raw value, `true` for a bare flag. */
  extra?: Record<string, string | true>;
};

const both = (min: number, max: number): Record<DrbdTarget, Range> => ({ '8.4': { min, max }, '9': { min, max } });
const bool = (keyword: string, targets?: readonly DrbdTarget[]): BooleanSpec => ({ type: 'boolean', keyword, ...(targets && { targets }) });
const str = (keyword: string, maxLength: number, targets?: readonly DrbdTarget[]): StringSpec => ({
  type: 'string',
  keyword,
  maxLength,
  ...(targets && { targets }),
});
const num = (
  keyword: string,
  scale: Scale,
  unit: string,
  range: Record<DrbdTarget, Range>,
  targets?: readonly DrbdTarget[],
): NumberSpec => ({ type: 'number', keyword, scale, unit, range, ...(targets && { targets }) });
function oneOf<const V extends string>(keyword: string, values: readonly V[], targets?: readonly DrbdTarget[]): EnumSpec<V> {
  return { type: 'enum', keyword, values: { '8.4': values, '9': values }, ...(targets && { targets }) };
}

/** SHARED_SECRET_MAX is 64 bytes with the NUL (drbd.h); netlink string policies allow max-1 characters. */
const ALG_MAX = 63;
/** Longest double-quoted string drbdadm's scanner takes (DQSTRING in drbdadm_scanner.fl). */
export const QUOTED_MAX = 255;

const AL_EXTENTS: Record<DrbdTarget, Range> = { '8.4': { min: 7, max: 6433 }, '9': { min: 67, max: 65534 } };

export const AFTER_SB_0PRI = [
  'disconnect',
  'discard-younger-primary',
  'discard-older-primary',
  'discard-zero-changes',
  'discard-least-changes',
  'discard-local',
  'discard-remote',
] as const;
export const AFTER_SB_1PRI = ['disconnect', 'consensus', 'violently-as0p', 'discard-secondary', 'call-pri-lost-after-sb'] as const;
/** Everything DRBD accepts for two primaries; `violently-as0p` silently throws away one primary's writes. */
export const AFTER_SB_2PRI = ['disconnect', 'violently-as0p', 'call-pri-lost-after-sb'] as const;
export const FENCING_POLICIES = ['dont-care', 'resource-only', 'resource-and-stonith'] as const;
export type FencingPolicy = (typeof FENCING_POLICIES)[number];

const RR_CONFLICT_84 = ['disconnect', 'violently', 'call-pri-lost'] as const;
const RR_CONFLICT_9 = [...RR_CONFLICT_84, 'retry-connect', 'auto-discard'] as const;

export const NET_OPTIONS = {
  allowTwoPrimaries: bool('allow-two-primaries'),
  afterSb0pri: {
    type: 'enum',
    keyword: 'after-sb-0pri',
    values: { '8.4': AFTER_SB_0PRI, '9': AFTER_SB_0PRI },
    hostPrefix: 'discard-node-',
  } as EnumSpec<(typeof AFTER_SB_0PRI)[number], 'discard-node-'>,
  afterSb1pri: oneOf('after-sb-1pri', AFTER_SB_1PRI),
  afterSb2pri: oneOf('after-sb-2pri', AFTER_SB_2PRI),
  alwaysAsbp: bool('always-asbp'),
  rrConflict: {
    type: 'enum',
    keyword: 'rr-conflict',
    values: { '8.4': RR_CONFLICT_84, '9': RR_CONFLICT_9 },
  } as EnumSpec<(typeof RR_CONFLICT_9)[number]>,
  cramHmacAlg: str('cram-hmac-alg', ALG_MAX),
  sharedSecret: str('shared-secret', ALG_MAX),
  timeout: num('timeout', '1', '1/10 s', both(1, 600)),
  connectInt: num('connect-int', '1', 's', both(1, 120)),
  pingInt: num('ping-int', '1', 's', both(1, 120)),
  pingTimeout: num('ping-timeout', '1', '1/10 s', both(1, 300)),
  socketCheckTimeout: num('socket-check-timeout', '1', '1/10 s', both(0, 300)),
  koCount: num('ko-count', '1', 'timeouts', both(0, 200)),
  maxEpochSize: num('max-epoch-size', '1', 'requests', both(1, 20000)),
  maxBuffers: num('max-buffers', '1', 'pages', both(32, 131072)),
  unplugWatermark: num('unplug-watermark', '1', 'requests', both(1, 131072), ['8.4']),
  sndbufSize: num('sndbuf-size', '1', 'bytes', both(0, 10 << 20)),
  rcvbufSize: num('rcvbuf-size', '1', 'bytes', both(0, 10 << 20)),
  onCongestion: oneOf('on-congestion', ['block', 'pull-ahead', 'disconnect']),
  congestionFill: num('congestion-fill', 's', 'sectors', both(0, 10 << 21)),
  congestionExtents: num('congestion-extents', '1', 'extents', AL_EXTENTS),
  dataIntegrityAlg: str('data-integrity-alg', ALG_MAX),
  verifyAlg: str('verify-alg', ALG_MAX),
  csumsAlg: str('csums-alg', ALG_MAX),
  csumsAfterCrashOnly: bool('csums-after-crash-only'),
  tcpCork: bool('tcp-cork'),
  useRle: bool('use-rle'),
  transport: str('transport', 31, ['9']),
  allowRemoteRead: bool('allow-remote-read', ['9']),
} as const;

/** Per-connection resync controller options (DRBD 9 "peer-device-options", written in a `disk` section). */
export const PEER_DEVICE_OPTIONS = {
  resyncRate: num('resync-rate', 'k', 'KiB/s', { '8.4': { min: 1, max: 4 << 20 }, '9': { min: 1, max: 8 << 20 } }),
  cPlanAhead: num('c-plan-ahead', '1', '1/10 s', both(0, 300)),
  cDelayTarget: num('c-delay-target', '1', '1/10 s', both(1, 100)),
  cFillTarget: num('c-fill-target', 's', 'sectors', both(0, 1 << 20)),
  cMaxRate: num('c-max-rate', 'k', 'KiB/s', { '8.4': { min: 250, max: 4 << 20 }, '9': { min: 0, max: 4 << 20 } }),
  cMinRate: num('c-min-rate', 'k', 'KiB/s', both(0, 4 << 20)),
} as const;

export const DISK_OPTIONS = {
  onIoError: oneOf('on-io-error', ['pass_on', 'call-local-io-error', 'detach']),
  /** A disk option for 8.4, a net option for DRBD 9; the renderer puts it where the target wants it. */
  fencing: oneOf('fencing', FENCING_POLICIES),
  diskBarrier: bool('disk-barrier'),
  diskFlushes: bool('disk-flushes'),
  diskDrain: bool('disk-drain'),
  mdFlushes: bool('md-flushes'),
  ...PEER_DEVICE_OPTIONS,
  resyncAfter: str('resync-after', 133),
  alExtents: num('al-extents', '1', 'extents', AL_EXTENTS),
  alUpdates: bool('al-updates'),
  discardZeroesIfAligned: bool('discard-zeroes-if-aligned'),
  disableWriteSame: bool('disable-write-same'),
  diskTimeout: num('disk-timeout', '1', '1/10 s', both(0, 6000)),
  readBalancing: oneOf('read-balancing', [
    'prefer-local',
    'prefer-remote',
    'round-robin',
    'least-pending',
    'when-congested-remote',
    '32K-striping',
    '64K-striping',
    '128K-striping',
    '256K-striping',
    '512K-striping',
    '1M-striping',
  ]),
  rsDiscardGranularity: num('rs-discard-granularity', '1', 'bytes', both(0, 1 << 20)),
  maxBioBvecs: num('max-bio-bvecs', '1', 'bvecs', both(0, 128), ['8.4']),
} as const;

export const RESOURCE_OPTIONS = {
  cpuMask: str('cpu-mask', 31),
  onNoDataAccessible: oneOf('on-no-data-accessible', ['io-error', 'suspend-io']),
  autoPromote: bool('auto-promote', ['9']),
  autoPromoteTimeout: num('auto-promote-timeout', '1', '1/10 s', both(0, 600), ['9']),
  peerAckWindow: num('peer-ack-window', 's', 'sectors', both(2048, 204800), ['9']),
  peerAckDelay: num('peer-ack-delay', '1', 'ms', both(1, 10000), ['9']),
  twopcTimeout: num('twopc-timeout', '1', '1/10 s', both(50, 600), ['9']),
  twopcRetryTimeout: num('twopc-retry-timeout', '1', '1/10 s', both(1, 50), ['9']),
  maxIoDepth: num('max-io-depth', '1', 'requests', both(4, 0xffffffff), ['9']),
  quorum: { type: 'count', keyword: 'quorum', symbols: ['off', 'majority', 'all'], range: { min: 1, max: 32 }, targets: ['9'] } as CountSpec<
    'off' | 'majority' | 'all'
  >,
  onNoQuorum: oneOf('on-no-quorum', ['io-error', 'suspend-io'], ['9']),
  quorumMinimumRedundancy: {
    type: 'count',
    keyword: 'quorum-minimum-redundancy',
    symbols: ['off', 'majority', 'all'],
    range: { min: 1, max: 32 },
    targets: ['9'],
  } as CountSpec<'off' | 'majority' | 'all'>,
  onSuspendedPrimaryOutdated: oneOf('on-suspended-primary-outdated', ['disconnect', 'force-secondary'], ['9']),
} as const;

export const STARTUP_OPTIONS = {
  wfcTimeout: num('wfc-timeout', '1', 's', both(0, 300000)),
  degrWfcTimeout: num('degr-wfc-timeout', '1', 's', both(0, 300000)),
  outdatedWfcTimeout: num('outdated-wfc-timeout', '1', 's', both(0, 300000)),
  waitAfterSb: bool('wait-after-sb'),
  /** A host name or `both`; drbdadm 9.22 parses it but leaves it out of `dump`/`dump-xml`. */
  becomePrimaryOn: str('become-primary-on', 64),
} as const;

const handler = (keyword: string, targets?: readonly DrbdTarget[]): StringSpec => str(keyword, QUOTED_MAX, targets);

export const HANDLERS = {
  fencePeer: handler('fence-peer'),
  unfencePeer: handler('unfence-peer'),
  splitBrain: handler('split-brain'),
  initialSplitBrain: handler('initial-split-brain'),
  priOnInconDegr: handler('pri-on-incon-degr'),
  priLostAfterSb: handler('pri-lost-after-sb'),
  priLost: handler('pri-lost'),
  localIoError: handler('local-io-error'),
  beforeResyncTarget: handler('before-resync-target'),
  afterResyncTarget: handler('after-resync-target'),
  beforeResyncSource: handler('before-resync-source'),
  outOfSync: handler('out-of-sync'),
  quorumLost: handler('quorum-lost', ['9']),
  disconnected: handler('disconnected', ['9']),
} as const;

export type NetOptions = SectionValues<typeof NET_OPTIONS>;
export type DiskOptions = SectionValues<typeof DISK_OPTIONS>;
export type PeerDeviceOptions = SectionValues<typeof PEER_DEVICE_OPTIONS>;
export type ResourceOptions = SectionValues<typeof RESOURCE_OPTIONS>;
export type StartupOptions = SectionValues<typeof STARTUP_OPTIONS>;
export type Handlers = SectionValues<typeof HANDLERS>;

export type SectionTable = Readonly<Record<string, OptionSpec>>;

export function availableOn(spec: OptionSpec, target: DrbdTarget): boolean {
  return spec.targets === undefined || spec.targets.includes(target);
}
