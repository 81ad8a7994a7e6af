/**
 * Guest side of the watch latency test: how long after the kernel's own
 * state change does watchDrbd() call back?
 *
 * The kernel stamps every log record with its local clock (/dev/kmsg records
 * are `prio,seq,usec,flags;text`). We map that clock onto process.hrtime by
 * writing marker lines to /dev/kmsg between two hrtime readings and reading
 * their stamps back (offset = middle of the write − stamp; error = half the
 * write's duration), once before and once after, to see the drift. Then:
 * `drbdadm disconnect`, `drbdadm connect`, and for each `conn( A -> B )` line
 * DRBD logged, the first watch delivery that shows B; latency = callback
 * hrtime − (stamp + offset).
 *
 * Usage: node watch-latency.js [--resource r0] [--timeout-ms 30000]
 * Prints JSON (see WatchLatencyResult).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { canonicalConnectionState, splitLegacyConnectionState } from '../../../src/drbd/states.js';
import { watchDrbd, type StatusChange } from '../../../src/drbd/watch.js';
import { errorInfo, option, parseArgs, toJson } from './cli-args.js';

const options = parseArgs(process.argv.slice(2));
const resourceName = option(options, 'resource', 'r0');
const timeoutMs = Number(option(options, 'timeout-ms', '30000'));

interface KmsgRecord {
  seq: number;
  usec: bigint;
  text: string;
}

// The kernel rate-limits /dev/kmsg writers (10 lines per 5 s): lift that in the lab node, and use few markers anyway.
let markerCount = 12;
try {
  writeFileSync('/proc/sys/kernel/printk_devkmsg', 'on\n');
} catch {
  markerCount = 4; // 2 × 4 markers fit the default burst
}

// Non-blocking: a read with nothing new fails with EAGAIN instead of waiting.
const kmsgRead = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
const kmsgWrite = openSync('/dev/kmsg', constants.O_WRONLY);
const buffer = Buffer.alloc(16384);

function readRecords(): KmsgRecord[] {
  const records: KmsgRecord[] = [];
  for (;;) {
    let n: number;
    try {
      n = readSync(kmsgRead, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') return records;
      if (code === 'EPIPE') continue; // records were overwritten before we read them: go on from the oldest left
      throw error;
    }
    if (n === 0) return records;
    const line = buffer.toString('utf8', 0, n);
    const semi = line.indexOf(';');
    const [, seq, usec] = line.slice(0, semi).split(',');
    records.push({ seq: Number(seq), usec: BigInt(usec ?? '0'), text: line.slice(semi + 1).split('\n')[0] ?? '' });
  }
}

interface Marker {
  offsetNs: bigint;
  /** Half the time the write took: the stamp lies within ± this of the middle. */
  errorNs: bigint;
  stampUsec: bigint;
  beforeNs: bigint;
  afterNs: bigint;
}

let markerSeq = 0;
async function marker(): Promise<Marker> {
  const text = `hastor-watch-latency marker ${process.pid}-${++markerSeq}`;
  const before = process.hrtime.bigint();
  writeSync(kmsgWrite, `${text}\n`);
  const after = process.hrtime.bigint();
  for (let tries = 0; tries < 100; tries++) {
    const found = readRecords().find((r) => r.text === text);
    if (found) return { offsetNs: (before + after) / 2n - found.usec * 1000n, errorNs: (after - before + 1n) / 2n, stampUsec: found.usec, beforeNs: before, afterNs: after };
    await sleep(5);
  }
  throw new Error(`marker "${text}" never came back from /dev/kmsg`);
}

interface Calibration {
  offsetNs: bigint;
  /** Half the width of the interval the offset is known to lie in. */
  errorNs: bigint;
  /** Smallest step between stamps seen (the kernel clock's resolution as printk sees it). */
  stepNs: bigint;
  all: Marker[];
}

/**
 * The stamp is the kernel clock truncated to its resolution (UML: one jiffy,
 * 10 ms), so each marker bounds the offset to [before − stamp − step, after −
 * stamp]; markers at different phases of the tick narrow the intersection.
 */
