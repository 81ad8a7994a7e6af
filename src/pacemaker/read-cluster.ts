/**
 * Reads the live cluster through an Executor: `crm_mon -1 --output-as=xml`
 * (one shot; Pacemaker 2.1.5 also needs no --inactive for the full resource
 * list in XML) and `cibadmin -Q`, then builds the view. No crm_mon on the node
 * (ENOENT), or crm_mon's exit code 102 / its `<status code="102" message="Not
 * connected">`: a PacemakerUnavailableError saying so.
 */
import { CommandError } from '../errors.js';
import type { ExecOptions, Executor } from '../sys/executor.js';
import { parseCib, type Cib } from './cib.js';
import { parseCrmMon, PacemakerUnavailableError, type CrmMonStatus } from './crm-mon.js';
import { buildPacemakerView, type PacemakerView } from './view.js';

export const CRM_MON_ARGV = ['crm_mon', '-1', '--output-as=xml'] as const;
export const CIBADMIN_ARGV = ['cibadmin', '-Q'] as const;
/** crm_mon's exit code when it cannot connect (CRM_EX_NOT_CONNECTED). */
const NOT_CONNECTED = 102;
const TIMEOUT_MS = 30_000;

/** The program is missing: spawn's ENOENT here, or exit 127 from env/a shell (sudo, ssh). */
function notFound(error: unknown): boolean {
  if (!(error instanceof CommandError)) return false;
  if (error.exitCode === 127) return true;
  const cause = error.cause as { code?: string } | undefined;
  return error.exitCode === null && (cause?.code === 'ENOENT' || /ENOENT/.test(error.message));
}

/** How Pacemaker's tools are run. */
export interface PacemakerToolOptions {
  timeoutMs?: number;
  /** Set for the tools, e.g. `{ CIB_file: path }`: they then work on that CIB file, without a cluster. */
  env?: Record<string, string>;
  /** Run as root (default true); false runs as the caller, who then needs the haclient group. */
  root?: boolean;
}

/** The exporter's name for the same options. */
export type PacemakerReadOptions = PacemakerToolOptions;

export interface ReadPacemakerOptions extends PacemakerToolOptions {
  /** Also read the CIB (default true): DRBD resource names, promoted-max, constraints. */
  cib?: boolean;
}

/** The executor options for one of Pacemaker's tools: as root unless asked otherwise, with the timeout and env asked for. */
export function toolRunOptions(options: PacemakerToolOptions, extra: ExecOptions = {}): ExecOptions {
  return { root: options.root ?? true, timeoutMs: options.timeoutMs ?? TIMEOUT_MS, ...(options.env === undefined ? {} : { env: options.env }), ...extra };
}

/** crm_mon's status on the executor's node. */
export async function readCrmMon(executor: Executor, options: PacemakerToolOptions = {}): Promise<CrmMonStatus> {
  let stdout: string;
  let exitCode: number;
  try {
    const result = await executor.run(CRM_MON_ARGV, toolRunOptions(options, { okExitCodes: [0, NOT_CONNECTED] }));
    stdout = result.stdout;
    exitCode = result.exitCode;
  } catch (error) {
    if (notFound(error)) {
      throw new PacemakerUnavailableError(`${executor.node}: crm_mon not found: Pacemaker is not installed on this node (package pacemaker-cli-utils)`, { node: executor.node, cause: error });
    }
    throw error;
  }
  if (exitCode === NOT_CONNECTED) {
    let detail = '';
    try {
      parseCrmMon(stdout);
    } catch (error) {
      if (error instanceof PacemakerUnavailableError) detail = ` (${error.message.replace(/; is Pacemaker running on this node\?$/, '')})`;
    }
    throw new PacemakerUnavailableError(`${executor.node}: Pacemaker is not running on this node: crm_mon cannot connect to the cluster${detail}; start it (systemctl start pacemaker) or ask a node where it runs`, { node: executor.node, crmMonCode: NOT_CONNECTED });
  }
  try {
    return parseCrmMon(stdout);
  } catch (error) {
    if (error instanceof PacemakerUnavailableError) throw new PacemakerUnavailableError(`${executor.node}: ${error.message}`, { node: executor.node, crmMonCode: error.crmMonCode, cause: error });
    throw error;
  }
}

/** The CIB's text (`cibadmin -Q`) on the executor's node. */
export async function readCibText(executor: Executor, options: PacemakerToolOptions = {}): Promise<string> {
  try {
    return (await executor.run(CIBADMIN_ARGV, toolRunOptions(options))).stdout;
  } catch (error) {
    if (notFound(error)) throw new PacemakerUnavailableError(`${executor.node}: cibadmin not found: Pacemaker is not installed on this node`, { node: executor.node, cause: error });
    throw error;
  }
}

/** The CIB (`cibadmin -Q`) on the executor's node. */
export async function readCib(executor: Executor, options: PacemakerToolOptions = {}): Promise<Cib> {
  return parseCib(await readCibText(executor, options));
}

/** crm_mon (then the CIB) on the executor's node, as the stack's view. */
export async function readPacemakerView(executor: Executor, options: ReadPacemakerOptions = {}): Promise<PacemakerView> {
  const crmMon = await readCrmMon(executor, options);
  const cib = options.cib === false ? null : await readCib(executor, options);
  return buildPacemakerView({ crmMon, cib });
}
