/**
 * The lab harness itself, on real UML nodes: command execution, isolation
 * of each node's root, file transfer, the per-pair network of a 3-node lab,
 * and that nothing (process, UDP socket, control socket) outlives a lab,
 * not even when the process that started it is killed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleProblems, startLab, udpFree, type Lab, type LabState } from './harness/lab.js';
import { distPath, GUEST_NODE, labBaseDir, projectRoot } from './harness/paths.js';
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

  it('answers in tens of milliseconds and runs commands concurrently', async () => {
    const node = lab!.node('node2');
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await node.execOk(['true']);
      times.push(performance.now() - t);
    }
    const median = [...times].sort((a, b) => a - b)[5] as number;
    console.log(`[lab] exec round trip: median ${median.toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
    // UML's fork+exec alone costs ~40 ms; the agent adds a few.
    expect(median).toBeLessThan(300);
    const t = performance.now();
    const results = await Promise.all([1, 2, 3, 4].map(() => node.execOk(['sleep', '1'])));
    expect(results).toHaveLength(4);
    expect(performance.now() - t).toBeLessThan(3000);
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
