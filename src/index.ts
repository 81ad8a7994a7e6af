/** hastor's public API: re-exported names only. */
export * from './errors.js';
export { packageRoot, packageVersion } from './package-root.js';
export * from './drbd/states.js';
export * from './drbd/status-model.js';
export * from './drbd/status-report.js';
export { parseProcDrbd } from './drbd/proc-drbd.js';
export { parseDrbd9ProcPeer, type Drbd9ProcPeer, type ActivityLogBlocked } from './drbd/proc-drbd-peer.js';
export {
  parseEvents2,
  parseEvents2Line,
  readEvents2,
  Events2State,
  UNKNOWN_MINOR,
  EVENTS2_ACTIONS,
  EVENTS2_OBJECTS,
  type Events2Event,
  type Events2Options,
  type Events2Update,
  type ReadEvents2Options,
} from './drbd/events2.js';
export { parseStatusText } from './drbd/status-text.js';
export {
  compareGenerations,
  parseGenerationIdentifiers,
  showGiArgv,
  splitBrainRecords,
  type GenerationFlags,
  type GenerationIdentifiers,
  type GenerationRelation,
  type SplitBrainRecord,
} from './drbd/generation-identifiers.js';
export { parseStatusJson } from './drbd/status-json.js';
export * from './drbd/config/index.js';
export { readDrbdStatusNetlink, watchDrbdNetlink } from './drbd/netlink-status.js';
export { NoDrbdFamilyError, DrbdNetlinkError } from './drbd/genl/errors.js';
export { decodeDrbdStatusDump, applyDrbdEvent, DrbdStatusTracker } from './drbd/genl/status-tracker.js';
export {
  readLiveStatus,
  readStatusFile,
  DrbdUnavailableError,
  type LiveSource,
  type FileFormat,
  type ReadLiveStatusOptions,
} from './drbd/read-status.js';
export { runLocal, type RunOptions, type RunResult } from './sys/local-exec.js';
export {
  LocalExecutor,
  SshExecutor,
  shellQuote,
  onNode,
  type Executor,
  type ExecOptions,
  type WriteFileOptions,
  type SshTarget,
} from './sys/executor.js';
export * from './lvm/index.js';
export * from './drbd/lifecycle/index.js';
export * from './stack/index.js';
export { openDrbdNetlinkReader, isStaleFamilyError, type DrbdNetlinkReader } from './drbd/netlink-reader.js';
export {
  watchDrbd,
  diffStatus,
  type StatusChange,
  type WatchEvent,
  type WatchDrbdOptions,
  type DrbdWatch,
  type WatchSource,
} from './drbd/watch.js';
export * from './sys/block-device.js';
export * from './sys/filesystem.js';
export { MAX_TIMER_MS, checkTimerMs } from './sys/timer-ms.js';
export { CAPTURE_MAX_BYTES, readCaptureFile, readStreamCapped } from './sys/capped-read.js';
export * from './metrics/index.js';
export * from './pacemaker/index.js';
export * from './pacemaker/generate/index.js';
