/**
 * Applying a Pacemaker configuration to a live cluster: read crm_mon and the
 * CIB on one node, plan (src/pacemaker/apply-plan.ts), write the difference
 * in one `cibadmin --patch`, then `crm_verify -L`. Idempotent: when the live
 * CIB already has the configuration nothing is written.
 *
 * Refusals (SafetyError): the configuration's own rules (no working fencing,
 * DRBD fencing, ordering: checkPacemakerConfig), the cluster in transition
 * (unsettledReasons), a stonith device of the configuration with a failed
 * monitor or start in crm_mon (unless this apply replaces that device), and
 * the plan's own (another cluster's CIB, stonith disabled live and not fixed,
 * an open dual-primary window, foreign ids or references).
 *
 * Pacemaker's tools run as root; `env` (e.g. `{ CIB_file: path }`) lets them
 * work on a CIB file instead of the running cluster.
 */
import { z } from 'zod';
import { CommandError, HastorError, SafetyError } from '../errors.js';
import type { Executor } from '../sys/executor.js';
import { crmMonPrimitives, type CrmMonStatus } from './crm-mon.js';
import { assertPacemakerConfigSafe, type CheckPacemakerOptions } from './generate/check.js';
import type { PacemakerConfig } from './generate/spec.js';
import { parseXml } from './xml.js';
import { assertSettled, unsettledReasons } from './operations.js';
import { readCibText, readCrmMon, toolRunOptions, type PacemakerToolOptions } from './read-cluster.js';
import { cibVersionOf, formatCibVersion, planPacemakerApply, type ApplyPlan, type CibVersion } from './apply-plan.js';

export const CIB_PATCH_ARGV = ['cibadmin', '--patch', '--xml-pipe'] as const;
export const CRM_VERIFY_ARGV = ['crm_verify', '--live-check', '-V'] as const;
/** cibadmin's exit code when the CIB's version is not the patch's source (CRM_EX_OLD, "Update was older than existing configuration"). */
const CIB_OLD_DATA = 103;

export interface ApplyPacemakerOptions extends PacemakerToolOptions {
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  /** Delete stale objects: hastor applied them before, the configuration no longer has them. */
  prune?: boolean;
  /** DRBD facts for the configuration's safety rules (checkPacemakerConfig). */
  check?: CheckPacemakerOptions;
  /** Tries in all when only the status moved between read and write (num_updates); default 3. */
  attempts?: number;
}

/** The CIB's configuration changed between hastor's read and its write: nothing was written. */
export class CibChangedError extends HastorError {
  constructor(
    message: string,
    readonly read: CibVersion,
    readonly found: CibVersion | null,
  ) {
    super('E_CIB_CHANGED', message);
  }
}

const versionSchema = z.object({ adminEpoch: z.number().int(), epoch: z.number().int(), numUpdates: z.number().int() });
const kindSchema = z.enum(['property', 'resource', 'constraint']);

/** The result, also `hastor pacemaker apply --json` (keys change only by addition). */
export const pacemakerApplyResultSchema = z.object({
  node: z.string(),
  dryRun: z.boolean(),
  /** The live CIB had the configuration: nothing was (or would be) written. */
  already: z.boolean(),
  /** The patch was written. */
  applied: z.boolean(),
  /** The CIB version the plan was made from (the last read, after any retry). */
  before: versionSchema,
  /** The version read back after the write; null when nothing was written. */
  after: versionSchema.nullable(),
  changes: z.array(
    z.object({
      action: z.enum(['add', 'replace', 'delete']),
      kind: z.union([kindSchema, z.literal('record')]),
      id: z.string(),
      element: z.string(),
      attributes: z.array(z.object({ name: z.string(), before: z.string().nullable(), after: z.string().nullable() })),
    }),
  ),
  stale: z.array(z.object({ kind: kindSchema, id: z.string(), element: z.string(), deleted: z.boolean() })),
  /** Resources and constraints hastor did not generate, left alone. */
  foreign: z.array(z.string()),
  /** Reads of the CIB it took (more than 1: the status moved before the write and it planned again). */
  attempts: z.number().int(),
  /** `crm_verify --live-check -V` after the write; null when nothing was written. */
  verify: z.object({ ok: z.boolean(), exitCode: z.number().int(), output: z.string() }).nullable(),
});

export type PacemakerApplyResult = z.infer<typeof pacemakerApplyResultSchema>;

