/**
 * Telling Pacemaker to keep its hands off (and to take them back): the whole
 * cluster's maintenance-mode, or one resource's is-managed. While hands are
 * off, Pacemaker neither starts, stops, promotes nor monitors, and hastor may
 * act on the resource itself. Each change is confirmed by reading crm_mon
 * again until it shows it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, HastorError } from '../errors.js';
import type { Executor } from '../sys/executor.js';
import { crmMonPrimitives, type CrmMonStatus } from './crm-mon.js';
import { assertPacemakerId, clusterMaintenanceArgv, resourceMaintenanceArgv } from './operations.js';
import { readCrmMon } from './read-cluster.js';

export interface MaintenanceRequest {
  /** Hands off (true) or back on (false). */
  on: boolean;
  /** One resource (a clone id or a primitive id); without it, the whole cluster. */
  resource?: string;
  dryRun?: boolean;
  /** Until crm_mon shows the change. Default 30 s. */
  timeoutMs?: number;
  pollIntervalMs?: number;
}

export interface MaintenanceResult {
  /** What was (or, on a dry run, would be) run on the node. */
  argv: string[];
  node: string;
  /** The scope: a resource id, or null for the cluster. */
  resource: string | null;
  on: boolean;
  /** Already so before: nothing was run. */
  already: boolean;
  dryRun: boolean;
}

/** Pacemaker did not show the change in time. */
export class MaintenanceTimeoutError extends HastorError {
  constructor(message: string) {
    super('E_STATE_TIMEOUT', message);
  }
}

/** Whether crm_mon shows the scope as left alone; null when the resource is not in the status. */
export function handsOff(status: CrmMonStatus, resource: string | null): boolean | null {
  if (resource === null) return status.summary.options.maintenanceMode ?? false;
  const top = status.resources.find((r) => r.id === resource);
  if (top !== undefined) return !top.managed;
  const primitive = crmMonPrimitives(status).find((p) => p.primitive.id === resource);
  return primitive === undefined ? null : !primitive.primitive.managed;
}

export async function setPacemakerMaintenance(executor: Executor, request: MaintenanceRequest): Promise<MaintenanceResult> {
  const resource = request.resource === undefined ? null : assertPacemakerId(request.resource);
  const argv = resource === null ? clusterMaintenanceArgv(request.on) : resourceMaintenanceArgv(resource, request.on);
  const before = await readCrmMon(executor);
  const state = handsOff(before, resource);
  if (state === null) {
    const known = before.resources.map((r) => r.id);
    throw new ConfigError(`Pacemaker on ${executor.node} has no resource ${resource}`, [`its resources: ${known.length === 0 ? 'none' : known.join(', ')}`]);
  }
  const result = { argv, node: executor.node, resource, on: request.on, dryRun: request.dryRun === true };
  if (state === request.on) return { ...result, already: true };
  if (request.dryRun === true) return { ...result, already: false };
  await executor.run(argv, { root: true, timeoutMs: 30_000 });
  const deadline = Date.now() + (request.timeoutMs ?? 30_000);
  for (;;) {
    if (handsOff(await readCrmMon(executor), resource) === request.on) return { ...result, already: false };
    if (Date.now() > deadline) {
      throw new MaintenanceTimeoutError(`${executor.node}: ran ${argv.join(' ')} but crm_mon does not show ${resource ?? 'the cluster'} ${request.on ? 'unmanaged' : 'managed'} after ${request.timeoutMs ?? 30_000} ms`);
    }
    await sleep(request.pollIntervalMs ?? 500);
  }
}
