/** Generation of the stack's Pacemaker configuration: spec, builders, safety rules, renderers. */
export {
  PCMK_ACTIONS,
  PCMK_ID_MAX,
  RESOURCE_CLASSES,
  PCMK_ROLES,
  agentName,
  isValidPacemakerId,
  isValidPacemakerNodeName,
  pacemakerConfigSchema,
  pacemakerIdSchema,
  parseAgentName,
  validatePacemakerConfig,
  type PcmkAction,
  type PacemakerConfig,
  type PcmkClone,
  type PcmkColocation,
  type PcmkGroup,
  type PcmkLocation,
  type PcmkOp,
  type PcmkOrder,
  type PcmkPrimitive,
  type ResourceClass,
  type PcmkRole,
} from './spec.js';
export {
  DRBD_OPS,
  buildGuestsOnSharedLvm,
  buildServiceOnDrbd,
  stackIds,
  type DrbdCloneInput,
  type FencingInput,
  type GuestInput,
  type GuestsTopologyInput,
  type ServiceTopologyInput,
  type StonithDeviceInput,
} from './build.js';
export {
  PACEMAKER_RULES,
  assertPacemakerConfigSafe,
  checkPacemakerConfig,
  fencedHosts,
  type CheckPacemakerOptions,
  type DrbdFacts,
  type PacemakerFinding,
  type PacemakerRule,
} from './check.js';
export { CIB_VALIDATE_WITH, renderCib, type RenderCibOptions } from './render-cib.js';
export { crmQuote, renderCrmScript } from './render-crm.js';
export { renderPcsCommands, renderPcsScript, type RenderPcsOptions } from './render-pcs.js';
export { xmlEscape } from './xml-escape.js';
