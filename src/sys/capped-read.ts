/**
 * Reads a capture (a saved /proc/drbd, events2 or JSON file, stdin) with a
 * size cap. readFile on /dev/zero or a runaway file grows one string until V8
 * gives up ("Invalid string length" after ~640 MB); a stream stops at the cap.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { InputTooLargeError } from '../errors.js';

/** 64 MiB: a /proc/drbd or events2 capture of thousands of devices is a few MiB. */
export const CAPTURE_MAX_BYTES = 64 * 1024 * 1024;

/** Collects a stream as UTF-8 text; destroys it and throws InputTooLargeError past `maxBytes`. */
export async function readStreamCapped(stream: Readable, source: string, maxBytes = CAPTURE_MAX_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += buffer.length;
      if (total > maxBytes) throw new InputTooLargeError(source, maxBytes);
      chunks.push(buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

/** A file read as a capture; `-` is stdin. Errors of the open (ENOENT, EACCES, EISDIR) pass through. */
export function readCaptureFile(path: string, maxBytes = CAPTURE_MAX_BYTES): Promise<string> {
  if (path === '-') return readStreamCapped(process.stdin, 'stdin', maxBytes);
  return readStreamCapped(createReadStream(path, { highWaterMark: 1024 * 1024 }), path, maxBytes);
}
