/**
 * The lab by hand (`npm run lab -- <command>`):
 *   up [--nodes 2|3]            boot the nodes, create r0 and start its initial sync, leave it running
 *   status [hastor args…]       run `hastor status` inside node1 (default args: none)
 *   exec <node> -- <argv…>      run a command in a node, print its output, exit with its code
 *   down                        stop the nodes (sysrq poweroff, then the recorded pids)
 * The running lab's state is <lab base>/cli/state.json, so each command is a new process.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connected, createLv, createVg, defineResource, loadModules, resource, waitForProc } from './drbd-scenario.js';
import { attachLab, startLab, type Lab } from './harness/lab.js';
import { distPath, GUEST_NODE, labBaseDir, projectRoot } from './harness/paths.js';

const LAB_DIR = (): string => join(labBaseDir(), 'cli');
const USAGE = `usage: npm run lab -- up [--nodes 2|3] | status [hastor status args…] | exec <node> -- <argv…> | down`;

function runningLab(): Lab {
  if (!existsSync(join(LAB_DIR(), 'state.json'))) throw new Error(`no lab running (nothing in ${LAB_DIR()}); start one with \`npm run lab -- up\``);
  const lab = attachLab(LAB_DIR());
  if (!lab.nodes.some((n) => n.isRunning())) throw new Error(`the lab in ${LAB_DIR()} is not running any more; \`npm run lab -- down\` cleans it up`);
  return lab;
}

async function up(args: string[]): Promise<number> {
  const nodes = args.includes('--nodes') ? Number(args[args.indexOf('--nodes') + 1]) : 2;
  if (nodes !== 2 && nodes !== 3) throw new Error('--nodes must be 2 or 3');
  if (existsSync(join(LAB_DIR(), 'state.json'))) {
    const old = attachLab(LAB_DIR());
    if (old.nodes.some((n) => n.isRunning())) {
      console.log(`a lab is already running in ${LAB_DIR()}; \`npm run lab -- down\` first`);
      return 1;
    }
    await old.stop({ ignoreConsole: true });
    rmSync(LAB_DIR(), { recursive: true, force: true });
  }
  const started = Date.now();
  const lab = await startLab({ nodes, name: 'cli', persistent: true });
  try {
    const [node1, node2] = lab.nodes;
    if (!node1 || !node2) throw new Error('lab: fewer than two nodes');
    await loadModules(lab.nodes);
    // r0 between node1 and node2, on DRBD's default resync controller so the sync lasts a while.
    const r0 = resource('r0', 0, 512);
    await Promise.all([node1, node2].map(async (n) => { await createVg(n); await createLv(n, r0); }));
    await defineResource([node1, node2], r0);
    await Promise.all([node1, node2].map((n) => waitForProc(n, 0, connected, 'Connected')));
    await node1.execOk(['drbdadm', 'primary', '--force', 'r0']);
    console.log((await node1.execOk(['cat', '/proc/drbd'])).stdout);
  } catch (error) {
    await lab.stop({ keep: true, ignoreConsole: true });
    throw error;
  }
  console.log(`lab up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lab.nodes.map((n) => `${n.name} (${n.address}, pid ${n.pid})`).join(', ')}
r0: /dev/drbd0 on vg_lab/r0_disk (512 MiB), node1 Primary, initial sync running.

  npm run lab -- status                       hastor status inside node1 (add --json, --source proc|events2|netlink)
  npm run lab -- exec node1 -- cat /proc/drbd  any command (argv, no host shell)
  npm run lab -- exec node2 -- sh -c 'drbdadm status; lvs'
  npm run lab -- down                         stop it

state: ${join(LAB_DIR(), 'state.json')}; consoles: ${lab.nodes.map((n) => n.consoleLogPath).join(', ')}`);
  return 0;
}

async function status(args: string[]): Promise<number> {
  const node = runningLab().node('node1');
  const cli = join(projectRoot(), 'bin', 'hastor.js');
  const argv = existsSync(cli) ? [GUEST_NODE, cli, 'status', ...args] : [GUEST_NODE, distPath('guest', 'status.js'), ...args];
  const result = await node.exec(argv, { timeoutMs: 60_000 });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.exitCode ?? 1;
}

async function exec(args: string[]): Promise<number> {
  const [name, dashes, ...argv] = args;
  if (!name || dashes !== '--' || argv.length === 0) throw new Error(`usage: npm run lab -- exec <node> -- <argv…>`);
  const result = await runningLab().node(name).exec(argv, { timeoutMs: 10 * 60_000 });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.timedOut) process.stderr.write('lab: timed out\n');
  return result.exitCode ?? 1;
}

async function down(): Promise<number> {
  if (!existsSync(join(LAB_DIR(), 'state.json'))) {
    console.log('no lab running');
    return 0;
  }
  const lab = attachLab(LAB_DIR());
  const reports = await lab.stop({ ignoreConsole: true });
  // Kept logs (console problems) stay for reading; the lab itself is gone.
  rmSync(join(LAB_DIR(), 'state.json'), { force: true });
  for (const r of reports) {
    console.log(`${r.name}: ${r.method}${r.consoleProblems.length > 0 ? `; console problems:\n  ${r.consoleProblems.join('\n  ')}` : ''}`);
  }
  return reports.some((r) => r.consoleProblems.length > 0) ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up(rest);
    case 'status':
      return status(rest);
    case 'exec':
      return exec(rest);
    case 'down':
      return down();
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
