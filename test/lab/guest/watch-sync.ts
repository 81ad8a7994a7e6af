/**
 * Guest side: samples one DRBD device through hastor's status model while
 * it resyncs, and prints the samples as JSON when the sync is over (both
 * disks UpToDate after a sync was seen) or the time is up.
 * Usage: node watch-sync.js [--source proc] [--minor 0] [--interval-ms 300]
 *        [--timeout-ms 120000] [--ready-file <path>]
 * --ready-file is created after the first successful read, so the host knows
 * sampling runs before it starts the sync.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SYNCING_STATES } from '../../../src/drbd/states.js';
import { errorInfo, option, parseArgs, toJson } from './cli-args.js';
import { loadReport, readSource, type GuestSource } from './read-source.js';

const options = parseArgs(process.argv.slice(2));
const source = option(options, 'source', 'proc') as GuestSource;
const { toStatusReport } = await loadReport();
const minor = Number(option(options, 'minor', '0'));
const intervalMs = Number(option(options, 'interval-ms', '300'));
const timeoutMs = Number(option(options, 'timeout-ms', '120000'));
const readyFile = options.get('ready-file')?.at(-1);

interface Sample {
  t: number;
  connectionState: string | null;
  replicationState: string | null;
  diskState: string;
  peerDiskState: string | null;
  percent: number | null;
  remainingBytes: number | null;
  totalBytes: number | null;
  speedBytesPerSecond: number | null;
  etaSeconds: number | null;
}

const started = Date.now();
const samples: Sample[] = [];
let sawSync = false;
let done = false;
let lastError: unknown = null;
while (Date.now() - started < timeoutMs) {
  try {
    const report = toStatusReport((await readSource(source)).status);
    const device = report.devices.find((d) => d.minor === minor);
    if (readyFile && samples.length === 0) writeFileSync(readyFile, String(Date.now()));
    if (device) {
      samples.push({
        t: Date.now() - started,
        connectionState: device.connectionState,
        replicationState: device.replicationState,
        diskState: device.diskState,
        peerDiskState: device.peerDiskState,
        percent: device.sync?.percent ?? null,
        remainingBytes: device.sync?.remainingBytes ?? null,
        totalBytes: device.sync?.totalBytes ?? null,
        speedBytesPerSecond: device.sync?.speedBytesPerSecond ?? null,
        etaSeconds: device.sync?.etaSeconds ?? null,
      });
      const replication = device.replicationState;
      if (replication !== null && SYNCING_STATES.has(replication)) sawSync = true;
      if (sawSync && replication === 'Established' && device.diskState === 'UpToDate' && device.peerDiskState === 'UpToDate') {
        done = true;
        break;
      }
    }
  } catch (error) {
    lastError = error;
  }
  await sleep(intervalMs);
}
process.stdout.write(
  `${toJson({ source, minor, done, sawSync, elapsedMs: Date.now() - started, samples, lastError: lastError === null ? null : errorInfo(lastError) })}\n`,
);
