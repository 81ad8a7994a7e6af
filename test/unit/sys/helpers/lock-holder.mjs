// Child for flock tests: takes a lock through the compiled wrapper, says
// "ready <inode>", and holds it until told "release" on stdin (or killed).
// argv: <compiled package root> <lock path> <shared|exclusive>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, path, mode] = process.argv.slice(2);
const { lockFile } = await import(pathToFileURL(join(root, 'src/sys/flock.js')).href);
const lock = await lockFile(path, { mode, timeoutMs: 0 });
process.stdout.write(`ready ${lock.inode}\n`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  if (text.includes('release')) {
    process.stdout.write(`released ${lock.release()}\n`);
    process.exit(0);
  }
});
