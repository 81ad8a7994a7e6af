/** Human formatting for the CLI: units, durations, bars, aligned tables. */

const KIB = 1024;
const MIB = KIB * 1024;
const GIB = MIB * 1024;
const TIB = GIB * 1024;

export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [TIB, 'TiB'],
    [GIB, 'GiB'],
    [MIB, 'MiB'],
    [KIB, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} B`;
}

/** Sync amounts in one unit, as /proc/drbd does, so "remaining of total" compare at a glance. */
export function formatSyncAmounts(remaining: number, total: number): string {
  const [size, unit] = total >= MIB ? [MIB, 'MiB'] : [KIB, 'KiB'];
  const show = (n: number) => {
    const v = n / size;
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  };
  return `${show(remaining)} ${unit} of ${show(total)} ${unit}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function progressBar(percent: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.floor((percent / 100) * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Length as shown on a terminal: colour sequences take no room. */
export function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').length;
}

/** Left-aligned columns separated by two spaces; trailing spaces trimmed; coloured cells align too. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...rows): a capture can hold hundreds of thousands of rows.
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    header.forEach((_, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(row[i] ?? ''));
    });
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export interface Colors {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string) => text;

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Colors {
  const enabled = stream.isTTY === true && (env.NO_COLOR ?? '') === '' && env.TERM !== 'dumb';
  if (!enabled) return { red: plain, green: plain, yellow: plain, bold: plain };
  return { red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), bold: wrap(1, 22) };
}
