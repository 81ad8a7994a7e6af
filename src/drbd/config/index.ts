/** DRBD resource definitions: schema, `.res` rendering, import of drbdadm output, config safety rules, drift. */
export {
  ADDRESS_FAMILIES,
  DEVICE_PATH_MAX,
  HOST_NAME_MAX,
  MINOR_MAX,
  NODE_ID_MAX,
  RESOURCE_NAME_MAX,
  VOLUME_MAX,
  formatIssuePath,
  isValidDevicePath,
  isValidHostName,
  isValidResourceName,
  matchesHost,
  parseResourceDefinition,
  resourceDefinitionSchema,
  validateResourceDefinition,
  type Address,
  type AddressFamily,
  type ConnectionDefinition,
  type ConnectionEndpoint,
  type ConnectionMesh,
  type ConnectionOverrides,
  type MetaDisk,
  type NodeDefinition,
  type ResourceDefinition,
  type ResourceDefinitionInput,
  type ValidationResult,
  type VolumeDefinition,
} from './schema.js';
export {
  AFTER_SB_0PRI,
  AFTER_SB_1PRI,
  AFTER_SB_2PRI,
  DISK_OPTIONS,
  DRBD_TARGETS,
  FENCING_POLICIES,
  HANDLERS,
  NET_OPTIONS,
  PEER_DEVICE_OPTIONS,
  RESOURCE_OPTIONS,
  STARTUP_OPTIONS,
  type DiskOptions,
  type DrbdTarget,
  type FencingPolicy,
  type Handlers,
  type NetOptions,
  type OptionSpec,
  type PeerDeviceOptions,
  type ResourceOptions,
  type StartupOptions,
} from './options.js';
export { parseDrbdNumber, type Scale } from './units.js';
export { renderResource, type RenderOptions } from './render.js';
export { parseDrbdadmDump, type DrbdadmImportOptions } from './import-dump.js';
export { parseDrbdadmDumpXml } from './import-xml.js';
export { SAFETY_RULES, assertSafe, checkResourceSafety, type AssertSafeOptions, type Finding, type SafetyRule } from './safety.js';
export { diffResources, type ConfigDifference } from './drift.js';
