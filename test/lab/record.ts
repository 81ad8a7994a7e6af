/**
 * Lab recorder (`npm run lab:record`): boots two nodes, walks DRBD through
 * its states and saves the verbatim output of each into
 * test/fixtures/lab-<drbd version>/, with a README naming every file and the
 * kernel, DRBD, drbd-utils and lvm2 versions. Parser tests read these.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connected,
  createLv,
  createVg,
  defineResource,
  loadModules,
  procWords,
  resource,
  secondsSince,
  upToDateBoth,
  waitForProc,
  waitingForPeer,
} from './drbd-scenario.js';
import { startLab } from './harness/lab.js';
import type { ExecResult, LabNode } from './harness/lab-node.js';
import { GUEST_NODE, projectRoot } from './harness/paths.js';

interface FileNote {
  name: string;
  what: string;
}

const started = Date.now();
const log = (line: string) => console.log(`[record +${secondsSince(started)}] ${line}`);

async function main(): Promise<void> {
  const lab = await startLab({ nodes: 2, name: `record-${process.pid}` });
  const [node1, node2] = lab.nodes as [LabNode, LabNode];
  const files = new Map<string, string>();
  const notes: FileNote[] = [];
  const save = (name: string, content: string, what: string) => {
    files.set(name, content);
    notes.push({ name, what });
  };
  /** Output as printed, plus `# rc=N` when the command failed (the failure is the fact recorded). */
  const verbatim = (r: ExecResult) => `${r.stdout}${r.stderr}${r.exitCode === 0 ? '' : `# rc=${r.exitCode}\n`}`;
  const proc = async (node: LabNode) => (await node.execOk(['cat', '/proc/drbd'])).stdout;

  try {
    await loadModules(lab.nodes);
    // Versions for the README.
    const versions = {
      kernel: (await node1.execOk(['uname', '-r'])).stdout.trim(),
      drbd: ((await proc(node1)).match(/^version: (\S+)/) ?? [])[1] ?? '?',
      procHeader: (await proc(node1)).split('\n').slice(0, 2).join('\n'),
      drbdadm: (await node1.execOk(['drbdadm', '--version'])).stdout,
      lvm: (await node1.execOk(['lvm', 'version'])).stdout,
      node: (await node1.execOk([GUEST_NODE, '--version'])).stdout.trim(),
    };
    const drbdUtils = (versions.drbdadm.match(/DRBDADM_VERSION=(\S+)/) ?? [])[1] ?? '?';
    const lvm2 = (versions.lvm.match(/LVM version:\s+(\S+)/) ?? [])[1] ?? '?';
    save('drbdadm-version.txt', versions.drbdadm, '`drbdadm --version` on node1');
    save('lvm-version.txt', versions.lvm, '`lvm version` on node1');

    // Tier 1 and LVM reports.
    const r0 = resource('r0', 0, 256, '40M');
    await Promise.all(lab.nodes.map(async (n) => { await createVg(n); await createLv(n, r0); }));
    for (const format of ['json_std', 'json'] as const) {
      for (const report of ['pvs', 'vgs', 'lvs'] as const) {
        const r = await node1.exec([report, '--reportformat', format, '--units', 'b', '--nosuffix']);
        save(`${report}-${format.replace('_', '-')}.txt`, verbatim(r), `\`${report} --reportformat ${format} --units b --nosuffix\` on node1${r.exitCode === 0 ? '' : ' (refused by this lvm2: rc and message recorded)'}`);
      }
    }
    const full = await node1.execOk(['lvs', '-a', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'lv_all,vg_name']);
    save('lvs-json-all-fields.txt', full.stdout, '`lvs -a --reportformat json --units b --nosuffix -o lv_all,vg_name` on node1');

    // DRBD: create-md, up, connected.
    const res = await defineResource(lab.nodes, r0);
    save('r0.res', res, 'the resource file both nodes used (/etc/drbd.d/r0.res)');
    await Promise.all(lab.nodes.map((n) => waitForProc(n, 0, connected, 'Connected')));
    save('proc-drbd-connected-inconsistent.txt', await proc(node1), '/proc/drbd on node1: connected, both Inconsistent, before the initial sync');
    save('events2-now-statistics-inconsistent.txt', verbatim(await node1.exec(['drbdsetup', 'events2', '--now', '--statistics', 'all'])), '`drbdsetup events2 --now --statistics all` on node1, same state');
    save('status-verbose-statistics-inconsistent.txt', verbatim(await node1.exec(['drbdsetup', 'status', '--verbose', '--statistics', 'all'])), '`drbdsetup status --verbose --statistics all` on node1, same state');
    save('status-json.txt', verbatim(await node1.exec(['drbdsetup', 'status', '--json', 'all'])), '`drbdsetup status --json all` on node1 (not supported against the 8.4 module)');
    save('drbdsetup-show.txt', verbatim(await node1.exec(['drbdsetup', 'show', 'r0'])), '`drbdsetup show r0` on node1');

    // Initial sync: event streams and netlink events running from before it starts.
    const streams: [LabNode, string][] = [];
    for (const n of lab.nodes) {
      const out = join(n.nodeDir, 'events2-stream.txt');
      const pid = await n.spawnBackground(['drbdsetup', 'events2', '--timestamps', '--statistics', 'all'], { stdoutPath: out });
      streams.push([n, String(pid)]);
    }
    const netlinkReady = join(node1.nodeDir, 'netlink.ready');
    const netlinkCapture = node1
      .execOk([GUEST_NODE, join(projectRoot(), 'dist/test/lab/guest/netlink-capture.js'), '--events-ms', '30000', '--ready-file', netlinkReady], { timeoutMs: 90_000 })
      .then((r) => r.stdout, (e: Error) => `ERROR ${e.message}`);
    for (let i = 0; i < 300 && !readdirSync(node1.nodeDir).includes('netlink.ready'); i++) await sleep(50);
    await sleep(500);
    const samples: Record<string, string[]> = { node1: [], node2: [] };
    const syncStart = Date.now();
    await node1.execOk(['drbdadm', 'primary', '--force', 'r0']);
    let netlinkDuringSync = '';
    let statusDuringSync = '';
    let events2NowDuringSync = '';
    for (;;) {
      const [p1, p2] = await Promise.all([proc(node1), proc(node2)]);
      const t = ((Date.now() - syncStart) / 1000).toFixed(3);
      samples['node1']?.push(`=== t+${t}s\n${p1}`);
      samples['node2']?.push(`=== t+${t}s\n${p2}`);
      const w = procWords(p1, 0);
      if (w?.cs === 'SyncSource' && statusDuringSync === '' && Date.now() - syncStart > 2000) {
        save('proc-drbd-syncsource.txt', p1, '/proc/drbd on node1 during the initial sync (SyncSource)');
        save('proc-drbd-synctarget.txt', p2, '/proc/drbd on node2 at the same moment (SyncTarget)');
        statusDuringSync = verbatim(await node1.exec(['drbdsetup', 'status', '--verbose', '--statistics', 'all']));
        events2NowDuringSync = verbatim(await node1.exec(['drbdsetup', 'events2', '--now', '--statistics', 'all']));
        netlinkDuringSync = (await node1.exec([GUEST_NODE, join(projectRoot(), 'dist/test/lab/guest/netlink-capture.js')])).stdout;
      }
      if (w && upToDateBoth(w)) break;
      if (Date.now() - syncStart > 180_000) throw new Error('initial sync did not finish in 180 s');
      await sleep(400);
    }
    log(`initial sync done in ${secondsSince(syncStart)}`);
    save('proc-drbd-initial-sync-samples-node1.txt', `${samples['node1']?.join('')}`, '/proc/drbd on node1 sampled every ~0.5 s through the initial sync (resync-rate 40M); each snapshot headed by "=== t+<seconds>s"');
    save('proc-drbd-initial-sync-samples-node2.txt', `${samples['node2']?.join('')}`, 'the same on node2 (SyncTarget)');
    save('status-verbose-statistics-syncsource.txt', statusDuringSync, '`drbdsetup status --verbose --statistics all` on node1 during the sync');
    save('events2-now-statistics-syncsource.txt', events2NowDuringSync, '`drbdsetup events2 --now --statistics all` on node1 during the sync');
    save('netlink-get-status-syncsource.json', netlinkDuringSync, 'netlink, node1 during the sync: resolved `drbd` family, GET_STATUS dump request and reply messages as wire bytes (hex), via hastor\'s socket');

    await sleep(1000);
    save('proc-drbd-connected-primary-secondary.txt', await proc(node1), '/proc/drbd on node1 after the sync: Primary/Secondary UpToDate/UpToDate');
    save('proc-drbd-connected-secondary-primary.txt', await proc(node2), '/proc/drbd on node2 after the sync');
    save('events2-now-statistics-uptodate.txt', verbatim(await node1.exec(['drbdsetup', 'events2', '--now', '--statistics', 'all'])), '`drbdsetup events2 --now --statistics all` on node1 after the sync');
    save('events2-now-uptodate.txt', verbatim(await node1.exec(['drbdsetup', 'events2', '--now', 'all'])), '`drbdsetup events2 --now all` on node1 after the sync');
    save('status-verbose-statistics-uptodate.txt', verbatim(await node1.exec(['drbdsetup', 'status', '--verbose', '--statistics', 'all'])), '`drbdsetup status --verbose --statistics all` on node1 after the sync');
    save('status-uptodate.txt', verbatim(await node1.exec(['drbdsetup', 'status', 'all'])), '`drbdsetup status all` on node1 after the sync');
    save('drbdadm-status-uptodate.txt', verbatim(await node1.exec(['drbdadm', 'status', 'r0'])), '`drbdadm status r0` on node1 after the sync');

    // Network cut and reconnection.
    const cut = Date.now();
    await node1.linkDown('node2');
    await Promise.all([node1, node2].map((n) => waitForProc(n, 0, waitingForPeer, 'WFConnection')));
    log(`cut noticed in ${secondsSince(cut)}`);
    save('proc-drbd-cut-node1.txt', await proc(node1), '/proc/drbd on node1 (Primary) after its lab link went down: WFConnection');
    save('proc-drbd-cut-node2.txt', await proc(node2), '/proc/drbd on node2 (Secondary) after the cut');
    save('events2-now-statistics-cut.txt', verbatim(await node1.exec(['drbdsetup', 'events2', '--now', '--statistics', 'all'])), '`drbdsetup events2 --now --statistics all` on node1 during the cut');
    save('status-verbose-statistics-cut.txt', verbatim(await node1.exec(['drbdsetup', 'status', '--verbose', '--statistics', 'all'])), '`drbdsetup status --verbose --statistics all` on node1 during the cut');
    save('netlink-get-status-cut.json', (await node1.exec([GUEST_NODE, join(projectRoot(), 'dist/test/lab/guest/netlink-capture.js')])).stdout, 'netlink GET_STATUS dump on node1 during the cut (hex)');
    // A write while disconnected leaves out-of-sync blocks to resync on reconnect.
    await node1.execOk(['dd', 'if=/dev/urandom', 'of=/dev/drbd0', 'bs=1M', 'count=4', 'oflag=direct', 'status=none']);
    save('proc-drbd-cut-after-write-node1.txt', await proc(node1), '/proc/drbd on node1 after writing 4 MiB while disconnected (oos > 0)');
    await node1.linkUp('node2');
    await Promise.all([node1, node2].map((n) => waitForProc(n, 0, upToDateBoth, 'UpToDate/UpToDate')));
    save('proc-drbd-reconnected.txt', await proc(node1), '/proc/drbd on node1 after the link came back and the resync ended');

    const netlinkEvents = await netlinkCapture;
    save('netlink-events-sync-and-cut.json', netlinkEvents, 'netlink on node1: GET_STATUS dump before the sync, then every `events` multicast datagram for 30 s (initial sync start and progress, cut, …) verbatim as hex with ms offsets');

    // Peer stopped.
    await node2.stop();
    await waitForProc(node1, 0, waitingForPeer, 'WFConnection');
    save('proc-drbd-peer-stopped.txt', await proc(node1), '/proc/drbd on node1 after node2 was powered off (sysrq o)');
    save('events2-now-statistics-peer-stopped.txt', verbatim(await node1.exec(['drbdsetup', 'events2', '--now', '--statistics', 'all'])), '`drbdsetup events2 --now --statistics all` on node1 after node2 was powered off');

    for (const [n, pid] of streams) {
      if (n.isRunning()) await n.exec(['kill', pid]);
      save(`events2-stream-${n.name}.txt`, readFileSync(join(n.nodeDir, 'events2-stream.txt'), 'utf8'), `\`drbdsetup events2 --timestamps --statistics all\` on ${n.name}, running from before the initial sync through the cut and reconnection${n === node2 ? ' until node2 powered off' : ' and node2 powering off'}`);
    }
    const dmesg = node1.consoleLog().split('\n').filter((l) => /drbd/.test(l)).join('\n');
    save('dmesg-drbd-node1.txt', `${dmesg}\n`, 'kernel messages of node1 mentioning drbd (from the UML console), whole run');

    // Write out.
    const dir = join(projectRoot(), 'test', 'fixtures', `lab-${versions.drbd}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, content] of files) writeFileSync(join(dir, name), content);
    const readme = [
      `# Lab captures: DRBD ${versions.drbd} in User-Mode Linux`,
      '',
      `Recorded by \`npm run lab:record\` (test/lab/record.ts) on ${new Date().toISOString().slice(0, 10)} in the project's`,
      'two-node UML lab (test/lab/): every file is verbatim output, nothing edited.',
      '',
      `- kernel: ${versions.kernel} (Debian user-mode-linux), in-tree DRBD ${versions.drbd}`,
      `- /proc/drbd header: \`${versions.procHeader.replace(/\n/g, ' / ').trim()}\``,
      `- drbd-utils: ${drbdUtils}`,
      `- lvm2: ${lvm2}`,
      `- node (netlink captures through hastor's addon): ${versions.node}`,
      '',
      'Setup: two nodes (node1 10.99.0.1, node2 10.99.0.2), VG vg_lab on /dev/ubda, LV r0_disk (256 MiB)',
      'backing r0 (/dev/drbd0, protocol C, resync-rate 40M, see r0.res). Where a command failed its',
      'stderr is included and the file ends with `# rc=N`.',
      '',
      '| file | what |',
      '| --- | --- |',
      ...notes.map((n) => `| ${n.name} | ${n.what} |`),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'README.md'), readme);
    log(`wrote ${files.size} files to ${dir}`);
  } finally {
    await lab.stop();
  }
  log('done');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
