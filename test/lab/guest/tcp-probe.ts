/**
 * Guest side: proves the lab network without ping (not installed on the
 * host). `--listen <port>` serves this node's hostname to every TCP client;
 * `--connect <addr:port>` (repeatable) connects to each peer and prints
 * `{ "<addr:port>": "<peer hostname>" | null }` as JSON.
 */
import { createConnection, createServer } from 'node:net';
import { hostname } from 'node:os';
import { option, parseArgs, toJson } from './cli-args.js';

const options = parseArgs(process.argv.slice(2));
const listen = options.get('listen')?.at(-1);
if (listen !== undefined) {
  createServer((socket) => socket.end(hostname())).listen(Number(listen), '0.0.0.0');
} else {
  const timeoutMs = Number(option(options, 'timeout-ms', '5000'));
  const probe = (target: string): Promise<string | null> =>
    new Promise((resolve) => {
      const [host, port] = target.split(':');
      const socket = createConnection({ host: host as string, port: Number(port) });
      let data = '';
      socket.setTimeout(timeoutMs, () => {
        socket.destroy();
        resolve(null);
      });
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', () => resolve(null));
    });
  const targets = options.get('connect') ?? [];
  const answers = await Promise.all(targets.map(probe));
  process.stdout.write(`${toJson(Object.fromEntries(targets.map((t, i) => [t, answers[i]])))}\n`);
}
