/**
 * The command log lvm adds to a JSON report (lvm2 >= 2.02.158, with
 * log/report_command_log = 1; lvmreport(7) "Log report specifics").
 *
 * Each entry has log_seq_num, log_type (status, print, error, warn), log_context
 * (shell, processing), the object it concerns (log_object_type cmd, orphan, pv, label,
 * vg, lv; name, id, group, group id), log_message, log_errno and log_ret_code. For a
 * status entry the message is "success" or "failure" and the return code is lvm's
 * per-object result: 1 (ECMD_PROCESSED) or 5 (ECMD_FAILED). Seen with lvm2 2.03.16:
 * an error entry carries log_errno -1 and log_ret_code 0.
 */
import { readInteger, readString } from './report-values.js';
import type { CellContext, RawRow } from './report-values.js';

export type LvmLogType = 'status' | 'print' | 'error' | 'warn';

export interface LvmLogEntry {
  seq: number;
  /** status, print, error or warn (other words are kept as lvm printed them). */
  type: LvmLogType | string;
  /** shell or processing. */
  context: string;
  /** cmd, orphan, pv, label, vg, lv; null when lvm left it blank. */
  objectType: string | null;
  objectName: string | null;
  objectId: string | null;
  objectGroup: string | null;
  objectGroupId: string | null;
  message: string;
  errno: number;
  retCode: number;
}

/** lvm's command return codes (tools/errors.h); 1 means processed, 5 failed. */
export const ECMD_PROCESSED = 1;
export const ECMD_FAILED = 5;

export function logEntryFromRow(row: RawRow, ctx: CellContext): LvmLogEntry {
  const blank = (field: string): string | null => {
    const v = readString(row, field, ctx);
    return v === '' ? null : v;
  };
  return {
    seq: readInteger(row, 'log_seq_num', ctx),
    type: readString(row, 'log_type', ctx),
    context: readString(row, 'log_context', ctx),
    objectType: blank('log_object_type'),
    objectName: blank('log_object_name'),
    objectId: blank('log_object_id'),
    objectGroup: blank('log_object_group'),
    objectGroupId: blank('log_object_group_id'),
    message: readString(row, 'log_message', ctx),
    errno: readInteger(row, 'log_errno', ctx),
    retCode: readInteger(row, 'log_ret_code', ctx),
  };
}

/** Entries that say something failed: errors, and status entries reporting failure. */
export function logFailures(log: readonly LvmLogEntry[]): LvmLogEntry[] {
  return log.filter(
    (e) => e.type === 'error' || (e.type === 'status' && (e.message === 'failure' || e.retCode === ECMD_FAILED)),
  );
}

/** One line per failed object, for messages: "vg no_such_vg: Volume group "no_such_vg" not found". */
export function describeLogFailures(log: readonly LvmLogEntry[]): string[] {
  return logFailures(log)
    .filter((e) => e.type === 'error')
    .map((e) => {
      const object = e.objectName === null ? '' : `${e.objectType ?? 'object'} ${e.objectGroup === null ? '' : `${e.objectGroup}/`}${e.objectName}: `;
      return `${object}${e.message}`;
    });
}