function calibrationOf(all: Marker[], stepNs: bigint): Calibration {
  let low = -(1n << 62n);
  let high = 1n << 62n;
  for (const m of all) {
    const stampNs = m.stampUsec * 1000n;
    if (m.beforeNs - stampNs - stepNs > low) low = m.beforeNs - stampNs - stepNs;
    if (m.afterNs - stampNs < high) high = m.afterNs - stampNs;
  }
  if (low > high) throw new Error(`calibration markers disagree (interval [${low}, ${high}] ns is empty): the two clocks do not run together`);
  return { offsetNs: (low + high) / 2n, errorNs: (high - low + 1n) / 2n, stepNs, all };
}

async function markers(count: number): Promise<Marker[]> {
  const all: Marker[] = [];
  for (let i = 0; i < count; i++) {
    all.push(await marker());
    // Odd, growing gaps: the markers land at different phases of the kernel tick.
    await sleep(1 + ((i * 7) % 11));
  }
  return all;
}

function stepOf(all: Marker[]): bigint {
  const steps = all.slice(1).map((m, i) => m.stampUsec - (all[i] as Marker).stampUsec).filter((d) => d > 0n);
  const step = steps.length > 0 ? steps.reduce((a, b) => (b < a ? b : a)) : 1n;
  // Steps are multiples of the resolution; 1 µs when the clock is fine-grained.
  return (step >= 1000n ? step : 1n) * 1000n;
}

interface Delivery {
  at: bigint;
  receivedAt: bigint;
  connectionState: string | null;
  replicationState: string | null;
  changes: StatusChange[];
}

const deliveries: Delivery[] = [];
const watchErrors: unknown[] = [];
const watch = watchDrbd(
  (event) => {
    const at = process.hrtime.bigint();
    const resource = event.status.resources.find((r) => r.name === resourceName);
    const connection = resource?.connections[0];
    deliveries.push({
      at,
      receivedAt: event.receivedAt,
      connectionState: connection?.connectionState ?? null,
      replicationState: connection?.peerDevices[0]?.replicationState ?? null,
      changes: event.changes.filter((c) => c.resource === resourceName),
    });
  },
  { onError: (error) => watchErrors.push(error), source: 'netlink' },
);

