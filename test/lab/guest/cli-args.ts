/** Tiny `--name value` parser for the guest scripts (no dependency, argv only). */
export function parseArgs(argv: readonly string[]): Map<string, string[]> {
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (!word.startsWith('--')) throw new Error(`unexpected argument ${word}`);
    const next = argv[i + 1];
    const value = next === undefined || next.startsWith('--') ? 'true' : (i++, next);
    options.set(word.slice(2), [...(options.get(word.slice(2)) ?? []), value]);
  }
  return options;
}

export function option(options: Map<string, string[]>, name: string, fallback: string): string {
  return options.get(name)?.at(-1) ?? fallback;
}

/** JSON with bigint as decimal strings (the model keeps sizes as bigint). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function errorInfo(error: unknown): { name: string; code: string | null; message: string } {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : null, message: e?.message ?? String(error) };
}
