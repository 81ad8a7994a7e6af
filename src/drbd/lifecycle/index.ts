/** DRBD operations on one node: argv builders, versions, state questions, signatures, device users, waits. */
export {
  assertResourceName,
  drbdadm,
  drbdadmAdjustDryRun,
  drbdadmAllowTwoPrimaries,
  drbdadmCreateMd,
  drbdadmPrimary,
  drbdadmVersion,
  drbdadmWipeMd,
  drbdsetupEvents2Now,
  drbdsetupShow,
  type SimpleDrbdadmCommand,
} from './drbdadm-argv.js';
export { generationFromCode, parseDrbdadmVersion, renderTargetFor, versionFromCode, type DrbdGeneration, type DrbdVersions } from './generation.js';
export { classifySignatures, parseWipefsTypes, wipefsArgv, type BackingSignatures } from './signatures.js';
export { describeUse, fdScanArgv, isInUse, mountsOf, parseDevNumber, parseFdScan, parseHolders, type DeviceUse } from './device-use.js';
export { parseAdjustDryRun, parseDrbdsetupShow, twoPrimariesAllowed, verifyAlgorithm, type RunningConfig } from './running-config.js';
export {
  describeState,
  hasUpToDateData,
  isAttached,
  isConnected,
  isFreshlyCreated,
  isInSync,
  isPrimary,
  isResyncing,
  isResyncState,
  isStandAlone,
  isUp,
  isVerifying,
  outOfSyncBytes,
  peerHasUpToDateData,
  peerIsPrimary,
  type MaybeStatus,
} from './resource-state.js';
export { DrbdNode, type DrbdNodeOptions } from './drbd-node.js';
export { StateTimeoutError, pollUntil, type PollOptions } from './wait.js';
