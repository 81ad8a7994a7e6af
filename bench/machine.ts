/** What every benchmark result records about where and when it ran. */
import { cpus, totalmem, release } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/index.js';

export function machineInfo() {
  const cpu = cpus()[0];
  return {
    date: new Date().toISOString(),
    node: process.version,
    kernel: release(),
    cpu: cpu?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
  };
}

export function saveResult(name: string, figures: Record<string, unknown>): string {
  const dir = join(packageRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ name, machine: machineInfo(), ...figures }, null, 2)}\n`);
  return path;
}

/** Runs fn until minMs has passed (after a warm-up) and returns per-run times in ms. */
export function sample(fn: () => unknown, { warmup = 5, minRuns = 20, minMs = 1500 } = {}): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