/** `<rsc>_<task>_<interval>`: the failed actions of a device that keep it from fencing. */
function failedDevices(status: CrmMonStatus, config: PacemakerConfig): string[] {
  const devices = config.primitives.filter((p) => p.class === 'stonith').map((p) => p.id);
  const failed = new Set(crmMonPrimitives(status).filter((p) => p.primitive.failed).map((p) => p.primitive.id));
  for (const f of status.failures) {
    for (const id of devices) if (new RegExp(`^${id.replace(/\./g, '\\.')}_(monitor|start)_\\d+$`).test(f.opKey)) failed.add(id);
  }
  return devices.filter((id) => failed.has(id));
}

/** Refuses while a device of the configuration cannot fence; one this apply replaces may be what fixes it. */
function assertDevicesWork(node: string, status: CrmMonStatus, config: PacemakerConfig, plan: ApplyPlan): void {
  const replaced = new Set(plan.changes.filter((c) => c.kind === 'resource' && c.action === 'replace').map((c) => c.id));
  const broken = failedDevices(status, config).filter((id) => !replaced.has(id));
  if (broken.length === 0) return;
  throw new SafetyError(
    'stonith-device-failed',
    `refusing to apply: crm_mon on ${node} shows a failed monitor or start for stonith device ${broken.join(', ')}: it cannot fence, and the configuration relies on it`,
    `none: make the device work (check its address and credentials, e.g. stonith_admin --list-registered), then crm_resource --cleanup --resource ${broken[0]} and apply again`,
  );
}

async function crmVerify(executor: Executor, options: PacemakerToolOptions): Promise<NonNullable<PacemakerApplyResult['verify']>> {
  try {
    const r = await executor.run(CRM_VERIFY_ARGV, toolRunOptions(options));
    return { ok: true, exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`.trim() };
  } catch (error) {
    // A verdict (crm_verify's own non-zero exit) is reported; not running at all is an error.
    if (error instanceof CommandError && error.exitCode !== null && error.exitCode !== 127) return { ok: false, exitCode: error.exitCode, output: error.stderr.trim() };
    throw error;
  }
}

/**
 * Applies `config` on the executor's node: the difference to the live CIB
 * in one patch guarded by the version read, or nothing when there is none.
 * A CIB whose configuration changed before the write is a CibChangedError
 * (nothing written); a change of the status alone is planned again.
 */
export async function applyPacemakerConfig(executor: Executor, config: PacemakerConfig, options: ApplyPacemakerOptions = {}): Promise<PacemakerApplyResult> {
  assertPacemakerConfigSafe(config, options.check ?? {}, 'apply');
  const status = await readCrmMon(executor, options);
  assertSettled(executor.node, unsettledReasons(status), 'apply a Pacemaker configuration');
  const attempts = Math.max(1, options.attempts ?? 3);
  for (let attempt = 1; ; attempt++) {
    const plan = planPacemakerApply(await readCibText(executor, options), config, { prune: options.prune === true });
    assertDevicesWork(executor.node, status, config, plan);
    const result: PacemakerApplyResult = {
      node: executor.node,
      dryRun: options.dryRun === true,
      already: plan.patch === null,
      applied: false,
      before: plan.version,
      after: null,
      changes: plan.changes,
      stale: plan.stale,
      foreign: plan.foreign,
      attempts: attempt,
      verify: null,
    };
    if (plan.patch === null || options.dryRun === true) return result;
    try {
      await executor.run(CIB_PATCH_ARGV, toolRunOptions(options, { input: plan.patch }));
    } catch (error) {
      if (!(error instanceof CommandError) || (error.exitCode !== CIB_OLD_DATA && !/older than existing configuration/i.test(error.stderr))) throw error;
      const found = cibVersionOf(parseXml(await readCibText(executor, options), 'cibadmin -Q'));
      // Same configuration (admin_epoch, epoch), only the status moved: the plan still holds, so plan again.
      if (found.adminEpoch === plan.version.adminEpoch && found.epoch === plan.version.epoch && attempt < attempts) continue;
      throw new CibChangedError(
        `${executor.node}: the CIB changed between hastor's read (${formatCibVersion(plan.version)}) and its write (now ${formatCibVersion(found)}); cibadmin refused the patch and nothing was written: run it again to plan against the new CIB`,
        plan.version,
        found,
      );
    }
    const after = cibVersionOf(parseXml(await readCibText(executor, options), 'cibadmin -Q'));
    return { ...result, applied: true, after, verify: await crmVerify(executor, options) };
  }
}
