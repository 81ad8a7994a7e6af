/**
 * Errors of the netlink path. Callers fall back to `drbdsetup events2` or
 * /proc/drbd on E_NO_DRBD_FAMILY; E_DRBD_NETLINK is the kernel refusing a
 * request (an errno in NLMSG_ERROR, or a DRBD ret_code other than NO_ERROR).
 */
import { constants } from 'node:os';
import { HastorError } from '../../errors.js';

/** The generic-netlink family `drbd` is not registered: the module is not loaded (or not built in). */
export class NoDrbdFamilyError extends HastorError {
  constructor(options: { cause?: unknown } = {}) {
    super(
      'E_NO_DRBD_FAMILY',
      'the kernel has no generic-netlink family "drbd": the DRBD module is not loaded. Load it (modprobe drbd) or read status from drbdsetup events2 or /proc/drbd instead',
      options,
    );
  }
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, nr]) => [nr, name]));

/** The kernel answered a DRBD netlink request with an error. */
export class DrbdNetlinkError extends HastorError {
  /** errno (positive) from NLMSG_ERROR / NLMSG_DONE, or null when the error is a DRBD ret_code. */
  readonly errno: number | null;
  /** drbd_genlmsghdr.ret_code when the DRBD layer refused, else null. */
  readonly retCode: number | null;

  constructor(details: { errno?: number; retCode?: number; request?: string; cause?: unknown }) {
    const what = details.request ?? 'DRBD netlink request';
    const reason =
      details.errno !== undefined
        ? `${ERRNO_NAMES.get(details.errno) ?? 'errno'} (${details.errno})`
        : `DRBD return code ${details.retCode ?? '?'}`;
    super('E_DRBD_NETLINK', `the kernel refused the ${what}: ${reason}`, { cause: details.cause });
    this.errno = details.errno ?? null;
    this.retCode = details.retCode ?? null;
  }
}
