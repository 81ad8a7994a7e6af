/**
 * Guest side of bench/lab-exporter.ts: scrapes each exporter N times,
 * interleaved round by round, over one keep-alive connection each and with
 * `Accept-Encoding: gzip` (as Prometheus does), and reads each exporter's CPU time from /proc/<pid>/stat
 * before and after. Prints per-target latencies (ms), CPU seconds, series
 * and bytes of the last scrape as JSON.
 *
 * Usage: node bench-exporter-scrape.js --rounds 300 --target name=URL=PID [--target ...]
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { option, parseArgs } from './cli-args.js';

const options = parseArgs(process.argv.slice(2));
const rounds = Number(option(options, 'rounds', '300'));
const targets = (options.get('target') ?? []).map((t) => {
  const [name, url, pid] = t.split('=');
  return { name: name as string, url: url as string, pid: Number(pid), agent: new Agent({ keepAlive: true, maxSockets: 1 }) };
});

const ticksPerSecond = 100; // USER_HZ on Linux
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

const wireBytes: Record<string, number> = {};
function scrape(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { agent, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode}`));
        const body = Buffer.concat(chunks);
        wireBytes[url] = body.length;
        resolve((res.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8'));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const series = (body: string): number => body.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;

const times: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
const last: Record<string, string> = {};
for (const t of targets) for (let i = 0; i < 10; i++) last[t.name] = await scrape(t.url, t.agent); // warm-up
const cpuBefore = Object.fromEntries(targets.map((t) => [t.name, cpuSeconds(t.pid)]));
for (let i = 0; i < rounds; i++) {
  for (const t of targets) {
    const t0 = performance.now();
    last[t.name] = await scrape(t.url, t.agent);
    times[t.name]!.push(performance.now() - t0);
  }
}
const cpu = Object.fromEntries(targets.map((t) => [t.name, cpuSeconds(t.pid) - (cpuBefore[t.name] as number)]));
process.stdout.write(
  JSON.stringify({
    rounds,
    times,
    cpuSeconds: cpu,
    series: Object.fromEntries(targets.map((t) => [t.name, series(last[t.name] as string)])),
    bytes: Object.fromEntries(targets.map((t) => [t.name, Buffer.byteLength(last[t.name] as string)])),
    wireBytes: Object.fromEntries(targets.map((t) => [t.name, wireBytes[t.url] ?? null])),
    sample: Object.fromEntries(targets.map((t) => [t.name, (last[t.name] as string).split('\n').filter((l) => /^(drbd_resource_resources|node_drbd_connected)/.test(l)).slice(0, 3)])),
  }),
);
for (const t of targets) t.agent.destroy();
