/**
 * The `--json` output of hastor's commands besides `status` (whose contract
 * is the library's statusReportSchema) and `doctor` (doctorReportSchema).
 * Scripts rely on these keys; they change only by addition. Byte counts are
 * JSON numbers (exact up to 8 PiB), as in `status --json`.
 */
import { z } from 'zod';
import {
  deviceReportSchema,
  pacemakerApplyResultSchema,
  pacemakerViewSchema,
  statusReportSchema,
  toStatusReport,
  type Action,
  type DrbdStatus,
  type OperationResult,
  type ResourceStatus,
  type SplitBrainReport,
  type SplitBrainResult,
  type VerifyResult,
} from '../index.js';

const bytes = z.number().int().nonnegative();

// ---------------------------------------------------------------- split brain

/** `resource resolve-split-brain --json`: what each side holds (also printed alone when no victim was chosen). */
export const splitBrainReportJsonSchema = z.object({
  resource: z.string(),
  splitBrain: z.boolean(),
  /** Why it is not a split brain; empty when it is. */
  notSplitBrain: z.string(),
  /** Per volume: same, diverged, first-newer, second-newer, unrelated (first/second in `sides` order). */
  relations: z.array(z.enum(['same', 'diverged', 'first-newer', 'second-newer', 'unrelated'])),
  /** The side with the newer (more) writes; null when it cannot be told. */
  newer: z.object({ node: z.string().nullable(), why: z.string() }),
  sides: z.array(
    z.object({
      node: z.string(),
      role: z.string().nullable(),
      state: z.string(),
      /** Bytes written since the split (the bitmap's out-of-sync count); null when not reported. */
      changedBytes: bytes.nullable(),
      volumes: z.array(
        z.object({
          volume: z.number().int(),
          minor: z.number().int(),
          current: z.string().nullable(),
          bitmap: z.string().nullable(),
          history: z.array(z.string()),
          flags: z.record(z.string(), z.boolean()).nullable(),
          changedBytes: bytes.nullable(),
        }),
      ),
      /** The kernel's "Split-Brain detected" lines for the resource; superseded: the connection reached Connected after it. */
      kernelRecords: z.array(z.object({ text: z.string(), superseded: z.boolean() })),
      backing: z
        .array(z.object({ vg: z.string(), lv: z.string(), sizeBytes: bytes, thinPool: z.string().nullable(), vgFreeBytes: bytes }))
        .nullable(),
      problems: z.array(z.string()),
    }),
  ),
});

export const splitBrainJsonSchema = z.object({
  victim: z.string(),
  survivor: z.string(),
  why: z.string(),
  /** Taken before discarding (empty with --no-snapshot); the victim's writes stay readable there. */
  snapshots: z.array(
    z.object({ node: z.string(), vg: z.string(), origin: z.string(), name: z.string(), kind: z.enum(['classic', 'thin']), sizeBytes: bytes.nullable(), sizing: z.string() }),
  ),
  report: splitBrainReportJsonSchema,
});

export type SplitBrainReportJson = z.infer<typeof splitBrainReportJsonSchema>;

export function splitBrainReportJson(report: SplitBrainReport): SplitBrainReportJson {
  const n = (v: bigint | null): number | null => (v === null ? null : Number(v));
  return {
    resource: report.resource,
    splitBrain: report.splitBrain,
    notSplitBrain: report.notSplitBrain,
    relations: [...report.relations],
    newer: { ...report.newer },
    sides: report.sides.map((s) => ({
      node: s.node,
      role: s.role,
      state: s.state,
      changedBytes: n(s.changedBytes),
      volumes: s.volumes.map((v) => ({
        volume: v.volume,
        minor: v.minor,
        current: v.identifiers?.current ?? null,
        bitmap: v.identifiers?.bitmap ?? null,
        history: v.identifiers?.history ?? [],
        flags: v.identifiers?.flags === null || v.identifiers === null ? null : { ...v.identifiers.flags },
        changedBytes: n(v.changedBytes),
      })),
      kernelRecords: s.kernelRecords.map((r) => ({ text: r.text, superseded: r.superseded })),
      backing: s.backing === null ? null : s.backing.map((b) => ({ vg: b.vg, lv: b.lv, sizeBytes: Number(b.sizeBytes), thinPool: b.thinPool, vgFreeBytes: Number(b.vgFreeBytes) })),
      problems: [...s.problems],
    })),
  };
}

