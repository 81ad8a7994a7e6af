/**
 * startExporter(): the DRBD state fed by the netlink event stream, the LVM
 * state refreshed on an interval through a persistent lvm shell, Pacemaker
 * read once per scrape, a prom-client registry reading them at scrape time,
 * and the HTTP server.
 * The library never prints or exits: errors go to `onError`, and the caller
 * decides when to close().
 */
import { runLocal } from '../sys/local-exec.js';
import { checkDrbdFeedOptions, DrbdState, startDrbdFeed, type DrbdFeedOptions } from './drbd-state.js';
import { checkLvmFeedOptions, LvmState, startLvmFeed, type LvmFeedOptions } from './lvm-state.js';
import { checkPacemakerOptions, createPacemakerCollector, PacemakerState, type PacemakerCollectorOptions } from './pacemaker-state.js';
import { createExporterRegistry, type ExporterRegistry } from './registry.js';
import { DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, startMetricsServer, type HealthReport, type MetricsServer } from './server.js';

export interface ExporterOptions {
  host?: string;
  port?: number;
  /** false: no LVM metrics. Default: refresh every 30 s. */
  lvm?: false | LvmFeedOptions;
  drbd?: DrbdFeedOptions;
  /** false: no Pacemaker metrics. Default: crm_mon and cibadmin -Q on this machine, once per scrape, 5 s timeout. */
  pacemaker?: false | PacemakerCollectorOptions;
  /** Keep rendered families until their state changes (default true; see createExporterRegistry). */
  cache?: boolean;
  /** Reads the drbd-utils version once for drbd_version{utils}; default true. */
  utilsVersion?: boolean;
  onError?: (error: Error) => void;
}

export interface Exporter {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly drbd: DrbdState;
  readonly lvm: LvmState | null;
  readonly pacemaker: PacemakerState | null;
  readonly metrics: ExporterRegistry;
  health(): HealthReport;
  close(): Promise<void>;
}

/** `drbdadm --version` prints DRBDADM_VERSION=9.22.0; one process at start, none per scrape. */
export async function readUtilsVersion(): Promise<string | null> {
  try {
    const { stdout } = await runLocal(['drbdadm', '--version'], { timeoutMs: 10_000, okExitCodes: [0, 1, 20] });
    return /^DRBDADM_VERSION=(\S+)$/m.exec(stdout)?.[1] ?? null;
  } catch {
    return null;
  }
}

export function exporterHealth(drbd: DrbdState, lvm: LvmState | null, now: number = Date.now(), pacemaker: PacemakerState | null = null): HealthReport {
  const d = drbd.health(now);
  return {
    ok: d.alive,
    drbd: {
      alive: d.alive,
      mode: d.mode,
      source: d.source,
      resources: drbd.status?.resources.length ?? null,
      updatedAt: d.updatedAt === null ? null : new Date(d.updatedAt).toISOString(),
      ageSeconds: d.updatedAt === null ? null : Math.round((now - d.updatedAt) / 100) / 10,
      restarts: d.restarts,
      lastError: d.lastError,
    },
    lvm:
      lvm === null
        ? { enabled: false }
        : {
            enabled: true,
            ok: lvm.lastOk,
            updatedAt: lvm.updatedAt === null ? null : new Date(lvm.updatedAt).toISOString(),
            vgs: lvm.sample?.vgs.length ?? null,
            lastError: lvm.lastError,
          },
    // Informational: a node without Pacemaker is healthy.
    pacemaker:
      pacemaker === null
        ? { enabled: false }
        : {
            enabled: true,
            up: pacemaker.reads === 0 ? null : pacemaker.up,
            cib: pacemaker.sample === null ? null : pacemaker.sample.cib !== null,
            unavailable: pacemaker.unavailable,
            updatedAt: pacemaker.updatedAt === null ? null : new Date(pacemaker.updatedAt).toISOString(),
            lastError: pacemaker.lastError,
          },
  };
}

export async function startExporter(options: ExporterOptions = {}): Promise<Exporter> {
  // All checked before any feed starts: a bad LVM or Pacemaker option must not leave a DRBD feed running.
  checkDrbdFeedOptions(options.drbd ?? {});
  if (options.lvm) checkLvmFeedOptions(options.lvm);
  if (options.pacemaker) checkPacemakerOptions(options.pacemaker);
  const onError = options.onError ?? (() => undefined);
  const drbd = new DrbdState();
  const lvm = options.lvm === false ? null : new LvmState();
  const drbdFeed = startDrbdFeed(drbd, { ...options.drbd, onError: options.drbd?.onError ?? onError });
  const lvmFeed = lvm === null ? null : startLvmFeed(lvm, { ...(options.lvm || {}), onError: (options.lvm && options.lvm.onError) || onError });
  const pacemaker = options.pacemaker === false ? null : createPacemakerCollector(new PacemakerState(), { ...options.pacemaker, onError: (options.pacemaker && options.pacemaker.onError) || onError });
  const metrics = createExporterRegistry(drbd, lvm, { cache: options.cache, pacemaker });
  const health = (): HealthReport => exporterHealth(drbd, lvm, undefined, pacemaker?.state ?? null);
  if (options.utilsVersion !== false) drbd.utilsVersion = await readUtilsVersion();
  await drbdFeed.ready;
  let server: MetricsServer;
  try {
    server = await startMetricsServer({
      host: options.host ?? DEFAULT_LISTEN_HOST,
      port: options.port ?? DEFAULT_LISTEN_PORT,
      contentType: metrics.registry.contentType,
      render: () => metrics.render(),
      health,
      onError,
    });
  } catch (error) {
    drbdFeed.close();
    await lvmFeed?.close();
    throw error;
  }
  let closing: Promise<void> | null = null;
  return {
    url: server.url,
    host: server.host,
    port: server.port,
    drbd,
    lvm,
    pacemaker: pacemaker?.state ?? null,
    metrics,
    health,
    close(): Promise<void> {
      closing ??= (async () => {
        await server.close();
        drbdFeed.close();
        await lvmFeed?.close();
      })();
      return closing;
    },
  };
}
