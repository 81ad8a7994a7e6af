/**
 * One metric family whose samples are computed at scrape time: a prom-client
 * Gauge whose collect() clears it and sets every sample from the current
 * state. The exposition TYPE can be counter or untyped as well (DRBD's
 * counters are read, not incremented here, so a Counter's inc() does not fit).
 */
import { Gauge, type Registry } from 'prom-client';

export type FamilyType = 'gauge' | 'counter' | 'untyped';
export type Labels = Record<string, string>;
export type Emit = (labels: Labels, value: number) => void;

export interface FamilySpec<C> {
  name: string;
  help: string;
  type: FamilyType;
  labelNames: readonly string[];
  /** Emits every sample for this scrape from the scrape context. */
  samples(context: C, emit: Emit): void;
}

class ScrapeFamily<C> extends Gauge<string> {
  constructor(
    private readonly spec: FamilySpec<C>,
    context: () => C,
    registry: Registry,
  ) {
    const collect = function (this: Gauge<string>): void {
      // Not reset(): for a family without labels it would leave a 0 sample, and absent must stay absent.
      (this as unknown as { hashMap: Record<string, unknown> }).hashMap = {};
      spec.samples(context(), (labels, value) => {
        if (Number.isFinite(value)) this.set(labels, value);
      });
    };
    super({ name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [registry], collect });
  }

  override async get(): Promise<Awaited<ReturnType<Gauge<string>['get']>>> {
    const metric = await super.get();
    if (this.spec.type === 'gauge') return metric;
    // prom-client renders `type` as written: counter and untyped need no other change.
    return { ...metric, type: this.spec.type as unknown as typeof metric.type };
  }
}

/** Registers each family on `registry`, in order (the exposition keeps that order). */
export function registerFamilies<C>(registry: Registry, specs: readonly FamilySpec<C>[], context: () => C): void {
  for (const spec of specs) new ScrapeFamily(spec, context, registry);
}