export const actionJsonSchema = z.object({
  node: z.string(),
  argv: z.array(z.string()).min(1),
  reason: z.string(),
  /** Set for a file write (argv is ['write-file', path]); the content is not printed (it may hold a secret). */
  file: z.object({ path: z.string(), mode: z.string().regex(/^0[0-7]{3}$/) }).optional(),
});

export const operationJsonSchema = z.object({
  resource: z.string(),
  operation: z.string(),
  dryRun: z.boolean(),
  actions: z.array(actionJsonSchema),
  /** Each node's devices of the resource (status --json's device objects); null where it is not up. */
  state: z.record(z.string(), z.array(deviceReportSchema).nullable()),
  /** verify only. */
  verify: z
    .object({
      node: z.string(),
      outOfSyncBytes: bytes,
      outOfSyncBeforeBytes: bytes,
      perNode: z.record(z.string(), z.object({ events2Bytes: bytes.nullable(), procBytes: bytes.nullable() })),
    })
    .optional(),
  /** resolve-split-brain only. */
  splitBrain: splitBrainJsonSchema.optional(),
});

export type ActionJson = z.infer<typeof actionJsonSchema>;
export type OperationJson = z.infer<typeof operationJsonSchema>;

export function actionJson(action: Action): ActionJson {
  return {
    node: action.node,
    argv: [...action.argv],
    reason: action.reason,
    ...(action.file === undefined ? {} : { file: { path: action.file.path, mode: `0${action.file.mode.toString(8).padStart(3, '0')}` } }),
  };
}

/** A ResourceStatus as status --json's device objects. */
export function resourceDevicesJson(status: ResourceStatus | null): OperationJson['state'][string] {
  if (status === null) return null;
  const wrapped: DrbdStatus = { source: 'events2', version: null, resources: [status], unconfiguredMinors: [] };
  return toStatusReport(wrapped).devices;
}

export function operationJson(result: OperationResult | VerifyResult | SplitBrainResult): OperationJson {
  const out: OperationJson = {
    resource: result.resource,
    operation: result.operation,
    dryRun: result.dryRun,
    actions: result.actions.map(actionJson),
    state: Object.fromEntries(Object.entries(result.state).map(([node, s]) => [node, resourceDevicesJson(s)])),
  };
  if ('report' in result && 'choice' in result) {
    out.splitBrain = {
      ...result.choice,
      snapshots: result.snapshots.map((s) => ({ ...s, sizeBytes: s.sizeBytes === null ? null : Number(s.sizeBytes) })),
      report: splitBrainReportJson(result.report),
    };
  }
  if ('outOfSyncBytes' in result) {
    out.verify = {
      node: result.node,
      outOfSyncBytes: Number(result.outOfSyncBytes),
      outOfSyncBeforeBytes: Number(result.outOfSyncBeforeBytes),
      perNode: Object.fromEntries(
        Object.entries(result.perNode).map(([n, r]) => [n, { events2Bytes: r.events2Bytes === null ? null : Number(r.events2Bytes), procBytes: r.procBytes === null ? null : Number(r.procBytes) }]),
      ),
    };
  }
  return out;
}

// ---------------------------------------------------------------- watch

export const statusChangeJsonSchema = z.object({
  resource: z.string().nullable(),
  object: z.enum(['resource', 'device', 'connection', 'peer-device']),
  volume: z.number().int().nullable().optional(),
  minor: z.number().int().optional(),
  peer: z.string().nullable().optional(),
  field: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
});

/** One line of `hastor watch --json`. */
export const watchEventJsonSchema = z.object({
  /** ISO 8601, when hastor received the event. */
  time: z.string(),
  source: z.enum(['netlink', 'events2']),
  /** The state words that changed (every word from null in the first event). */
  changes: z.array(statusChangeJsonSchema),
  status: statusReportSchema,
});

export type WatchEventJson = z.infer<typeof watchEventJsonSchema>;

// ---------------------------------------------------------------- lvm report

const lvmLogSchema = z.object({ type: z.string(), message: z.string(), objectType: z.string().nullable(), objectName: z.string().nullable(), retCode: z.number().int() });

