/**
 * The lab harness itself, on real UML nodes: command execution, isolation
 * of each node's root, file transfer, the per-pair network of a 3-node lab,
 * and that nothing (process, UDP socket, control socket) outlives a lab,
 * not even when the process that started it is killed.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleProblems, startLab, udpFree, type Lab, type LabState } from './harness/lab.js';
import { LabExecutor } from './harness/lab-executor.js';
import { previousConsolePath } from './harness/lab-node.js';
import { distPath, GUEST_NODE, GUEST_UNPRIVILEGED_ROOT, labBaseDir, projectRoot, unprivilegedDistPath } from './harness/paths.js';
import { isOurUml, umlProcesses } from './harness/reaper.js';
import { secondsSince } from './drbd-scenario.js';

const fileStart = Date.now();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('two-node lab: exec, isolation, transfer', () => {
  let lab: Lab | undefined;

  beforeAll(async () => {
    lab = await startLab({ nodes: 2 });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('boots two nodes, each with its own hostname and lab address', async () => {
    for (const node of lab!.nodes) {
      expect((await node.execOk(['uname', '-n'])).stdout.trim()).toBe(node.name);
      const addr = await node.execOk(['ip', '-o', '-4', 'addr', 'show', 'dev', 'vec0']);
      expect(addr.stdout).toContain(`${node.address}/32`);
    }
    expect(lab!.state.bootMs).toBeGreaterThan(0);
  });

  it('passes argv verbatim, returns exit codes, stdin and a guest-side timeout', async () => {
    const node = lab!.node('node1');
    const printed = await node.execOk(['printf', '%s|', 'a b', "c'd", '$HOME', '"q"']);
    expect(printed.stdout).toBe(`a b|c'd|$HOME|"q"|`);
    const failed = await node.exec(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(failed.exitCode).toBe(3);
    expect(failed.stderr).toBe('oops\n');
    expect((await node.execOk(['cat'], { stdin: 'from the host\n' })).stdout).toBe('from the host\n');
    const slow = await node.exec(['sleep', '30'], { timeoutMs: 500 });
    expect(slow.timedOut).toBe(true);
    expect(slow.exitCode).toBeNull();
    const missing = await node.exec(['/nonexistent/binary']);
    expect(missing.exitCode).not.toBe(0);
    await expect(node.execOk(['false'])).rejects.toThrow(/exited 1/);
  });

  it('keeps a process running with its three pipes (a stream): lines in order, stderr apart, the exit code, kill', async () => {
    const node = lab!.node('node1');
    const echo = node.spawn(['sh', '-c', 'while read l; do echo "out $l $X"; echo "err $l" >&2; done; exit 4'], { env: { X: 'x' } });
    let out = '';
    let err = '';
    echo.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    echo.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    for (let i = 0; i < 20; i++) echo.stdin.write(`${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    echo.stdin.end('last\n');
    expect(await echo.ended).toEqual({ code: 4, signal: null });
    expect(out).toBe([...Array.from({ length: 20 }, (_, i) => `out ${i} x\n`), 'out last x\n'].join(''));
    expect(err).toBe([...Array.from({ length: 20 }, (_, i) => `err ${i}\n`), 'err last\n'].join(''));
    const sleeper = node.spawn(['sleep', '60']);
    sleeper.kill();
    expect(await sleeper.ended).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await node.spawn(['/nonexistent/binary']).ended).error).toMatch(/ENOENT/);
  });

  it('answers (round trip printed) and runs commands concurrently', async () => {
    const node = lab!.node('node2');
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await node.execOk(['true']);
      times.push(performance.now() - t);
    }
    const median = [...times].sort((a, b) => a - b)[5] as number;
    // Printed, not asserted: a round trip's time depends on the host's load (UML's fork+exec ~40 ms, the agent a few).
    console.log(`[lab] exec round trip: median ${median.toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
    // Concurrency without a clock: each command waits until all four have arrived, which only
    // commands running at the same time can do (the timeout is only a guard).
    await node.execOk(['rm', '-rf', '/tmp/barrier']);
    await node.execOk(['mkdir', '/tmp/barrier']);
    const barrier = 'touch /tmp/barrier/$1; until [ "$(ls /tmp/barrier | wc -l)" -ge 4 ]; do sleep 0.05; done';
    const results = await Promise.all([1, 2, 3, 4].map((i) => node.exec(['sh', '-c', barrier, 'barrier', String(i)], { timeoutMs: 60_000 })));
    expect(results.map((r) => [r.exitCode, r.timedOut])).toEqual(Array.from({ length: 4 }, () => [0, false]));
  });

  it('keeps each node root private: writes reach neither the host nor the other node', async () => {
    const probe = `/etc/hastor-lab-probe-${process.pid}`;
    await lab!.node('node1').execOk(['sh', '-c', `echo node1 > ${probe}`]);
    expect((await lab!.node('node1').execOk(['cat', probe])).stdout).toBe('node1\n');
    expect(existsSync(probe)).toBe(false);
    expect((await lab!.node('node2').exec(['test', '-e', probe])).exitCode).toBe(1);
    // The repository is mounted read-only in the guests.
    const write = await lab!.node('node1').exec(['touch', join(projectRoot(), `.lab-write-probe-${process.pid}`)]);
    expect(write.exitCode).not.toBe(0);
    expect(write.stderr).toMatch(/Read-only file system/);
  });

  it("gives unprivileged users a view of the repository wherever the clone lives, without touching the host's modes", async () => {
    const node = lab!.node('node1');
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    const hostMode = statSync(projectRoot()).mode;
    const script = unprivilegedDistPath('guest', 'agent.js');
    const read = await node.exec([...nobody, 'sha256sum', script]);
    expect(read.stderr).toBe('');
    expect(read.stdout.split(' ')[0]).toBe(createHash('sha256').update(readFileSync(distPath('guest', 'agent.js'))).digest('hex'));
    // Node resolves the package from there: the addon's loader finds the package root.
    const load = await node.exec([...nobody, GUEST_NODE, '-e', `import(${JSON.stringify(join(GUEST_UNPRIVILEGED_ROOT, 'dist', 'src', 'index.js'))}).then((m) => console.log(typeof m.parseProcDrbd))`]);
    expect(load.stdout.trim()).toBe('function');
    expect(statSync(projectRoot()).mode).toBe(hostMode);
  });

  it('copies files in and out byte for byte', async () => {
    const node = lab!.node('node2');
    const scratch = mkdtempSync(join(labBaseDir(), 'xfer-'));
    try {
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
      writeFileSync(join(scratch, 'in.bin'), bytes);
      await node.copyIn(join(scratch, 'in.bin'), '/root/copied.bin');
      expect((await node.execOk(['stat', '-c', '%s', '/root/copied.bin'])).stdout.trim()).toBe('70000');
      await node.copyOut('/root/copied.bin', join(scratch, 'out.bin'));
      expect(readFileSync(join(scratch, 'out.bin')).equals(bytes)).toBe(true);
      await node.writeFile('/root/text', 'hello\n');
      expect(await node.readFile('/root/text')).toBe('hello\n');
      const raw = await node.exec(['head', '-c', '4', '/root/copied.bin'], { binary: true });
      expect(Buffer.from(raw.stdout, 'base64').equals(bytes.subarray(0, 4))).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('flags kernel trouble in console logs', () => {
    expect(consoleProblems('Linux version 6.1\nKernel panic - not syncing: VFS\n')).toEqual(['Kernel panic - not syncing: VFS']);
    expect(consoleProblems('WARNING: CPU: 0 PID: 1 at fs/x.c:1\nBUG: unable to handle\nok')).toHaveLength(2);
    expect(lab!.checkConsoles()).toEqual({ node1: [], node2: [] });
  });

  it('stops: poweroff, no process, UDP socket or control socket left', async () => {
    const state = lab!.state;
    const reports = await lab!.stop();
    lab = undefined;
    expect(reports.map((r) => r.method)).toEqual(['poweroff', 'poweroff']);
    for (const node of state.nodes) {
      expect(isOurUml(node.pid, node.umid)).toBe(false);
      expect(alive(node.pid)).toBe(false);
      expect(umlProcesses(node.umid)).toEqual([]);
      for (const link of node.hostLinks) expect(await udpFree(link.src, link.srcPort)).toBe(true);
    }
    expect(existsSync(join(state.dir, 'uml'))).toBe(false);
  });
});

describe('three-node lab', () => {
  let lab: Lab | undefined;

  beforeAll(async () => {
    lab = await startLab({ nodes: 3, memMiB: 256, disksMiB: [64] });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('links every pair: each node reaches both peers over TCP on its own interface', async () => {
    const nodes = lab!.nodes;
    for (const node of nodes) {
      expect(Object.keys(node.interfaces).sort()).toEqual(nodes.filter((n) => n !== node).map((n) => n.name));
      await node.spawnBackground([GUEST_NODE, distPath('guest', 'tcp-probe.js'), '--listen', '7000'], {
        stdoutPath: join(node.nodeDir, 'tcp-probe.log'),
      });
    }
    await sleep(2500); // node starts in ~1 s in a guest
    for (const node of nodes) {
      const peers = nodes.filter((n) => n !== node);
      const answers = await node.guestScript<Record<string, string | null>>('tcp-probe', peers.flatMap((p) => ['--connect', `${p.address}:7000`]));
      expect(answers).toEqual(Object.fromEntries(peers.map((p) => [`${p.address}:7000`, p.name])));
    }
    // Cutting one link leaves the other pair connected.
    await lab!.node('node1').linkDown('node2');
    const cut = await lab!.node('node1').guestScript<Record<string, string | null>>('tcp-probe', [
      '--connect', '10.99.0.2:7000', '--connect', '10.99.0.3:7000', '--timeout-ms', '2000',
    ]);
    expect(cut).toEqual({ '10.99.0.2:7000': null, '10.99.0.3:7000': 'node3' });
    await lab!.node('node1').linkUp('node2');
    const back = await lab!.node('node1').guestScript<Record<string, string | null>>('tcp-probe', ['--connect', '10.99.0.2:7000']);
    expect(back).toEqual({ '10.99.0.2:7000': 'node2' });
  });
});

describe('a node killed by pid and booted again', () => {
  let lab: Lab | undefined;
  const pattern = randomBytes(1024 * 1024); // new per run: an old disk cannot pass
  const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
  const PATTERN_OFFSET_MIB = 100;
  const probeTo = async (from: string, to: string, timeoutMs = 5000): Promise<string | null> => {
    const target = `${lab!.node(to).address}:7000`;
    const answers = await lab!.node(from).guestScript<Record<string, string | null>>('tcp-probe', ['--connect', target, '--timeout-ms', String(timeoutMs)]);
    return answers[target] ?? null;
  };
  const listen = (name: string): Promise<number> =>
    lab!.node(name).spawnBackground([GUEST_NODE, distPath('guest', 'tcp-probe.js'), '--listen', '7000'], { stdoutPath: join(lab!.node(name).nodeDir, 'tcp-probe.log') });
  const waitListening = async (from: string, to: string): Promise<string | null> => {
    const deadline = Date.now() + 15_000;
    let answer: string | null = null;
    while (answer === null && Date.now() < deadline) answer = await probeTo(from, to, 1000); // node starts in ~1 s in a guest
    return answer;
  };

  beforeAll(async () => {
    lab = await startLab({ nodes: 2, memMiB: 256, disksMiB: [256] });
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('keeps the disks and /etc across a SIGKILL, the peer sees the link go silent, and stop leaves nothing', async () => {
    const held = lab!.node('node2');
    const executor = new LabExecutor(held);
    const ports = held.hostLinks.map((l) => [l.src, l.srcPort] as const);

    // Before the crash: data on the disk, config in /etc (synced, as a real admin's would be after 5 s), scratch in /run and /tmp.
    await held.writeFile('/tmp/pattern.bin', pattern);
    await held.execOk(['dd', 'if=/tmp/pattern.bin', 'of=/dev/ubda', 'bs=1M', `seek=${PATTERN_OFFSET_MIB}`, 'conv=notrunc,fsync', 'status=none']);
    await held.execOk(['sh', '-c', 'echo "# crash probe $1" > /etc/drbd.d/crash-probe.res; echo "$1" > /etc/hastor-crash-probe; touch /run/hastor-probe /tmp/hastor-probe /root/hastor-probe; sync', 'sh', String(process.pid)]);
    const lvmConf = await held.readFile('/etc/lvm/lvm.conf');
    await Promise.all([listen('node1'), listen('node2')]);
    expect(await waitListening('node1', 'node2')).toBe('node2');
    expect(await waitListening('node2', 'node1')).toBe('node1');
    // A command running at the crash fails (handled at once: it rejects while killNode runs).
    const inFlight = held.exec(['sleep', '60']).then(
      () => 'answered',
      (error: Error) => error.message,
    );

    // The crash.
    const oldPid = held.pid;
    const oldSupervisor = held.supervisorPid;
    let t = Date.now();
    await lab!.killNode('node2');
    const killMs = Date.now() - t;
    expect(isOurUml(oldPid, held.umid)).toBe(false);
    expect(alive(oldPid)).toBe(false);
    expect(alive(oldSupervisor)).toBe(false);
    expect(umlProcesses(held.umid)).toEqual([]);
    for (const [src, port] of ports) expect(await udpFree(src, port)).toBe(true);
    expect(held.isRunning()).toBe(false);
    expect(await inFlight).toMatch(/node2 \(pid \d+\) exited/);
    await expect(held.exec(['true'])).rejects.toThrow(/killed|exited/);
    // A SIGKILL is no poweroff: the console just stops (sysrq o would log "reboot: Power down").
    expect(held.consoleLog()).not.toMatch(/Power down|System halted/);

    // The peer: node2's side of the link is silent, SYNs go unanswered.
    t = Date.now();
    expect(await probeTo('node1', 'node2', 2000)).toBeNull();
    const silentMs = Date.now() - t;
    await expect(lab!.bootNode('node1')).rejects.toThrow(/is running/);

    // Boot again: same handle, new processes, disks as the crash left them.
    t = Date.now();
    const booted = await lab!.bootNode('node2');
    const bootMs = Date.now() - t;
    expect(booted).toBe(held);
    expect(lab!.node('node2')).toBe(held);
    expect(held.boot).toBe(2);
    expect(held.pid).not.toBe(oldPid);
    expect(isOurUml(held.pid, held.umid)).toBe(true);
    expect(JSON.parse(readFileSync(join(lab!.dir, 'state.json'), 'utf8')).nodes[1]).toMatchObject({ name: 'node2', pid: held.pid, boot: 2 });
    const readBack = await held.execOk(['sh', '-c', `dd if=/dev/ubda bs=1M skip=${PATTERN_OFFSET_MIB} count=1 status=none | sha256sum`]);
    expect(readBack.stdout.split(' ')[0]).toBe(sha(pattern));
    expect(await held.readFile('/etc/hastor-crash-probe')).toBe(`${process.pid}\n`);
    expect(await held.readFile('/etc/drbd.d/crash-probe.res')).toBe(`# crash probe ${process.pid}\n`);
    expect(await held.readFile('/etc/lvm/lvm.conf')).toBe(lvmConf);
    expect((await held.exec(['test', '-e', '/root/hastor-probe'])).exitCode).toBe(0);
    expect((await held.exec(['test', '-e', '/run/hastor-probe'])).exitCode).toBe(1);
    expect((await held.exec(['test', '-e', '/tmp/hastor-probe'])).exitCode).toBe(1);
    expect((await held.execOk(['uname', '-n'])).stdout.trim()).toBe('node2');
    expect((await executor.run(['cat', '/proc/uptime'])).stdout).toMatch(/^\d+\.\d+ /);
    const uptime = Number((await held.readFile('/proc/uptime')).split(' ')[0]);
    expect(uptime).toBeLessThan(60);

    // Links both ways again (node2's listener died with it).
    await listen('node2');
    expect(await waitListening('node1', 'node2')).toBe('node2');
    expect(await probeTo('node2', 'node1')).toBe('node1');

    // Consoles: the first boot's is kept apart; neither shows a problem.
    const first = readFileSync(previousConsolePath(held.nodeDir, 1), 'utf8');
    expect(first).toContain('root disk: first boot');
    expect(held.consoleLog()).toContain('root disk: kept from the previous boot');
    expect(held.consoleLog()).toMatch(/EXT4-fs \(ubdp\): recovery complete/);
    expect(held.previousConsoleLogPaths()).toEqual([previousConsolePath(held.nodeDir, 1)]);
    expect(lab!.checkConsoles()).toEqual({ node1: [], node2: [] });
    console.log(`[lab] crash: killNode ${killMs} ms; peer's connect unanswered for its 2 s timeout (${silentMs} ms); bootNode ${(bootMs / 1000).toFixed(1)} s; uptime after boot ${uptime.toFixed(1)} s`);

    // Stop: both power off, nothing of either boot is left.
    const state = lab!.state;
    const reports = await lab!.stop();
    lab = undefined;
    expect(reports.map((r) => r.method)).toEqual(['poweroff', 'poweroff']);
    for (const node of state.nodes) {
      expect(umlProcesses(node.umid)).toEqual([]);
      expect(alive(node.pid)).toBe(false);
      for (const link of node.hostLinks) expect(await udpFree(link.src, link.srcPort)).toBe(true);
    }
    expect(alive(held.pid)).toBe(false);
    expect(existsSync(state.dir)).toBe(false);
  });
});

describe('a lab whose host process is killed', () => {
  it('dies with it (no UML process survives a crashed test run)', async () => {
    const name = `orphan-${process.pid}`;
    const script = `
      const { startLab } = await import(${JSON.stringify(new URL(`file://${distPath('harness', 'lab.js')}`).href)});
      const lab = await startLab({ nodes: 2, name: ${JSON.stringify(name)}, memMiB: 256, disksMiB: [64], log: () => {} });
      process.stdout.write(JSON.stringify(lab.state) + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!out.includes('\n') && Date.now() < deadline && child.exitCode === null) await sleep(100);
    const state = JSON.parse(out) as LabState;
    expect(state.nodes.every((n) => isOurUml(n.pid, n.umid))).toBe(true);
    child.kill('SIGKILL');
    const gone = Date.now() + 10_000;
    while (state.nodes.some((n) => umlProcesses(n.umid).length > 0) && Date.now() < gone) await sleep(100);
    try {
      expect(state.nodes.map((n) => umlProcesses(n.umid))).toEqual([[], []]);
      for (const link of state.nodes.flatMap((n) => n.hostLinks)) expect(await udpFree(link.src, link.srcPort)).toBe(true);
    } finally {
      rmSync(state.dir, { recursive: true, force: true });
    }
  });
});

afterAll(() => {
  console.log(`[lab] harness.test.ts took ${secondsSince(fileStart)}`);
});
