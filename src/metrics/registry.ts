/**
 * The exporter's prom-client Registry: DRBD families (drbd-reactor's, then
 * hastor's), LVM families, Pacemaker families and the exporter's own. Every
 * family reads the in-memory state when scraped; nothing here runs a command
 * or reads a file, except that a scrape first awaits the Pacemaker
 * collector's read (bounded by its timeout).
 */
import { Registry } from 'prom-client';
import { HASTOR_DRBD_FAMILIES, REACTOR_FAMILIES, type DrbdScrapeContext } from './drbd-families.js';
import type { DrbdState } from './drbd-state.js';
import type { FamilySpec } from './family.js';
import { registerFamilies } from './family.js';
import type { LvmState } from './lvm-state.js';
import { PACEMAKER_FAMILIES, type PacemakerScrapeContext } from './pacemaker-families.js';
import type { PacemakerCollector } from './pacemaker-state.js';

export interface ScrapeStats {
  /** Seconds the previous /metrics request took (collect + render); null before the first. */
  lastDurationSeconds: number | null;
  scrapes: number;
}

export interface ExporterScrapeContext extends DrbdScrapeContext, PacemakerScrapeContext {
  lvm: LvmState | null;
  scrape: ScrapeStats;
}

type Spec = FamilySpec<ExporterScrapeContext>;

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

export const LVM_FAMILIES: readonly Spec[] = [
  {
    name: 'hastor_lvm_vg_size_bytes',
    help: 'Size of the volume group in bytes (tier 1: local VG backing DRBD; tier 2: VG on a DRBD device)',
    type: 'gauge',
    labelNames: ['vg', 'tier'],
    samples: (c, emit) => c.lvm?.sample?.vgs.forEach((vg) => emit({ vg: vg.name, tier: vg.tier }, Number(vg.sizeBytes))),
  },
  {
    name: 'hastor_lvm_vg_free_bytes',
    help: 'Unallocated space in the volume group in bytes',
    type: 'gauge',
    labelNames: ['vg', 'tier'],
    samples: (c, emit) => c.lvm?.sample?.vgs.forEach((vg) => emit({ vg: vg.name, tier: vg.tier }, Number(vg.freeBytes))),
  },
  {
    name: 'hastor_lvm_lv_size_bytes',
    help: 'Size of the logical volume in bytes',
    type: 'gauge',
    labelNames: ['vg', 'lv', 'tier'],
    samples: (c, emit) => c.lvm?.sample?.lvs.forEach((lv) => emit({ vg: lv.vg, lv: lv.name, tier: lv.tier }, Number(lv.sizeBytes))),
  },
  {
    name: 'hastor_lvm_vg_lockspace_started',
    help: "Boolean whether the shared (lvmlockd) VG's lockspace is started on this node",
    type: 'gauge',
    labelNames: ['vg', 'lock_type'],
    samples: (c, emit) =>
      c.lvm?.sample?.vgs.forEach((vg) => {
        if (vg.lockspaceStarted !== null) emit({ vg: vg.name, lock_type: vg.lockType ?? '' }, vg.lockspaceStarted ? 1 : 0);
      }),
  },
  {
    name: 'hastor_lvm_refresh_success',
    help: 'Boolean whether the last LVM refresh succeeded',
    type: 'gauge',
    labelNames: [],
    samples: (c, emit) => {
      if (c.lvm !== null && c.lvm.refreshes > 0) emit({}, c.lvm.lastOk ? 1 : 0);
    },
  },
  {
    name: 'hastor_lvm_refresh_timestamp_seconds',
    help: 'Unix time of the last successful LVM refresh',
    type: 'gauge',
    labelNames: [],
    samples: (c, emit) => {
      if (c.lvm?.updatedAt != null) emit({}, c.lvm.updatedAt / 1000);
    },
  },
  {
    name: 'hastor_lvm_refresh_duration_seconds',
    help: 'Seconds the last LVM refresh took',
    type: 'gauge',
    labelNames: [],
    samples: (c, emit) => {
      const s = seconds(c.lvm?.lastDurationMs ?? null);
      if (s !== null) emit({}, s);
    },
  },
];

