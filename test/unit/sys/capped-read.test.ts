import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InputTooLargeError } from '../../../src/errors.js';
import { CAPTURE_MAX_BYTES, readCaptureFile, readStreamCapped } from '../../../src/sys/capped-read.js';

const dir = mkdtempSync(join(tmpdir(), 'hastor-capped-'));

describe('readCaptureFile', () => {
  it('reads a file up to the cap, UTF-8 split across chunks included', async () => {
    const path = join(dir, 'ok.txt');
    const text = 'é'.repeat(600_000);
    writeFileSync(path, text);
    expect(await readCaptureFile(path, Buffer.byteLength(text))).toBe(text);
  });

  it('refuses one byte over the cap with InputTooLargeError naming the file and the cap', async () => {
    const path = join(dir, 'big.txt');
    writeFileSync(path, 'x'.repeat(1025));
    const error = await readCaptureFile(path, 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputTooLargeError);
    expect((error as InputTooLargeError).code).toBe('E_INPUT_TOO_LARGE');
    expect((error as InputTooLargeError).message).toContain(path);
  });

  it('stops reading /dev/zero at the default 64 MiB cap', async () => {
    expect(CAPTURE_MAX_BYTES).toBe(64 * 1024 * 1024);
    const error = await readCaptureFile('/dev/zero').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputTooLargeError);
    expect((error as Error).message).toMatch(/^\/dev\/zero is larger than the 64 MiB/);
  });

  it('passes open errors through (a missing file stays ENOENT)', async () => {
    const error = await readCaptureFile(join(dir, 'missing')).catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('readStreamCapped', () => {
  it('caps any stream, e.g. stdin', async () => {
    const endless = new Readable({ read() { this.push(Buffer.alloc(4096)); } });
    await expect(readStreamCapped(endless, 'stdin', 100_000)).rejects.toThrow(/^stdin is larger than/);
    expect(await readStreamCapped(Readable.from([Buffer.from('ab'), Buffer.from('c')]), 'stdin', 3)).toBe('abc');
  });
});
