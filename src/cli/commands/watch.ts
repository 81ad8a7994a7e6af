/**
 * `hastor watch`: DRBD state as it changes, from watchDrbd (the kernel's
 * netlink events, else a `drbdsetup events2` child). On a terminal the
 * status table with a progress bar and ETA per syncing device is redrawn in
 * place (state is re-read every --interval while something syncs, since a
 * resync moves without state words changing); otherwise one line per state
 * change, or with --json one JSON object per event.
 */
import { Command, Option } from 'commander';
import {
  deviceViews,
  readLiveStatus,
  toStatusReport,
  watchDrbd,
  type DrbdStatus,
  type StatusChange,
  type WatchEvent,
  type WatchSource,
} from '../../index.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { colorsFor, escapeControls, visibleLength, type Colors } from '../format.js';
import type { WatchEventJson } from '../json-contract.js';
import { renderStatus } from './status.js';

interface WatchOptions {
  json?: boolean;
  count?: string;
  timeout?: string;
  interval: string;
  source: 'auto' | WatchSource;
  changes: string;
}

const clock = (date = new Date()): string => date.toTimeString().slice(0, 8);

export function changeText(c: StatusChange): string {
  const where = [
    c.resource ?? `minor ${c.minor ?? '?'}`,
    c.object,
    ...(c.volume !== undefined && c.volume !== null ? [`volume ${c.volume}`] : []),
    ...(c.peer !== undefined && c.peer !== null ? [`peer ${c.peer}`] : []),
  ].join(' ');
  return escapeControls(`${where} ${c.field}: ${c.from ?? '-'} -> ${c.to ?? '-'}`);
}

/** One line per device: the first event of a plain-text watch. */
function deviceLines(status: DrbdStatus): string[] {
  return deviceViews(status).map(
    (d) =>
      escapeControls(`${d.resource ?? '-'}${d.volume === null ? '' : `/${d.volume}`} minor ${d.minor}: ${d.role ?? '-'} ${d.diskState}/${d.peerDiskState ?? '-'} ${d.connectionState ?? '-'} ${d.replicationState ?? '-'}`),
  );
}

const isSyncing = (status: DrbdStatus): boolean => deviceViews(status).some((d) => d.sync !== null);


class Screen {
  private rows = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /**
   * Replaces the previous frame with this one: back to its first row, each
   * line written over the old one and cleared to its end, then what is left
   * below cleared. Never a clear of the whole screen (tmux, with
   * scroll-on-clear, would push every frame into the scrollback).
   */
  draw(frame: string): void {
    const columns = this.stream.columns && this.stream.columns > 0 ? this.stream.columns : 80;
    const lines = frame.split('\n');
    const up = this.rows > 0 ? `\u001b[${this.rows}A` : '';
    this.stream.write(`${up}\r${lines.map((l) => `${l}\u001b[K`).join('\n')}\n\u001b[J`);
    this.rows = lines.reduce((n, l) => n + Math.max(1, Math.ceil(visibleLength(l) / columns)), 0);
  }
}

function frame(status: DrbdStatus | null, recent: readonly string[], source: string, colors: Colors, error: string | null): string {
  const head = colors.bold(`hastor watch  ${clock()}  (${source}; Ctrl-C stops)`);
  const body = status === null ? 'waiting for the first state…' : renderStatus(toStatusReport(status), colors);
  const tail = recent.length === 0 ? [] : ['', 'recent changes:', ...recent.map((l) => `  ${l}`)];
  return [head, '', body, ...tail, ...(error === null ? [] : ['', colors.yellow(`warning: ${escapeControls(error)}`)])].join('\n');
}

function positive(context: CliContext, name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) context.usageError(`${name} must be a positive ${integer ? 'integer' : 'number'}, not ${JSON.stringify(value)}`);
  return n;
}