export const EXPORTER_FAMILIES: readonly Spec[] = [
  {
    name: 'hastor_drbd_source_up',
    help: 'Boolean whether the DRBD state source (netlink events, or polling) is running and current',
    type: 'gauge',
    labelNames: ['source'],
    samples: (c, emit) => {
      const health = c.drbd.health();
      emit({ source: health.source ?? health.mode ?? 'none' }, health.alive ? 1 : 0);
    },
  },
  {
    name: 'hastor_drbd_state_timestamp_seconds',
    help: 'Unix time the DRBD state was last received',
    type: 'gauge',
    labelNames: [],
    samples: (c, emit) => {
      if (c.drbd.updatedAt !== null) emit({}, c.drbd.updatedAt / 1000);
    },
  },
  {
    name: 'hastor_drbd_watch_restarts_total',
    help: 'Times the DRBD event watch ended and was restarted',
    type: 'counter',
    labelNames: [],
    samples: (c, emit) => emit({}, c.drbd.restarts),
  },
  // Last: by the time it is collected, every other family was.
  {
    name: 'hastor_scrape_duration_seconds',
    help: 'Seconds the previous /metrics scrape took to collect and render',
    type: 'gauge',
    labelNames: [],
    samples: (c, emit) => {
      if (c.scrape.lastDurationSeconds !== null) emit({}, c.scrape.lastDurationSeconds);
    },
  },
];

export interface ExporterRegistry {
  registry: Registry;
  scrape: ScrapeStats;
  /** Renders the exposition and records how long it took (for hastor_scrape_duration_seconds). */
  render(): Promise<string>;
}

export interface ExporterRegistryOptions {
  /**
   * Keep each DRBD and LVM family's rendered text until its state changes
   * (as drbd-reactor does): a scrape between two state changes only joins
   * strings. Default true; false renders every family on every scrape.
   */
  cache?: boolean;
  /** Pacemaker families, read once at the start of each render; none without. */
  pacemaker?: PacemakerCollector | null;
}

/** A registry whose families read `drbd` (and `lvm`, Pacemaker when given) at scrape time. */
export function createExporterRegistry(drbd: DrbdState, lvm: LvmState | null, options: ExporterRegistryOptions = {}): ExporterRegistry {
  const registry = new Registry();
  const scrape: ScrapeStats = { lastDurationSeconds: null, scrapes: 0 };
  const pacemaker = options.pacemaker ?? null;
  const context: ExporterScrapeContext = { drbd, lvm, pacemaker: pacemaker?.state ?? null, scrape };
  const drbdKey = (): string => `${drbd.generation}|${drbd.moduleVersion}|${drbd.utilsVersion}`;
  const lvmKey = (): string => String(lvm?.refreshes ?? 0);
  const pacemakerKey = (): string => String(pacemaker?.state.generation ?? 0);
  const entries: { spec: Spec; key: (() => string) | null }[] = [
    ...[...REACTOR_FAMILIES, ...HASTOR_DRBD_FAMILIES].map((spec) => ({ spec, key: drbdKey })),
    ...(lvm === null ? [] : LVM_FAMILIES.map((spec) => ({ spec, key: lvmKey }))),
    ...(pacemaker === null ? [] : PACEMAKER_FAMILIES.map((spec) => ({ spec, key: pacemakerKey }))),
    // Health and timing change with every scrape: never cached.
    ...EXPORTER_FAMILIES.map((spec) => ({ spec, key: null })),
  ];
  registerFamilies(
    registry,
    entries.map((e) => e.spec),
    () => context,
  );
  const useCache = options.cache !== false;
  const cache = new Map<string, { key: string; text: string }>();
  return {
    registry,
    scrape,
    async render(): Promise<string> {
      const started = performance.now();
      await pacemaker?.refresh();
      const parts: string[] = [];
      // In registration order, the same text registry.metrics() would give.
      for (const { spec, key } of entries) {
        const k = useCache && key !== null ? key() : null;
        const hit = k === null ? undefined : cache.get(spec.name);
        if (hit !== undefined && hit.key === k) {
          parts.push(hit.text);
          continue;
        }
        const text = await registry.getSingleMetricAsString(spec.name);
        if (k !== null) cache.set(spec.name, { key: k, text });
        parts.push(text);
      }
      const body = `${parts.join('\n\n')}\n`;
      scrape.lastDurationSeconds = (performance.now() - started) / 1000;
      scrape.scrapes++;
      return body;
    },
  };
}
