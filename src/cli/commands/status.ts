import { Command, Option } from 'commander';
import {
  readLiveStatus,
  readStatusFile,
  toStatusReport,
  type DeviceReport,
  type LiveSource,
  type StatusReport,
} from '../../index.js';
import { colorsFor, escapeControls, formatBytes, formatDuration, formatSyncAmounts, progressBar, table, type Colors } from '../format.js';
import type { CliContext } from '../context.js';

interface StatusOptions {
  json?: boolean;
  fromProc?: string;
  fromEvents2?: string;
  fromJson?: string;
  source: LiveSource;
}

const HEALTHY_DISK = new Set(['UpToDate']);

function deviceRow(device: DeviceReport, colors: Colors): string[] {
  const pair = (a: string | null, b: string | null) => `${a ?? '-'}/${b ?? '-'}`;
  const disk = pair(device.diskState, device.peerDiskState);
  const diskHealthy = HEALTHY_DISK.has(device.diskState) && (device.peerDiskState === null || HEALTHY_DISK.has(device.peerDiskState));
  const connected = device.connectionState === 'Connected';
  return [
    String(device.minor),
    device.resource === null ? '-' : escapeControls(device.volume === null ? device.resource : `${device.resource}/${device.volume}`),
    pair(device.role, device.peerRole),
    diskHealthy ? colors.green(disk) : colors.yellow(disk),
    connected ? (device.connectionState ?? '-') : colors.red(device.connectionState ?? '-'),
    device.replicationState ?? '-',
    device.protocol ?? '-',
    device.sizeBytes === null ? '-' : formatBytes(device.sizeBytes),
    device.outOfSyncBytes === null ? '-' : formatBytes(device.outOfSyncBytes),
  ];
}

function syncLine(device: DeviceReport): string | null {
  const sync = device.sync;
  if (sync === null) return null;
  const parts = [
    `${progressBar(sync.percent)} ${sync.percent.toFixed(1)}%`,
    `remaining ${formatSyncAmounts(sync.remainingBytes, sync.totalBytes)}`,
  ];
  if (sync.stalled) parts.push('STALLED');
  else if (sync.etaSeconds !== null) parts.push(`ETA ${sync.etaSeconds} s (${formatDuration(sync.etaSeconds)})`);
  if (sync.speedBytesPerSecond !== null) parts.push(`${formatBytes(sync.speedBytesPerSecond)}/s`);
  if (sync.wantBytesPerSecond !== null) parts.push(`want ${formatBytes(sync.wantBytesPerSecond)}/s`);
  return `   minor ${device.minor}: ${parts.join('  ')}`;
}

export function renderStatus(report: StatusReport, colors: Colors): string {
  const lines: string[] = [];
  if (report.devices.length === 0) {
    lines.push(`no DRBD devices configured (source: ${report.source})`);
  } else {
    lines.push(
      table(
        ['MINOR', 'RESOURCE', 'ROLE', 'DISK', 'CONNECTION', 'REPLICATION', 'PROTO', 'SIZE', 'OUT-OF-SYNC'],
        report.devices.map((d) => deviceRow(d, colors)),
      ),
    );
    const syncing = report.devices.map(syncLine).filter((l): l is string => l !== null);
    if (syncing.length > 0) lines.push('', ...syncing);
  }
  if (report.unconfiguredMinors.length > 0) lines.push('', `unconfigured minors: ${report.unconfiguredMinors.join(', ')}`);
  lines.push('', `source: ${report.source}${report.version ? `, DRBD ${escapeControls(report.version)}` : ''}`);
  return lines.join('\n');
}

export function statusCommand(context: CliContext): Command {
  return new Command('status')
    .description('show DRBD resources, devices, peers and sync progress')
    .option('--json', 'print the status model as JSON (a stable contract, see docs/cli.md)')
    .option('--from-proc <file>', 'parse a saved /proc/drbd instead of the live system (- reads stdin)')
    .option('--from-events2 <file>', 'parse a saved `drbdsetup events2` capture (- reads stdin)')
    .option('--from-json <file>', 'parse a saved `drbdsetup status --json` (DRBD 9; - reads stdin)')
    .addOption(
      new Option('--source <source>', 'live source to read').choices(['auto', 'netlink', 'events2', 'proc']).default('auto'),
    )
    .addHelpText(
      'after',
      `
Examples:
  hastor status                               live state (netlink, else events2, else /proc/drbd)
  hastor status --json | jq '.devices[].sync'  sync progress for scripts
  hastor status --from-proc proc-drbd.txt     a /proc/drbd saved in a support bundle`,
    )
    .action(async (options: StatusOptions) => {
      const files = [
        ['proc', options.fromProc],
        ['events2', options.fromEvents2],
        ['json', options.fromJson],
      ].filter((entry): entry is ['proc' | 'events2' | 'json', string] => entry[1] !== undefined);
      if (files.length > 1) context.usageError('give at most one of --from-proc, --from-events2, --from-json');
      const status = files[0]
        ? await readStatusFile(files[0][1], files[0][0])
        : await readLiveStatus({ source: options.source });
      // Fields kept but not understood: the status stands, the operator hears of them (stdout stays clean for --json).
      for (const w of status.warnings ?? []) {
        const where = w.line === null ? w.source : `${w.source} line ${w.line}`;
        context.stderr.write(`hastor: warning: ${escapeControls(`${where}: ${w.message}`)}\n`);
      }
      const report = toStatusReport(status);
      if (options.json) context.out(`${JSON.stringify(report, null, 2)}\n`);
      else context.out(`${renderStatus(report, colorsFor(context.stdout, context.env))}\n`);
    });
}
