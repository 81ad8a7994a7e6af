/** Reads test/fixtures/netlink/*.hex: comment lines, the request, then one reply datagram per line. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './compile-for-children.js';

export interface HexCapture {
  request: Buffer;
  replies: Buffer[];
}

export function readHexCapture(name: string): HexCapture {
  const lines = readFileSync(join(repoRoot, 'test/fixtures/netlink', name), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
  const [request, ...replies] = lines.map((line) => Buffer.from(line, 'hex'));
  if (request === undefined || replies.length === 0) throw new Error(`${name}: no request or no reply`);
  return { request, replies };
}
