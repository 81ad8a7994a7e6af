import { Command } from 'commander';
import { parseListenAddress, startExporter, type Exporter } from '../../index.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';

// Faster than once a second only spawns readers: Prometheus scrapes every 15 s or so.
const INTERVAL_BOUNDS = { minSeconds: 1 };
// Above Prometheus' default 10 s scrape timeout the scrape would be cut off first anyway.
const PACEMAKER_TIMEOUT_BOUNDS = { minSeconds: 1, maxSeconds: 60 };

interface ExporterCliOptions {
  listen: string;
  lvmInterval: string;
  lvm: boolean;
  pollInterval: string;
  pacemaker: boolean;
  pacemakerTimeout: string;
}

/** Waits for SIGTERM or SIGINT; resolves with its name. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export interface ExporterCommandHooks {
  /** Replaces waiting for a signal (tests). */
  until?: (exporter: Exporter) => Promise<unknown>;
}

export function exporterCommand(context: CliContext, hooks: ExporterCommandHooks = {}): Command {
  return new Command('exporter')
    .description('serve DRBD, LVM and Pacemaker metrics for Prometheus (/metrics, /healthz) until SIGTERM or SIGINT')
    .option('--listen <addr:port>', 'address to listen on (loopback by default; [::1]:PORT for IPv6, :PORT for all addresses)', '127.0.0.1:9942')
    .option('--lvm-interval <seconds>', 'how often to refresh the LVM metrics through the persistent lvm shell (1 to 86400)', '30')
    .option('--no-lvm', 'no LVM metrics (lvm needs root; DRBD metrics do not)')
    .option('--poll-interval <seconds>', 'DRBD read interval when netlink events are not available (1 to 86400)', '5')
    .option('--no-pacemaker', 'no Pacemaker metrics (by default crm_mon and cibadmin -Q run once per scrape, as this user: root or the haclient group)')
    .option('--pacemaker-timeout <seconds>', 'how long a scrape waits for crm_mon and cibadmin -Q together (1 to 60)', '5')
    .addHelpText(
      'after',
      `
Examples:
  hastor exporter                                  127.0.0.1:9942, DRBD + LVM + Pacemaker (run as root for LVM)
  hastor exporter --no-lvm                         works as an unprivileged user (Pacemaker: in group haclient)
  hastor exporter --listen [::1]:9942 --lvm-interval 60
  hastor exporter --no-pacemaker                   no crm_mon per scrape (without it, a node without Pacemaker shows hastor_pacemaker_up 0)
  curl -s 127.0.0.1:9942/healthz                   200 with a JSON summary, 503 when the DRBD source died

Metrics, the unit file and the alert rules: docs/exporter.md.`,
    )
    .action(async (options: ExporterCliOptions) => {
      const { host, port } = (() => {
        try {
          return parseListenAddress(options.listen);
        } catch (error) {
          return context.usageError((error as Error).message);
        }
      })();
      const lvmIntervalMs = parseDuration(options.lvmInterval, '--lvm-interval', INTERVAL_BOUNDS);
      const pollIntervalMs = parseDuration(options.pollInterval, '--poll-interval', INTERVAL_BOUNDS);
      const pacemakerTimeoutMs = parseDuration(options.pacemakerTimeout, '--pacemaker-timeout', PACEMAKER_TIMEOUT_BOUNDS);
      const exporter = await startExporter({
        host,
        port,
        lvm: options.lvm ? { intervalMs: lvmIntervalMs } : false,
        drbd: { pollIntervalMs },
        pacemaker: options.pacemaker ? { timeoutMs: pacemakerTimeoutMs } : false,
        onError: (error) => void context.stderr.write(`hastor exporter: ${error.message}\n`),
      });
      const health = exporter.health() as { drbd?: { mode?: string | null } };
      context.stderr.write(`hastor exporter: listening on ${exporter.url} (DRBD via ${health.drbd?.mode ?? 'unknown'}, LVM ${options.lvm ? `every ${lvmIntervalMs / 1000} s` : 'off'}, Pacemaker ${options.pacemaker ? 'per scrape' : 'off'})\n`);
      const signal = await (hooks.until ? hooks.until(exporter) : untilSignal());
      await exporter.close();
      context.stderr.write(`hastor exporter: stopped${typeof signal === 'string' ? ` (${signal})` : ''}\n`);
    });
}
