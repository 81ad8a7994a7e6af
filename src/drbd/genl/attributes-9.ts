/**
 * Attribute tables of the DRBD 9 `drbd` family (API 2), from LINBIT
 * drbd-headers `linux/drbd_genl.h` (the header drbd-9.2/9.3 and drbd-utils
 * 9.2x build against; fields added in later 9.x releases are included, a
 * receiver ignores what an older module does not send). DRBD 9 drops
 * DRBD_ADM_GET_STATUS and state_info; status comes from the resource / device /
 * connection / peer-device objects and their statistics.
 *
 * SHARED_SECRET_MAX = 64, DRBD_CPU_MASK_SIZE = 256, HISTORY_UUIDS = 32.
 */
import { DrbdNla } from './constants.js';
import { bin, buildTables, flg, M, s32, str, u32, u64, type ApiTables, type StructSpec } from './schema.js';

const SHARED_SECRET_MAX = 64;

export const STRUCTS_9: readonly StructSpec[] = [
  { name: 'drbd_cfg_reply', tla: DrbdNla.CFG_REPLY, fields: [str(1, 'info_text', 0, M)] },
  {
    name: 'drbd_cfg_context',
    tla: DrbdNla.CFG_CONTEXT,
    fields: [
      u32(1, 'ctx_volume', M),
      str(2, 'ctx_resource_name', 128, M),
      bin(3, 'ctx_my_addr', 128, M),
      bin(4, 'ctx_peer_addr', 128, M),
      str(5, 'ctx_conn_name', SHARED_SECRET_MAX),
      u32(6, 'ctx_peer_node_id', M),
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
      u32(6, 'on_io_error', M),
      s32(9, 'resync_after', M),
      u32(10, 'al_extents', M),
      flg(16, 'disk_barrier', M),
      flg(17, 'disk_flushes', M),
      flg(18, 'disk_drain', M),
      flg(19, 'md_flushes', M),
      u32(20, 'disk_timeout', M),
      u32(21, 'read_balancing', M),
      u32(22, 'unplug_watermark', M),
      flg(23, 'al_updates'),
      flg(24, 'discard_zeroes_if_aligned'),
      u32(25, 'rs_discard_granularity'),
      flg(26, 'disable_write_same'),
      flg(27, 'd_bitmap'),
    ],
  },
  {
    name: 'res_opts',
    tla: DrbdNla.RESOURCE_OPTS,
    fields: [
      str(1, 'cpu_mask', 256, M),
      u32(2, 'on_no_data', M),
      flg(3, 'auto_promote', M),
      u32(4, 'node_id'),
      u32(5, 'peer_ack_window', M),
      u32(6, 'twopc_timeout', M),
      u32(7, 'twopc_retry_timeout', M),
      u32(8, 'peer_ack_delay'),
      u32(9, 'auto_promote_timeout'),
      u32(10, 'nr_requests'),
      s32(11, 'quorum'),
      u32(12, 'on_no_quorum'),
      s32(13, 'quorum_min_redundancy'),
      u32(14, 'on_susp_primary_outdated'),
      flg(15, 'drbd8_compat_mode'),
      flg(16, 'explicit_drbd8_compat'),
    ],
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
      u32(15, 'max_epoch_size', M),
      u32(17, 'after_sb_0p', M),
      u32(18, 'after_sb_1p', M),
      u32(19, 'after_sb_2p', M),
      u32(20, 'rr_conflict', M),
      u32(21, 'on_congestion', M),
      u32(22, 'cong_fill', M),
      u32(23, 'cong_extents', M),
      flg(24, 'two_primaries', M),
      flg(26, 'tcp_cork', M),
      flg(27, 'always_asbp', M),
      flg(29, 'use_rle', M),
      u32(30, 'fencing_policy', M),
      str(31, 'name', SHARED_SECRET_MAX, M),
      flg(33, 'csums_after_crash_only'),
      u32(34, 'sock_check_timeo'),
      str(35, 'transport_name', SHARED_SECRET_MAX),
      u32(36, 'max_buffers'),
      flg(37, 'allow_remote_read'),
      flg(38, 'tls'),
      s32(39, 'tls_privkey'),
      s32(40, 'tls_certificate'),
      s32(41, 'tls_keyring'),
      flg(42, 'load_balance_paths'),
      u32(43, 'rdma_ctrl_rcvbuf_size'),
      u32(44, 'rdma_ctrl_sndbuf_size'),
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
    name: 'start_ov_parms',
    tla: DrbdNla.START_OV_PARMS,
    fields: [u64(1, 'ov_start_sector', M), u64(2, 'ov_stop_sector', M)],
  },
  {
    name: 'new_c_uuid_parms',
    tla: DrbdNla.NEW_C_UUID_PARMS,
    fields: [flg(1, 'clear_bm', M), flg(2, 'force_resync', M)],
  },
  { name: 'timeout_parms', tla: DrbdNla.TIMEOUT_PARMS, fields: [u32(1, 'timeout_type')] },
  { name: 'disconnect_parms', tla: DrbdNla.DISCONNECT_PARMS, fields: [flg(1, 'force_disconnect', M)] },
  {
    name: 'detach_parms',
    tla: DrbdNla.DETACH_PARMS,
    fields: [flg(1, 'force_detach', M), flg(2, 'intentional_diskless_detach')],
  },
  {
    name: 'device_conf',
    tla: DrbdNla.DEVICE_CONF,
    fields: [
      u32(1, 'max_bio_size'),
      flg(2, 'intentional_diskless'),
      u32(3, 'block_size'),
      u32(4, 'discard_granularity'),
    ],
  },
  {
    name: 'resource_info',
    tla: DrbdNla.RESOURCE_INFO,
    fields: [
      u32(1, 'res_role'),
      flg(2, 'res_susp'),
      flg(3, 'res_susp_nod'),
      flg(4, 'res_susp_fen'),
      flg(5, 'res_susp_quorum'),
      flg(6, 'res_fail_io'),
    ],
  },
  {
    name: 'device_info',
    tla: DrbdNla.DEVICE_INFO,
    fields: [
      u32(1, 'dev_disk_state'),
      flg(2, 'is_intentional_diskless'),
      flg(3, 'dev_has_quorum'),
      str(4, 'backing_dev_path', 128),
      flg(5, 'dev_is_open'),
    ],
  },
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
      flg(6, 'peer_is_intentional_diskless'),
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
  {
    name: 'connection_statistics',
    tla: DrbdNla.CONNECTION_STATISTICS,
    fields: [flg(1, 'conn_congested'), u64(2, 'ap_in_flight'), u64(3, 'rs_in_flight')],
  },
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
      u64(10, 'peer_dev_rs_total'), // sectors
      u64(11, 'peer_dev_ov_start_sector'),
      u64(12, 'peer_dev_ov_stop_sector'),
      u64(13, 'peer_dev_ov_position'),
      u64(14, 'peer_dev_ov_left'),
      u64(15, 'peer_dev_ov_skipped'),
      u64(16, 'peer_dev_rs_same_csum'),
      u64(17, 'peer_dev_rs_dt_start_ms'),
      u64(18, 'peer_dev_rs_paused_ms'),
      u64(19, 'peer_dev_rs_dt0_ms'),
      u64(20, 'peer_dev_rs_db0_sectors'),
      u64(21, 'peer_dev_rs_dt1_ms'),
      u64(22, 'peer_dev_rs_db1_sectors'),
      u32(23, 'peer_dev_rs_c_sync_rate'), // KiB/s
      u64(24, 'peer_dev_uuid_flags'),
    ],
  },
  { name: 'drbd_notification_header', tla: DrbdNla.NOTIFICATION_HEADER, fields: [u32(1, 'nh_type', M)] },
  {
    name: 'drbd_helper_info',
    tla: DrbdNla.HELPER,
    fields: [str(1, 'helper_name', 32, M), u32(2, 'helper_status', M)],
  },
  {
    name: 'invalidate_parms',
    tla: DrbdNla.INVALIDATE_PARMS,
    fields: [s32(1, 'sync_from_peer_node_id', M), flg(2, 'reset_bitmap', M)],
  },
  { name: 'forget_peer_parms', tla: DrbdNla.FORGET_PEER_PARMS, fields: [s32(1, 'forget_peer_node_id', M)] },
  {
    name: 'peer_device_conf',
    tla: DrbdNla.PEER_DEVICE_OPTS,
    fields: [
      u32(1, 'resync_rate', M),
      u32(2, 'c_plan_ahead', M),
      u32(3, 'c_delay_target', M),
      u32(4, 'c_fill_target', M),
      u32(5, 'c_max_rate', M),
      u32(6, 'c_min_rate', M),
      flg(7, 'bitmap'),
      flg(8, 'resync_without_replication'),
      flg(9, 'peer_tiebreaker'),
    ],
  },
  {
    name: 'path_parms',
    tla: DrbdNla.PATH_PARMS,
    fields: [bin(1, 'my_addr', 128, M), bin(2, 'peer_addr', 128, M)],
  },
  {
    name: 'connect_parms',
    tla: DrbdNla.CONNECT_PARMS,
    fields: [flg(1, 'tentative', M), flg(2, 'discard_my_data', M)],
  },
  { name: 'drbd_path_info', tla: DrbdNla.PATH_INFO, fields: [flg(1, 'path_established')] },
  {
    name: 'rename_resource_parms',
    tla: DrbdNla.RENAME_RESOURCE_PARMS,
    fields: [str(1, 'new_resource_name', 128, M)],
  },
  {
    name: 'rename_resource_info',
    tla: DrbdNla.RENAME_RESOURCE_INFO,
    fields: [str(1, 'res_new_name', 128, M)],
  },
];

export const TABLES_9: ApiTables = buildTables(STRUCTS_9);
