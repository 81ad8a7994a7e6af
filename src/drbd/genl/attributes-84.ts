/**
 * Attribute tables of the DRBD 8.4 `drbd` family (API 1), as in Linux 6.1
 * `include/linux/drbd_genl.h` (in-tree DRBD 8.4.11, which also carries the
 * events2-style objects 15–24 backported from DRBD 9). Numbers and types only;
 * defaults live in drbd_limits.h and are not needed to decode.
 *
 * SHARED_SECRET_MAX = 64, DRBD_CPU_MASK_SIZE = 32, UI_SIZE = 4,
 * HISTORY_UUIDS = MAX_PEERS = 32 (drbd.h of 8.4.11).
 */
import { DrbdNla } from './constants.js';
import { bin, buildTables, flg, M, s32, str, u32, u64, type ApiTables, type StructSpec } from './schema.js';

const SHARED_SECRET_MAX = 64;

export const STRUCTS_84: readonly StructSpec[] = [
  { name: 'drbd_cfg_reply', tla: DrbdNla.CFG_REPLY, fields: [str(1, 'info_text', 0, M)] },
  {
    name: 'drbd_cfg_context',
    tla: DrbdNla.CFG_CONTEXT,
    fields: [
      u32(1, 'ctx_volume', M),
      str(2, 'ctx_resource_name', 128, M),
      bin(3, 'ctx_my_addr', 128, M),
      bin(4, 'ctx_peer_addr', 128, M),
    ],
  },
  {
    name: 'disk_conf',
    tla: DrbdNla.DISK_CONF,
    fields: [
      str(1, 'backing_dev', 128),
      str(2, 'meta_dev', 128),
      s32(3, 'meta_dev_idx'),
      u64(4, 'disk_size', M),
      u32(5, 'max_bio_bvecs', M),
      u32(6, 'on_io_error', M),
      u32(7, 'fencing', M),
      u32(8, 'resync_rate', M),
      s32(9, 'resync_after', M),
      u32(10, 'al_extents', M),
      u32(11, 'c_plan_ahead', M),
      u32(12, 'c_delay_target', M),
      u32(13, 'c_fill_target', M),
      u32(14, 'c_max_rate', M),
      u32(15, 'c_min_rate', M),
      flg(16, 'disk_barrier', M),
      flg(17, 'disk_flushes', M),
      flg(18, 'disk_drain', M),
      flg(19, 'md_flushes', M),
      u32(20, 'disk_timeout', M),
      u32(21, 'read_balancing'),
      flg(23, 'al_updates'),
      flg(24, 'discard_zeroes_if_aligned'),
      u32(25, 'rs_discard_granularity'),
      flg(26, 'disable_write_same'),
    ],
  },
  {
    name: 'res_opts',
    tla: DrbdNla.RESOURCE_OPTS,
    fields: [str(1, 'cpu_mask', 32, M), u32(2, 'on_no_data', M)],
  },
  {
    name: 'net_conf',
    tla: DrbdNla.NET_CONF,
    fields: [
      str(1, 'shared_secret', SHARED_SECRET_MAX, M),
      str(2, 'cram_hmac_alg', SHARED_SECRET_MAX, M),
      str(3, 'integrity_alg', SHARED_SECRET_MAX, M),
      str(4, 'verify_alg', SHARED_SECRET_MAX, M),
      str(5, 'csums_alg', SHARED_SECRET_MAX, M),
      u32(6, 'wire_protocol', M),
      u32(7, 'connect_int', M),
      u32(8, 'timeout', M),
      u32(9, 'ping_int', M),
      u32(10, 'ping_timeo', M),
      u32(11, 'sndbuf_size', M),
      u32(12, 'rcvbuf_size', M),
      u32(13, 'ko_count', M),
      u32(14, 'max_buffers', M),
      u32(15, 'max_epoch_size', M),
      u32(16, 'unplug_watermark', M),
      u32(17, 'after_sb_0p', M),
      u32(18, 'after_sb_1p', M),
      u32(19, 'after_sb_2p', M),
      u32(20, 'rr_conflict', M),
      u32(21, 'on_congestion', M),
      u32(22, 'cong_fill', M),
      u32(23, 'cong_extents', M),
      flg(24, 'two_primaries', M),
      flg(25, 'discard_my_data', M),
      flg(26, 'tcp_cork', M),
      flg(27, 'always_asbp', M),
      flg(28, 'tentative', M),
      flg(29, 'use_rle', M),
      flg(33, 'csums_after_crash_only'),
      u32(34, 'sock_check_timeo'),
    ],
  },
  { name: 'set_role_parms', tla: DrbdNla.SET_ROLE_PARMS, fields: [flg(1, 'assume_uptodate', M)] },
  {
    name: 'resize_parms',
    tla: DrbdNla.RESIZE_PARMS,
    fields: [
      u64(1, 'resize_size', M),
      flg(2, 'resize_force', M),
      flg(3, 'no_resync', M),
      u32(4, 'al_stripes'),
      u32(5, 'al_stripe_size'),
    ],
  },
  {
    name: 'state_info',
    tla: DrbdNla.STATE_INFO,
    fields: [
      u32(1, 'sib_reason', M),
      u32(2, 'current_state'),
      u64(3, 'capacity', M), // sectors
      u64(4, 'ed_uuid', M),
      u32(5, 'prev_state', M),
      u32(6, 'new_state', M),
      bin(7, 'uuids', 4 * 8, M),
      u32(8, 'disk_flags', M),
      u64(9, 'bits_total', M), // bitmap bits, 4 KiB each
      u64(10, 'bits_oos', M),
      u64(11, 'bits_rs_total', M),
      u64(12, 'bits_rs_failed', M),
      str(13, 'helper', 32, M),
      u32(14, 'helper_exit_code', M),
      u64(15, 'send_cnt'), // sectors
      u64(16, 'recv_cnt'),
      u64(17, 'read_cnt'),
      u64(18, 'writ_cnt'),
      u64(19, 'al_writ_cnt'), // count
      u64(20, 'bm_writ_cnt'),
      u32(21, 'ap_bio_cnt'),
      u32(22, 'ap_pending_cnt'),
      u32(23, 'rs_pending_cnt'),
    ],
  },
  {
    name: 'start_ov_parms',
    tla: DrbdNla.START_OV_PARMS,
    fields: [u64(1, 'ov_start_sector', M), u64(2, 'ov_stop_sector', M)],
  },
  { name: 'new_c_uuid_parms', tla: DrbdNla.NEW_C_UUID_PARMS, fields: [flg(1, 'clear_bm', M)] },
  { name: 'timeout_parms', tla: DrbdNla.TIMEOUT_PARMS, fields: [u32(1, 'timeout_type')] },
  { name: 'disconnect_parms', tla: DrbdNla.DISCONNECT_PARMS, fields: [flg(1, 'force_disconnect', M)] },
  { name: 'detach_parms', tla: DrbdNla.DETACH_PARMS, fields: [flg(1, 'force_detach', M)] },
  {
    name: 'resource_info',
    tla: DrbdNla.RESOURCE_INFO,
    fields: [u32(1, 'res_role'), flg(2, 'res_susp'), flg(3, 'res_susp_nod'), flg(4, 'res_susp_fen')],
  },
  { name: 'device_info', tla: DrbdNla.DEVICE_INFO, fields: [u32(1, 'dev_disk_state')] },
  {
    name: 'connection_info',
    tla: DrbdNla.CONNECTION_INFO,
    fields: [u32(1, 'conn_connection_state'), u32(2, 'conn_role')],
  },
  {
    name: 'peer_device_info',
    tla: DrbdNla.PEER_DEVICE_INFO,
    fields: [
      u32(1, 'peer_repl_state'),
      u32(2, 'peer_disk_state'),
      u32(3, 'peer_resync_susp_user'),
      u32(4, 'peer_resync_susp_peer'),
      u32(5, 'peer_resync_susp_dependency'),
    ],
  },
  { name: 'resource_statistics', tla: DrbdNla.RESOURCE_STATISTICS, fields: [u32(1, 'res_stat_write_ordering')] },
  {
    name: 'device_statistics',
    tla: DrbdNla.DEVICE_STATISTICS,
    fields: [
      u64(1, 'dev_size'), // sectors
      u64(2, 'dev_read'), // sectors
      u64(3, 'dev_write'), // sectors
      u64(4, 'dev_al_writes'),
      u64(5, 'dev_bm_writes'),
      u32(6, 'dev_upper_pending'),
      u32(7, 'dev_lower_pending'),
      flg(8, 'dev_upper_blocked'),
      flg(9, 'dev_lower_blocked'),
      flg(10, 'dev_al_suspended'),
      u64(11, 'dev_exposed_data_uuid'),
      u64(12, 'dev_current_uuid'),
      u32(13, 'dev_disk_flags'),
      bin(14, 'history_uuids', 32 * 8),
    ],
  },
  { name: 'connection_statistics', tla: DrbdNla.CONNECTION_STATISTICS, fields: [flg(1, 'conn_congested')] },
  {
    name: 'peer_device_statistics',
    tla: DrbdNla.PEER_DEVICE_STATISTICS,
    fields: [
      u64(1, 'peer_dev_received'), // sectors
      u64(2, 'peer_dev_sent'), // sectors
      u32(3, 'peer_dev_pending'),
      u32(4, 'peer_dev_unacked'),
      u64(5, 'peer_dev_out_of_sync'), // sectors
      u64(6, 'peer_dev_resync_failed'), // sectors
      u64(7, 'peer_dev_bitmap_uuid'),
      u32(9, 'peer_dev_flags'),
    ],
  },
  { name: 'drbd_notification_header', tla: DrbdNla.NOTIFICATION_HEADER, fields: [u32(1, 'nh_type', M)] },
  {
    name: 'drbd_helper_info',
    tla: DrbdNla.HELPER,
    fields: [str(1, 'helper_name', 32, M), u32(2, 'helper_status', M)],
  },
];

export const TABLES_84: ApiTables = buildTables(STRUCTS_84);
