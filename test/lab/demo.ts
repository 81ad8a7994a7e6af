/**
 * `npm run demo`: boots the two-node lab (or reuses a running one), then shows
 * `hastor status` inside node1 every two seconds until the initial sync of r0
 * is done. The lab stays up afterwards for exploring; `npm run lab -- down` stops it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { distPath } from './harness/paths.js';

const cli = distPath('cli.js');
const run = (args: string[], capture = false) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: capture ? 'pipe' : 'inherit' });

const up = run(['up']);
if (up.status !== 0) {
  // Already running is fine for a demo; anything else is a real failure.
  const probe = run(['status', '--json'], true);
  if (probe.status !== 0) process.exit(up.status ?? 1);
}

const deadline = Date.now() + 10 * 60_000;
for (;;) {
  const json = run(['status', '--json'], true);
  if (json.status !== 0) {
    process.stderr.write(json.stderr);
    process.exit(json.status ?? 1);
  }
  const report = JSON.parse(json.stdout) as { devices: { sync: unknown; diskState: string; peerDiskState: string | null }[] };
  const human = run(['status'], true);
  process.stdout.write(`\n--- ${new Date().toISOString()}\n${human.stdout}`);
  const done = report.devices.length > 0 && report.devices.every((d) => d.sync === null && d.diskState === 'UpToDate' && d.peerDiskState === 'UpToDate');
  if (done) break;
  if (Date.now() > deadline) {
    console.error('demo: the sync did not finish within 10 minutes');
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
}
console.log(`
The initial sync is done: r0 is UpToDate on both nodes. The lab keeps running:
  npm run lab -- status --json         the model as JSON
  npm run lab -- exec node2 -- cat /proc/drbd
  npm run lab -- down                  stop it
(${join('dist', 'test', 'lab', 'cli.js')} is the lab CLI; see test/lab/README.md)`);
