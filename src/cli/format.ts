/** Human formatting for the CLI: units, durations, bars, aligned tables. */

/*
 * C0 controls (ESC starts terminal sequences), DEL, C1 controls (0x9b is a
 * one-byte CSI on some terminals) and the bidi overrides that reorder what a
 * line shows.
 */
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_KEEPING_NEWLINES_RE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text from outside (captures, resource and node names, kernel strings, a
 * remote command's stderr) made safe to print on a terminal: every control
 * character becomes a visible escape such as `\x1b`, so nothing it holds can
 * move the cursor, retitle the window or hide a line. `newlines` keeps `\n`
 * for multi-line messages; without it a value stays on its line.
 */
export function escapeControls(text: string, options: { newlines?: boolean } = {}): string {
  return text.replace(options.newlines === true ? CONTROL_KEEPING_NEWLINES_RE : CONTROL_RE, escapeOne);
}

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