async function waitFor(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what} not seen by the watch within ${timeoutMs} ms`);
    await sleep(10);
  }
}

const CONN = /conn\( (\w+) -> (\w+) \)/;

/**
 * An independent listener on the same kernel broadcasts: `drbdsetup events2
 * --timestamps` stamps each line with the wall clock when it read it. If it
 * sees a change as late as the watch does, the delay is the kernel's (the
 * broadcast left late), not hastor's.
 */
function startEvents2Listener(): { child: ChildProcess; lines: { wallNs: bigint; connection: string }[]; wallToHrNs: bigint } {
  const wallToHrNs = process.hrtime.bigint() - BigInt(Date.now()) * 1_000_000n;
  const child = spawn('drbdsetup', ['events2', 'all', '--timestamps'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: { wallNs: bigint; connection: string }[] = [];
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      const m = /^(\S+)T(\S+?)\.(\d{6})\S* change connection name:(\S+) .*connection:(\w+)/.exec(line);
      if (!m || m[4] !== resourceName) continue;
      const wallMs = Date.parse(`${m[1]}T${m[2]}Z`);
      lines.push({ wallNs: BigInt(wallMs) * 1_000_000n + BigInt(m[3] as string) * 1000n, connection: m[5] as string });
    }
  });
  return { child, lines, wallToHrNs };
}

try {
  await watch.ready;
  readRecords(); // skip the boot log
  const firstMarkers = await markers(markerCount);
  const stepNs = stepOf(firstMarkers);
  const first = calibrationOf(firstMarkers, stepNs);
  const events2 = startEvents2Listener();
  await sleep(300);

  const startIndex = deliveries.length;
  // The commands run in a helper started well before them: a fork of this
  // (large) process blocks its event loop in UML for tens of ms, which would
  // be measured as watch latency. A watcher sees others' changes, not its own.
  const driver = spawn('/bin/sh', ['-ec', `sleep 0.5; drbdadm disconnect ${resourceName}; sleep 1; drbdadm connect ${resourceName}`], { stdio: 'ignore' });
  const driverDone = new Promise<number | null>((resolve) => driver.on('close', resolve));
  await waitFor(() => deliveries.slice(startIndex).some((d) => d.connectionState === 'StandAlone'), 'StandAlone');
  await waitFor(() => deliveries.slice(startIndex).some((d, i, all) => d.connectionState === 'Connected' && all.slice(0, i).some((e) => e.connectionState === 'StandAlone')), 'Connected again');
  const driverExit = await driverDone;
  if (driverExit !== 0) throw new Error(`drbdadm disconnect/connect failed (exit ${driverExit})`);
  await sleep(500); // trailing broadcasts (peer role, disk states)
  const records = readRecords();
  const second = calibrationOf(await markers(markerCount), stepNs);
  events2.child.kill('SIGTERM');

  // DRBD 8.4 logs a connection change as `drbd r0: conn( A -> B )` or, with disk words, `block drbdN: ... conn( A -> B ) ...`.
  const transitions = records
    .filter((r) => r.text.startsWith(`drbd ${resourceName}: `) || r.text.startsWith('block drbd'))
    .map((r) => ({ record: r, match: CONN.exec(r.text) }))
    .filter((x): x is { record: KmsgRecord; match: RegExpExecArray } => x.match !== null);

  const events = deliveries.slice(startIndex);
  let cursor = 0;
  let e2cursor = 0;
  const rows = transitions.map(({ record, match }) => {
    const from = match[1] as string;
    const to = match[2] as string;
    const want = splitLegacyConnectionState(to);
    const kernelNs = record.usec * 1000n + first.offsetNs;
    let found = -1;
    for (let i = cursor; i < events.length && want !== null; i++) {
      const e = events[i] as Delivery;
      const stateChanged = e.changes.some((c) => c.field === 'connectionState' || c.field === 'replicationState');
      if (stateChanged && e.connectionState === want.connectionState && e.replicationState === want.replicationState) {
        found = i;
        break;
      }
    }
    if (found >= 0) cursor = found;
    const delivery = found >= 0 ? (events[found] as Delivery) : null;
    // events2 prints 8.4's WFConnection and WFReportParams both as Connecting: only the first shows as a line.
    let events2Ms: number | null = null;
    if (want !== null) {
      const word = canonicalConnectionState(want.connectionState);
      const index = events2.lines.findIndex((l, i) => i >= e2cursor && l.connection === word);
      if (index >= 0) {
        e2cursor = index + 1;
        events2Ms = Number((events2.lines[index] as { wallNs: bigint }).wallNs + events2.wallToHrNs - kernelNs) / 1e6;
      }
    }
    return {
      kernelLine: record.text,
      kernelUsec: record.usec.toString(),
      from,
      to,
      deliveryIndex: found >= 0 ? found : null,
      latencyMs: delivery === null ? null : Number(delivery.at - kernelNs) / 1e6,
      /** The same change seen by drbdsetup events2 (wall clock, ± 1 ms more). */
      events2LatencyMs: events2Ms,
      changes: delivery?.changes.filter((c) => c.field === 'connectionState' || c.field === 'replicationState').map((c) => `${c.object}.${c.field} ${c.from} -> ${c.to}`) ?? [],
    };
  });

  process.stdout.write(
    `${toJson({
      resource: resourceName,
      calibration: {
        offsetNs: first.offsetNs,
        markers: markerCount,
        errorMs: Number(first.errorNs) / 1e6,
        afterErrorMs: Number(second.errorNs) / 1e6,
        // How far the two clocks moved apart over the test.
        driftMs: Number(second.offsetNs - first.offsetNs) / 1e6,
        stampStepUsec: Number(stepNs / 1000n),
        markerWriteMs: first.all.map((m) => Number(m.afterNs - m.beforeNs) / 1e6),
      },
      transitions: rows,
      deliveries: events.map((d) => ({ atMs: Number(d.at - (events[0]?.at ?? d.at)) / 1e6, connectionState: d.connectionState, replicationState: d.replicationState, changes: d.changes.map((c) => `${c.object}.${c.field} ${c.from} -> ${c.to}`) })),
      watchErrors: watchErrors.map(errorInfo),
    })}\n`,
  );
} catch (error) {
  process.stdout.write(`${toJson({ error: errorInfo(error), deliveries: deliveries.length, watchErrors: watchErrors.map(errorInfo) })}\n`);
} finally {
  watch.close();
  closeSync(kmsgRead);
  closeSync(kmsgWrite);
}
