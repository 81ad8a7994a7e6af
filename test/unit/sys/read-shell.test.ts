import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalExecutor, type Executor } from '../../../src/sys/executor.js';
import { readingThrough, ReadShell } from '../../../src/sys/read-shell.js';
import { sysfsDevBytes } from '../../../src/sys/block-device.js';

const dir = mkdtempSync(join(tmpdir(), 'hastor-read-shell-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The local executor, counting the reads it did itself (the fallbacks). */
class CountingExecutor extends LocalExecutor {
  readonly ownReads: string[] = [];
  override async readFile(path: string, options?: { root?: boolean }): Promise<string> {
    this.ownReads.push(path);
    return super.readFile(path, options);
  }
}

const shells: ReadShell[] = [];
const started = (executor: Executor): ReadShell => {
  const shell = new ReadShell(executor);
  shells.push(shell);
  shell.start();
  return shell;
};
afterEach(() => {
  for (const s of shells.splice(0)) s.close();
});

describe('ReadShell (a real sh here)', () => {
  it('answers reads through the one shell, text as the file has it (leading blanks, backslashes, a last line without newline)', async () => {
    const executor = new CountingExecutor();
    const shell = started(executor);
    const proc = file('proc', 'version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate C r-----\n\tns:1 nr:2 dw:3 a\\b\n');
    const size = file('size', '843776');
    expect(await shell.readFile(proc)).toBe('version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate C r-----\n\tns:1 nr:2 dw:3 a\\b\n');
    expect(await shell.readFile(size)).toBe('843776\n');
    // A /proc file, whose stat size is 0: read to its end all the same.
    expect(await shell.readFile('/proc/version')).toBe(readFileSync('/proc/version', 'utf8'));
    expect(executor.ownReads).toEqual([]);
    expect(shell.counts).toEqual({ shell: 3, fallback: 0 });
  });

  it('keeps answers apart when many reads are asked at once', async () => {
    const shell = started(new CountingExecutor());
    const paths = Array.from({ length: 20 }, (_, i) => file(`f${i}`, `${i}\nline two of ${i}\n`));
    const texts = await Promise.all(paths.map((p) => shell.readFile(p)));
    expect(texts).toEqual(paths.map((_, i) => `${i}\nline two of ${i}\n`));
    expect(shell.counts.shell).toBe(20);
  });

  it('leaves a file it cannot read to the executor, whose error the caller gets', async () => {
    const executor = new CountingExecutor();
    const shell = started(executor);
    const missing = join(dir, 'missing');
    await expect(shell.readFile(missing)).rejects.toThrow();
    expect(executor.ownReads).toEqual([missing]);
    // The shell still answers after that.
    expect(await shell.readFile(file('after', 'x\n'))).toBe('x\n');
    expect(shell.counts).toEqual({ shell: 1, fallback: 1 });
  });

  it('reads the usual way before start, for a path with a newline, and after the shell died', async () => {
    const executor = new CountingExecutor();
    const shell = new ReadShell(executor);
    shells.push(shell);
    const a = file('a', 'a\n');
    expect(await shell.readFile(a)).toBe('a\n');
    shell.start();
    await expect(shell.readFile(`${a}\n/etc/passwd`)).rejects.toThrow();
    expect(executor.ownReads).toEqual([a, `${a}\n/etc/passwd`]);
    expect(await shell.readFile(a)).toBe('a\n');
    expect(shell.counts.shell).toBe(1);
    shell.close();
    expect(shell.running).toBe(false);
    expect(await shell.readFile(a)).toBe('a\n');
    expect(executor.ownReads).toHaveLength(3);
  });

  it('falls back when the executor cannot keep a process', async () => {
    const executor = new CountingExecutor();
    const noSpawn: Executor = { node: 'n', run: (a, o) => executor.run(a, o), readFile: (p, o) => executor.readFile(p, o), writeFile: (p, c, o) => executor.writeFile(p, c, o) };
    const shell = started(noSpawn);
    expect(shell.running).toBe(false);
    expect(await shell.readFile(file('b', 'b\n'))).toBe('b\n');
    expect(shell.counts).toEqual({ shell: 0, fallback: 1 });
  });

  it('gives a read not answered in time to the executor, and stops using the shell', async () => {
    // A shell that takes its input and never answers, as one stuck on a hung read would.
    class Mute extends CountingExecutor {
      override spawn(): ReturnType<LocalExecutor['spawn']> {
        return super.spawn(['sh', '-c', 'cat > /dev/null']);
      }
    }
    const executor = new Mute();
    const shell = new ReadShell(executor, { timeoutMs: 300 });
    shells.push(shell);
    shell.start();
    const path = file('slow', 'answer\n');
    expect(await shell.readFile(path)).toBe('answer\n');
    expect(shell.running).toBe(false);
    expect(executor.ownReads).toEqual([path]);
    expect(shell.counts).toEqual({ shell: 0, fallback: 1 });
  });

  it('readingThrough: plain reads through the shell (sysfsDevBytes too), root reads by the executor', async () => {
    const executor = new CountingExecutor();
    const shell = started(executor);
    const through = readingThrough(executor, shell);
    expect(await through.readFile(file('c', '7\n'))).toBe('7\n');
    expect(executor.ownReads).toEqual([]);
    const rootReads: string[] = [];
    const asRoot = readingThrough({ ...executor, node: executor.node, run: (a, o) => executor.run(a, o), writeFile: (p, c, o) => executor.writeFile(p, c, o), readFile: async (p, o) => (rootReads.push(`${p} ${o?.root}`), '') }, shell);
    await asRoot.readFile('/etc/shadow', { root: true });
    expect(rootReads).toEqual(['/etc/shadow true']);
    expect(through.node).toBe(executor.node);
    await expect(sysfsDevBytes(through, 999999, 999999)).rejects.toThrow();
    expect(executor.ownReads).toEqual(['/sys/dev/block/999999:999999/size']);
  });
});
