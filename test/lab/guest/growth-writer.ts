/**
 * Guest side of the growth test: a writer that keeps appending checkable 4 KiB records
 * (sequence number + a hash of it, fsync'd one by one) while every tier grows under it,
 * and the check that reads them all back.
 * - write: node growth-writer.js --file F --stop STOPFILE [--interval-ms 25] — appends until STOPFILE exists,
 *   then prints {"records": n, "bytes": n, "fsyncs": n, "lastError": null|string}.
 * - check: node growth-writer.js --check F — prints {"records": n, "bad": [first bad seqs]}.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { option, parseArgs, toJson } from './cli-args.js';

const RECORD = 4096;

function record(seq: number): Buffer {
  const buf = Buffer.alloc(RECORD, 0x2e);
  const digest = createHash('sha256').update(`hastor-growth-${seq}`).digest('hex');
  buf.write(`seq=${String(seq).padStart(10, '0')} sha=${digest}\n`, 0, 'ascii');
  // The tail repeats the digest so a torn or shifted block is caught too.
  buf.write(digest, RECORD - 65, 'ascii');
  buf.write('\n', RECORD - 1, 'ascii');
  return buf;
}

const options = parseArgs(process.argv.slice(2));
const check = options.get('check')?.at(-1);
if (check !== undefined) {
  const data = readFileSync(check);
  const records = Math.floor(data.length / RECORD);
  const bad: number[] = [];
  for (let seq = 0; seq < records && bad.length < 10; seq++) {
    if (!data.subarray(seq * RECORD, (seq + 1) * RECORD).equals(record(seq))) bad.push(seq);
  }
  process.stdout.write(`${toJson({ records, trailingBytes: data.length % RECORD, bad })}\n`);
} else {
  const file = option(options, 'file', '/data/writer.log');
  const stop = option(options, 'stop', '/tmp/growth-writer.stop');
  // Paced (default 40 records/s, 160 KiB/s) so a long growth cannot fill the filesystem it grows.
  const intervalMs = Number(option(options, 'interval-ms', '25'));
  const fd = openSync(file, 'a');
  let seq = 0;
  let lastError: string | null = null;
  while (!existsSync(stop)) {
    try {
      writeSync(fd, record(seq));
      fsyncSync(fd);
      seq++;
      await new Promise((r) => setTimeout(r, intervalMs));
    } catch (error) {
      // Keep going: a stall while a tier is resized must show up as an error count, not end the test.
      lastError = (error as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  closeSync(fd);
  process.stdout.write(`${toJson({ records: seq, bytes: seq * RECORD, lastError })}\n`);
}
