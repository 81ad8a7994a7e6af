import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NativeError } from '../../../src/errors.js';
import { isNativeSysError, loadNative, resolveAddonPath, toNativeError } from '../../../src/native.js';
import { findPackageRoot } from '../../../src/package-root.js';
import { startHelper } from '../sys/helpers/children.js';
import { compileForChildren, repoRoot } from '../sys/helpers/compile-for-children.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('findPackageRoot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hastor-root-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the repository from src/ (the default) and from a test folder', () => {
    expect(findPackageRoot()).toBe(repoRoot);
    expect(findPackageRoot(here)).toBe(repoRoot);
  });

  it('skips package.json files of other packages and unreadable ones', () => {
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(dir, 'a', 'package.json'), JSON.stringify({ name: 'hastor' }));
    writeFileSync(join(dir, 'a', 'b', 'package.json'), JSON.stringify({ name: 'other' }));
    writeFileSync(join(dir, 'a', 'b', 'c', 'package.json'), '{ not json');
    expect(findPackageRoot(join(dir, 'a', 'b', 'c'))).toBe(join(dir, 'a'));
  });

  it('gives a NativeError telling how to build when the addon is missing', () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'hastor' }));
    expect(() => resolveAddonPath(dir)).toThrow(NativeError);
    expect(() => resolveAddonPath(dir)).toThrow(/not built .*run npm run build:native/);
  });
});

describe('loadNative', () => {
  it('loads the built addon once, with the expected shape', () => {
    const addon = loadNative();
    expect(addon).toBe(loadNative());
    expect(addon.abiVersion).toBe(1);
    expect(typeof addon.NetlinkSocket).toBe('function');
    expect(typeof addon.lockFile).toBe('function');
    expect(resolveAddonPath()).toBe(join(repoRoot, 'build', 'Release', 'hastor_native.node'));
  });

  it('works from a compiled copy of the package (as from dist/src), and explains a missing or corrupt build', async () => {
    const outcomes: Record<string, string> = {};
    for (const build of ['link', 'none', 'corrupt'] as const) {
      const compiled = compileForChildren(build);
      try {
        const child = startHelper('load-native.mjs', [compiled.root]);
        outcomes[build] = (await child.line('')).replace(/^(ok|error) /, '');
        await child.exited;
      } finally {
        compiled.remove();
      }
    }
    expect(outcomes.link).toBe('1');
    expect(outcomes.none).toMatch(/^E_NATIVE NativeError hastor native addon not built .*run npm run build:native$/);
    expect(outcomes.corrupt).toMatch(/^E_NATIVE NativeError hastor native addon at .* failed to load .*run npm run build:native$/);
  });
});

describe('raw addon contract', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hastor-raw-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('throws errno errors with code, syscall and the contended inode', () => {
    const addon = loadNative();
    const path = join(dir, 'lock');
    const held = addon.tryLockFile(path, true);
    try {
      addon.tryLockFile(path, false);
      expect.unreachable();
    } catch (error) {
      expect(isNativeSysError(error)).toBe(true);
      if (!isNativeSysError(error)) return;
      expect(error.code).toBe('EAGAIN');
      expect(error.errno).toBe(11);
      expect(error.syscall).toBe('flock');
      expect(error.path).toBe(path);
      expect(error.ino).toBe(held.ino);
      expect([error.devMajor, error.devMinor]).toEqual([held.devMajor, held.devMinor]);
      const wrapped = toNativeError(error, 'locking');
      expect(wrapped).toBeInstanceOf(NativeError);
      expect((wrapped as NativeError).message).toMatch(/^locking: flock: .*EAGAIN/);
    } finally {
      expect(addon.releaseFileLock(held.fd, path)).toBe(true);
    }
  });

  it('rejects a timed wait with ETIMEDOUT', async () => {
    const addon = loadNative();
    const path = join(dir, 'lock');
    const held = addon.tryLockFile(path, false);
    try {
      await expect(addon.lockFile(path, true, 50)).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'flock' });
    } finally {
      addon.releaseFileLock(held.fd, path);
    }
  });

  it('refuses wrong argument types with TypeError instead of crashing', () => {
    const addon = loadNative();
    expect(() => addon.tryLockFile(1 as unknown as string, true)).toThrow(TypeError);
    expect(() => addon.releaseFileLock('x' as unknown as number, 'p')).toThrow(TypeError);
    expect(() => new addon.NetlinkSocket(16, 'nope' as unknown as () => void, 0, 1)).toThrow(TypeError);
    const socket = new addon.NetlinkSocket(16, () => undefined, 0, 1);
    try {
      expect(() => socket.request('x' as unknown as Buffer, 1)).toThrow(TypeError);
      expect(() => socket.joinGroup('x' as unknown as number)).toThrow(TypeError);
    } finally {
      socket.close();
    }
    expect(socket.closed).toBe(true);
    expect(() => socket.request(null, 0)).toThrow(/closed/);
  });

  it('passes through errors that did not come from the addon', () => {
    const plain = new Error('x');
    expect(toNativeError(plain, 'y')).toBe(plain);
  });
});