export const pvJsonSchema = z.object({
  name: z.string(),
  uuid: z.string(),
  vgName: z.string().nullable(),
  format: z.string(),
  attr: z.string(),
  allocatable: z.boolean(),
  exported: z.boolean(),
  missing: z.boolean(),
  sizeBytes: bytes,
  freeBytes: bytes,
  deviceSizeBytes: bytes,
  dataStartBytes: bytes,
  extentCount: z.number().int(),
  allocatedExtentCount: z.number().int(),
  tags: z.array(z.string()),
});

export const vgJsonSchema = z.object({
  name: z.string(),
  uuid: z.string(),
  attr: z.string(),
  permission: z.enum(['writeable', 'read-only', 'unknown']),
  resizeable: z.boolean(),
  exported: z.boolean(),
  partial: z.boolean(),
  clustered: z.boolean(),
  shared: z.boolean(),
  sizeBytes: bytes,
  freeBytes: bytes,
  extentSizeBytes: bytes,
  extentCount: z.number().int(),
  freeExtentCount: z.number().int(),
  pvCount: z.number().int(),
  lvCount: z.number().int(),
  snapshotCount: z.number().int(),
  seqno: z.number().int(),
  tags: z.array(z.string()),
  lockType: z.string().nullable(),
  lockArgs: z.string().nullable(),
});

export const lvJsonSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  vgName: z.string(),
  hidden: z.boolean(),
  attr: z.string(),
  volumeType: z.string(),
  state: z.string(),
  active: z.boolean().nullable(),
  open: z.boolean().nullable(),
  sizeBytes: bytes,
  segmentCount: z.number().int(),
  origin: z.string().nullable(),
  poolLv: z.string().nullable(),
  dataPercent: z.number().nullable(),
  copyPercent: z.number().nullable(),
  tags: z.array(z.string()),
  kernelMajor: z.number().int().nullable(),
  kernelMinor: z.number().int().nullable(),
  lockArgs: z.string().nullable(),
  activeLocally: z.boolean().nullable(),
  activeRemotely: z.boolean().nullable(),
  activeExclusively: z.boolean().nullable(),
});

const reportPart = <T extends z.ZodType>(item: T) =>
  z.object({ complete: z.boolean(), problems: z.array(z.string()), items: z.array(item), log: z.array(lvmLogSchema) });

/** `hastor lvm report --json`: the reports asked for, each as lvm gave it (complete: false with problems on lvm's exit 5). */
export const lvmReportJsonSchema = z.object({
  node: z.string(),
  pvs: reportPart(pvJsonSchema).optional(),
  vgs: reportPart(vgJsonSchema).optional(),
  lvs: reportPart(lvJsonSchema).optional(),
});

export type LvmReportJson = z.infer<typeof lvmReportJsonSchema>;

/** bigint → number, recursively (the model's sizes); everything else as is. */
export function numbersForBigints(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(numbersForBigints);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, numbersForBigints(v)]));
  return value;
}

// ---------------------------------------------------------------- lvm cluster-setup

const configValue = z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]);

export const clusterSetupJsonSchema = z.object({
  dryRun: z.boolean(),
  lockManager: z.enum(['sanlock', 'dlm']),
  nodes: z.array(
    z.object({
      node: z.string(),
      hostId: z.number().int().nullable(),
      /** lvm.conf / lvmlocal.conf settings to change; null: not set (old) or removed (new). */
      edits: z.array(z.object({ file: z.string(), path: z.string(), old: configValue.nullable(), new: configValue.nullable(), reason: z.string() })),
      written: z.array(z.string()),
      started: z.array(z.string()),
      running: z.array(z.string()),
      lockspaces: z.array(z.object({ vg: z.string(), started: z.boolean(), attempts: z.number().int() })),
    }),
  ),
});

export type ClusterSetupJson = z.infer<typeof clusterSetupJsonSchema>;

// ---------------------------------------------------------------- pacemaker status

/** `hastor pacemaker status --json`: the library's PacemakerView (docs/pacemaker.md). */
export const pacemakerStatusJsonSchema = pacemakerViewSchema;

export type PacemakerStatusJson = z.infer<typeof pacemakerStatusJsonSchema>;

// ---------------------------------------------------------------- pacemaker apply

/** `hastor pacemaker apply --json`: the library's PacemakerApplyResult with the stack's topology and DRBD resource. */
export const pacemakerApplyJsonSchema = pacemakerApplyResultSchema.extend({ topology: z.enum(['service', 'guests']), resource: z.string() });

export type PacemakerApplyJson = z.infer<typeof pacemakerApplyJsonSchema>;
