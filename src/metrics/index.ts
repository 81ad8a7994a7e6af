/** The exporter's public names (re-exported by src/index.ts). */
export { startExporter, exporterHealth, readUtilsVersion, type Exporter, type ExporterOptions } from './exporter.js';
export {
  DrbdState,
  startDrbdFeed,
  checkDrbdFeedOptions,
  readModuleVersion,
  type DrbdFeed,
  type DrbdFeedMode,
  type DrbdFeedOptions,
  type DrbdHealth,
} from './drbd-state.js';
export {
  LvmState,
  startLvmFeed,
  checkLvmFeedOptions,
  lvmSampleFromReport,
  startedLockspaces,
  type LvmFeed,
  type LvmFeedOptions,
  type LvmSample,
  type LvmTier,
  type LvSample,
  type VgSample,
} from './lvm-state.js';
export {
  PacemakerState,
  createPacemakerCollector,
  checkPacemakerOptions,
  DEFAULT_PACEMAKER_TIMEOUT_MS,
  type PacemakerCollector,
  type PacemakerCollectorOptions,
  type PacemakerSample,
} from './pacemaker-state.js';
export { PACEMAKER_FAMILIES, fenceTimeSeconds, type PacemakerScrapeContext } from './pacemaker-families.js';
export { SplitBrainDetector, connectionPeerKey, type SplitBrainEvent } from './split-brain.js';
export {
  REACTOR_FAMILIES,
  HASTOR_DRBD_FAMILIES,
  REACTOR_ROLES,
  REACTOR_CONNECTION_STATES,
  REACTOR_DISK_STATES,
  drbdRows,
  resourceLabel,
  type Drbd9ResourceFields,
  type Drbd9DeviceFields,
  type Drbd9ConnectionFields,
} from './drbd-families.js';
export {
  createExporterRegistry,
  LVM_FAMILIES,
  EXPORTER_FAMILIES,
  type ExporterRegistry,
  type ExporterRegistryOptions,
  type ExporterScrapeContext,
  type ScrapeStats,
} from './registry.js';
export { registerFamilies, type FamilySpec, type FamilyType } from './family.js';
export {
  startMetricsServer,
  ListenError,
  parseListenAddress,
  DEFAULT_LISTEN_HOST,
  DEFAULT_LISTEN_PORT,
  type HealthReport,
  type MetricsServer,
  type MetricsServerOptions,
} from './server.js';