export function watchCommand(context: CliContext): Command {
  return new Command('watch')
    .description('follow DRBD state changes live: progress bar and ETA per syncing device on a terminal')
    .option('--json', 'one JSON object per event per line (see docs/cli.md)')
    .option('--count <n>', 'stop after n events (the initial state is the first)')
    .option('--timeout <seconds>', 'stop after this many seconds (exit 0; up to 86400)')
    .option('--interval <seconds>', 'terminal: re-read the state this often while a device syncs (0.1 to 86400)', '1')
    .option('--changes <n>', 'terminal: how many recent changes to keep on screen', '8')
    .addOption(new Option('--source <source>', 'event source').choices(['auto', 'netlink', 'events2']).default('auto'))
    .addHelpText(
      'after',
      `
Stops on Ctrl-C (SIGINT) with exit code 0.

Examples:
  hastor watch                                live view (redrawn in place on a terminal)
  hastor watch --json | jq -c '.changes[]'    state changes for scripts
  hastor watch --count 1 --json               the current state as one event, then exit
  hastor watch --timeout 60 > changes.log     one line per change for a minute`,
    )
    .action(async (options: WatchOptions) => {
      const count = positive(context, '--count', options.count, true);
      const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, '--timeout', { minSeconds: 0.001 });
      // A redraw reads /proc/drbd and a netlink dump: ten a second is plenty.
      const intervalMs = parseDuration(options.interval, '--interval', { minSeconds: 0.1 });
      const keep = positive(context, '--changes', options.changes, true) ?? 8;
      const tty = context.stdout.isTTY === true && !options.json && context.env.TERM !== 'dumb';
      const colors = colorsFor(context.stdout, context.env);
      const screen = tty ? new Screen(context.stdout) : null;

      let events = 0;
      let latest: DrbdStatus | null = null;
      let activeSource = options.source === 'auto' ? 'netlink' : options.source;
      let warning: string | null = null;
      const recent: string[] = [];
      let finish: (error?: unknown) => void = () => undefined;
      const done = new Promise<void>((resolve, reject) => {
        finish = (error?: unknown) => (error === undefined ? resolve() : reject(error));
      });

      const redraw = (): void => {
        if (screen !== null) screen.draw(frame(latest, recent, activeSource, colors, warning));
      };
      // A resync moves without a state word changing: re-read while one runs (netlink dump + /proc details: speed, ETA).
      let polling = false;
      const poll = async (): Promise<void> => {
        if (polling) return;
        polling = true;
        try {
          latest = await readLiveStatus({ source: options.source === 'auto' ? 'auto' : options.source });
          warning = null;
        } catch (error) {
          warning = (error as Error).message;
        } finally {
          polling = false;
        }
        redraw();
      };

      const onEvent = (event: WatchEvent): void => {
        activeSource = event.source;
        if (event.changes.length === 0) {
          // Counters or progress only: the terminal view shows it, nothing else does.
          if (screen !== null && !polling) {
            latest = event.status;
            redraw();
          }
          return;
        }
        const first = events === 0;
        events += 1;
        const now = new Date();
        if (options.json) {
          const line: WatchEventJson = { time: now.toISOString(), source: event.source, changes: event.changes, status: toStatusReport(event.status) };
          context.out(`${JSON.stringify(line)}\n`);
        } else if (screen === null) {
          const lines = first ? deviceLines(event.status).map((l) => `${clock(now)} ${l}`) : event.changes.map((c) => `${clock(now)} ${changeText(c)}`);
          context.out(`${(lines.length === 0 ? [`${clock(now)} no DRBD resources`] : lines).join('\n')}\n`);
        } else {
          latest = event.status;
          if (!first) for (const c of event.changes) recent.push(`${clock(now)} ${changeText(c)}`);
          recent.splice(0, Math.max(0, recent.length - keep));
          redraw();
          void poll();
        }
        if (count !== undefined && events >= count) finish();
      };

      const watch = watchDrbd(onEvent, {
        everyStatus: screen !== null,
        ...(options.source === 'auto' ? {} : { source: options.source }),
        onError: (error) => {
          // An unreadable line or datagram: the next one carries the state again. Anything else ends the watch.
          if ((error as { code?: string }).code === 'E_PARSE') {
            if (screen === null) context.stderr.write(`hastor: warning: ${escapeControls(error.message)}\n`);
            else {
              warning = error.message;
              redraw();
            }
            return;
          }
          finish(error);
        },
      });
      const ticker = screen === null ? undefined : setInterval(() => {
        if (latest !== null && isSyncing(latest)) void poll();
        else redraw(); // the clock moves
      }, intervalMs);
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(), timeoutMs);
      const onSigint = (): void => finish();
      process.once('SIGINT', onSigint);
      if (screen !== null) context.stdout.write('\u001b[?25l');
      try {
        await Promise.race([done, watch.ready.then(() => done)]);
      } finally {
        process.removeListener('SIGINT', onSigint);
        if (ticker !== undefined) clearInterval(ticker);
        if (timer !== undefined) clearTimeout(timer);
        watch.close();
        if (screen !== null) context.stdout.write('\u001b[?25h');
      }
    });
}
