/**
 * Which report fields hastor asks lvm for (`-o`), per report type and lvm2 version.
 *
 * The base sets use fields every lvm2 2.02/2.03 knows, so the text form works on releases
 * older than 2.02.158. Lock fields (vg_lock_type, vg_lock_args, lv_lockargs) came with
 * lvmlockd in 2.02.124; lv_active_{locally,remotely,exclusively} are asked for from
 * 2.02.158 on (JSON era). An lvm that does not know a field fails the whole command with
 * "Unrecognised field", hence the version gates.
 */
import { atLeast } from './version.js';
import type { LvmVersionNumber } from './version.js';

export type ReportKind = 'pv' | 'vg' | 'lv' | 'seg' | 'pvseg';

export const PV_FIELDS = [
  'pv_name',
  'pv_uuid',
  'vg_name',
  'pv_fmt',
  'pv_attr',
  'pv_size',
  'pv_free',
  'dev_size',
  'pe_start',
  'pv_pe_count',
  'pv_pe_alloc_count',
  'pv_tags',
] as const;

export const VG_FIELDS = [
  'vg_name',
  'vg_uuid',
  'vg_attr',
  'vg_size',
  'vg_free',
  'vg_extent_size',
  'vg_extent_count',
  'vg_free_count',
  'pv_count',
  'lv_count',
  'snap_count',
  'vg_seqno',
  'vg_tags',
] as const;
export const VG_LOCK_FIELDS = ['vg_lock_type', 'vg_lock_args'] as const;

export const LV_FIELDS = [
  'lv_uuid',
  'lv_name',
  'vg_name',
  'lv_attr',
  'lv_size',
  'seg_count',
  'origin',
  'pool_lv',
  'data_percent',
  'copy_percent',
  'lv_tags',
  'lv_kernel_major',
  'lv_kernel_minor',
] as const;
export const LV_LOCK_FIELDS = ['lv_lockargs'] as const;
export const LV_ACTIVE_FIELDS = ['lv_active_locally', 'lv_active_remotely', 'lv_active_exclusively'] as const;

/** LV segments (`lvs --segments`): what growth needs to know about where an LV lives. */
export const SEG_FIELDS = [
  'lv_uuid',
  'lv_name',
  'vg_name',
  'segtype',
  'seg_start',
  'seg_size',
  'seg_start_pe',
  'stripes',
  'stripe_size',
  'devices',
] as const;

/** PV segments (`pvs --segments`): used and free extent ranges per PV. */
export const PVSEG_FIELDS = ['pv_name', 'pv_uuid', 'vg_name', 'pvseg_start', 'pvseg_size', 'lv_name', 'lv_uuid'] as const;

const LOCK_FIELDS_SINCE = '2.02.124';
const ACTIVE_FIELDS_SINCE = '2.02.158';

export function fieldsFor(kind: ReportKind, version: LvmVersionNumber): string[] {
  const lock = atLeast(version, LOCK_FIELDS_SINCE);
  switch (kind) {
    case 'pv':
      return [...PV_FIELDS];
    case 'vg':
      return [...VG_FIELDS, ...(lock ? VG_LOCK_FIELDS : [])];
    case 'lv':
      return [...LV_FIELDS, ...(lock ? LV_LOCK_FIELDS : []), ...(atLeast(version, ACTIVE_FIELDS_SINCE) ? LV_ACTIVE_FIELDS : [])];
    case 'seg':
      return [...SEG_FIELDS];
    case 'pvseg':
      return [...PVSEG_FIELDS];
  }
}
