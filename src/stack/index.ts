/** What spans nodes and layers: the cluster, the DRBD resource lifecycle, runtime safety rules, drift. */
export { Cluster, ClusterStepError, type ClusterNode, type ClusterOptions, type NodeOutcome, type StepOptions } from './cluster.js';
export { ActionError, ResourceStateError, type Action, type FileWrite, type OperationResult } from './actions.js';
export {
  DrbdResource,
  type CreateOptions,
  type DeleteOptions,
  type DrbdResourceOptions,
  type DualPrimaryOptions,
  type EndDualPrimaryOptions,
  type InvalidateOptions,
  type LifecycleTimeouts,
  type NodesOption,
  type OperationOptions,
  type PromoteOptions,
  type VerifyNodeReport,
  type VerifyOptions,
  type VerifyResult,
} from './drbd-resource.js';
export { RUNTIME_RULES, checkOverrides, type RuntimeRule } from './runtime-safety.js';
export { detectDrift, type DriftItem, type DriftKind, type DriftReport, type NodeDriftInfo } from './drift.js';
export type { UpperLayerCheck, UpperLayerVerdict } from './upper-layer.js';
export { pacemakerCheck, pacemakerHoldFrom, assertNotBehindClusterManager, assertClusterSettled, pacemakerWayFor, type ClusterManagerCheck, type PacemakerHold } from './cluster-manager.js';
export { lvmUpperLayerCheck, lvmVerdict, lvmFindingsOn, resourceDevices } from './upper-layer-lvm.js';
export * from './growth/plan.js';
export { MAX_GROWTH_BYTES, MAX_GROWTH_LIMIT_TEXT, checkGrowthTarget } from './growth/limits.js';
export type * from './growth/types.js';
export * from './growth/topology.js';
export * from './growth/read-state.js';
export * from './growth/execute.js';
export {
  DEFAULT_CLUSTER_FILE,
  clusterFileSchema,
  clusterFromFile,
  executorFor,
  loadClusterFile,
  lvmHostIdOf,
  parseClusterFile,
  type ClusterFile,
  type ClusterFilePacemaker,
  type ClusterFileGuest,
  type ClusterFileNode,
  type ClusterFileSsh,
  type LoadedCluster,
} from './cluster-file.js';
export {
  DOCTOR_RULES,
  DOCTOR_SEVERITIES,
  doctorFindingSchema,
  doctorReportSchema,
  runDoctor,
  type DoctorFinding,
  type DoctorOptions,
  type DoctorReport,
  type DoctorSeverity,
} from './doctor.js';
export {
  SPLIT_BRAIN_SNAPSHOT_RULE,
  SPLIT_BRAIN_SNAPSHOT_TAG,
  assertSplitBrain,
  chooseVictim,
  discardMyDataArgv,
  fullSnapshotBytes,
  inspectSplitBrain,
  newerWrites,
  planResolution,
  planSnapshots,
  resolveSplitBrain,
  snapshotArgv,
  snapshotName,
  splitBrainVerdict,
  type BackingVolume,
  type ChosenVictim,
  type NewerWrites,
  type ResolveSplitBrainOptions,
  type SplitBrainProgress,
  type SplitBrainReport,
  type SplitBrainResult,
  type SplitBrainSide,
  type SplitBrainSnapshot,
  type SplitBrainVolume,
  type VictimChoice,
} from './split-brain.js';
export {
  CRM_FENCE_HANDLERS,
  DRBD_PACEMAKER_RULE,
  STACK_TOPOLOGIES,
  checkDrbdForPacemaker,
  drbdFactsOf,
  generateStackPacemakerConfig,
  withPacemakerFencing,
  type GenerateStackOptions,
  type GeneratedStack,
  type StackTopology,
} from './pacemaker-config.js';
export { applyStackPacemakerConfig, type AppliedStack, type ApplyStackOptions } from './pacemaker-apply.js';
