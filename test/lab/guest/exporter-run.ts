/**
 * Guest side of the exporter lab test and benchmark: runs hastor's exporter
 * (startExporter, the same code `hastor exporter` runs) in the node until
 * SIGTERM/SIGINT. Prints one JSON line when listening, one per error, one on exit.
 *
 * Usage: node exporter-run.js --listen 127.0.0.1:9942 [--no-lvm] [--lvm-interval 30] [--poll] [--no-cache] [--pacemaker]
 *
 * Pacemaker metrics only with --pacemaker: the exporter lab and its benchmark run no cluster manager.
 */
import { parseListenAddress, startExporter } from '../../../src/metrics/index.js';
import { errorInfo, option, parseArgs } from './cli-args.js';

const options = parseArgs(process.argv.slice(2));
const { host, port } = parseListenAddress(option(options, 'listen', '127.0.0.1:9942'));
const line = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

const exporter = await startExporter({
  host,
  port,
  lvm: options.has('no-lvm') ? false : { intervalMs: Number(option(options, 'lvm-interval', '30')) * 1000 },
  drbd: options.has('poll') ? { forcePoll: true, pollIntervalMs: 1000 } : {},
  cache: !options.has('no-cache'),
  pacemaker: options.has('pacemaker') ? {} : false,
  onError: (error) => line({ event: 'error', error: errorInfo(error) }),
});
line({ event: 'listening', url: exporter.url, pid: process.pid, uid: process.getuid?.(), health: exporter.health() });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void exporter.close().then(() => {
      line({ event: 'stopped', signal });
      process.exit(0);
    });
  });
}
