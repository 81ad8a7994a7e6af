/**
 * Parser throughput: a 1,000-device /proc/drbd and a 10,000-line events2
 * stream, built from line shapes seen in our 8.4.11 lab captures.
 * Prints a table and writes bench/results/parse.json.
 */
import { parseEvents2, parseProcDrbd } from '../src/index.js';
import { percentile, sample, saveResult } from './machine.js';

function procDrbd(devices: number): string {
  const lines = ['version: 8.4.11 (api:1/proto:86-101)', 'srcversion: 059B1B470318F053F5077D5 '];
  for (let minor = 0; minor < devices; minor++) {
    if (minor % 4 === 0) {
      lines.push(
        ` ${minor}: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----`,
        `    ns:${minor * 1000} nr:0 dw:0 dr:${minor * 1000} al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:246680`,
        `\t[>....................] sync'ed:  5.9% (246680/262100)K`,
        `\tfinish: 0:02:06 speed: 1,964 (1,964) K/sec`,
      );
    } else {
      lines.push(
        ` ${minor}: cs:Connected ro:Secondary/Secondary ds:UpToDate/UpToDate C r-----`,
        `    ns:0 nr:${minor * 10} dw:${minor * 10} dr:0 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function events2Stream(lines: number): string {
  const out: string[] = [];
  const resources = 50;
  for (let r = 0; r < resources; r++) {
    out.push(
      `exists resource name:r${r} role:Primary suspended:no write-ordering:flush`,
      `exists connection name:r${r} peer-node-id:0 conn-name:peer connection:Connected role:Secondary congested:no`,
      `exists device name:r${r} volume:0 minor:${r} disk:UpToDate size:262100 read:262100 written:0 al-writes:8 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no`,
      `exists peer-device name:r${r} peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate resync-suspended:no received:0 sent:262100 out-of-sync:0 pending:0 unacked:0`,
    );
  }
  out.push('exists -');
  for (let i = 0; out.length < lines; i++) {
    const r = i % resources;
    out.push(
      i % 2 === 0
        ? `2026-11-22T04:48:05.862365+00:00 change device name:r${r} volume:0 minor:${r} disk:UpToDate size:393168 read:268312 written:${8614 + i} al-writes:27 bm-writes:0 upper-pending:0 lower-pending:0 blocked:no`
        : `2026-11-22T04:48:05.862365+00:00 change peer-device name:r${r} peer-node-id:0 conn-name:peer volume:0 replication:Established received:0 sent:${270710 + i} out-of-sync:0 pending:0 unacked:0`,
    );
  }
  return `${out.slice(0, lines).join('\n')}\n`;
}

const proc = procDrbd(1000);
const events = events2Stream(10_000);
const cases = [
  { name: 'procDrbd1000Devices', input: proc, run: () => parseProcDrbd(proc) },
  { name: 'events2Stream10000Lines', input: events, run: () => parseEvents2(events) },
];

const figures: Record<string, { inputBytes: number; runs: number; p50Ms: number; p99Ms: number; mbPerSecond: number }> = {};
for (const c of cases) {
  const times = sample(c.run);
  const p50 = percentile(times, 50);
  figures[c.name] = {
    inputBytes: c.input.length,
    runs: times.length,
    p50Ms: Number(p50.toFixed(3)),
    p99Ms: Number(percentile(times, 99).toFixed(3)),
    mbPerSecond: Number((c.input.length / 1e6 / (p50 / 1000)).toFixed(1)),
  };
}

console.log(`${'parser'.padEnd(24)}${'bytes'.padStart(9)}${'runs'.padStart(7)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'MB/s'.padStart(7)}`);
for (const [name, f] of Object.entries(figures)) {
  console.log(
    `${name.padEnd(24)}${String(f.inputBytes).padStart(9)}${String(f.runs).padStart(7)}${f.p50Ms.toFixed(3).padStart(9)}${f.p99Ms.toFixed(3).padStart(9)}${f.mbPerSecond.toFixed(1).padStart(7)}`,
  );
}
console.log(`saved ${saveResult('parse', { figures })}`);
