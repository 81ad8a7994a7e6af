// Child for loader tests: loads the addon through the compiled src/native.js
// and prints "ok <abiVersion>" or "error <code> <message>".
// argv: <compiled package root>
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root] = process.argv.slice(2);
const { loadNative } = await import(pathToFileURL(join(root, 'src/native.js')).href);
try {
  process.stdout.write(`ok ${loadNative().abiVersion}\n`);
} catch (error) {
  process.stdout.write(`error ${error.code} ${error.constructor.name} ${error.message}\n`);
}
