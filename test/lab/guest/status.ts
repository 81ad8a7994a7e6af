/**
 * Guest side: reads the live DRBD state through hastor's readers and prints
 * one JSON object keyed by source, each with the status report (the `hastor
 * status --json` contract), the model, and the raw text the parser saw; or
 * the error.
 * Usage: node status.js [--source proc|events2|netlink|auto]...   (default: proc events2 netlink)
 */
import { errorInfo, parseArgs, toJson } from './cli-args.js';
import { loadReport, readSource, type GuestSource } from './read-source.js';

const options = parseArgs(process.argv.slice(2));
const sources = (options.get('source') ?? ['proc', 'events2', 'netlink']) as GuestSource[];
const { toStatusReport } = await loadReport();
const result: Record<string, unknown> = {};
for (const source of sources) {
  const started = performance.now();
  try {
    const { status, raw } = await readSource(source);
    result[source] = { ok: true, ms: Math.round(performance.now() - started), report: toStatusReport(status), model: status, raw };
  } catch (error) {
    result[source] = { ok: false, ms: Math.round(performance.now() - started), error: errorInfo(error) };
  }
}
process.stdout.write(`${toJson(result)}\n`);
