/**
 * Lab building blocks with raw commands (drbdadm, lvm): backing VG/LV on
 * each node's ubd disk, an 8.4-syntax resource, waits on /proc/drbd. Shared
 * by the lab tests, the recorder and the lab CLI. What hastor itself reads is
 * observed through the guest scripts, not here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabNode } from './harness/lab-node.js';

export interface ResourceSpec {
  name: string;
  minor: number;
  port: number;
  vg: string;
  lv: string;
  sizeMiB: number;
  /** Fixed-rate resync (`c-plan-ahead 0; resync-rate …`) instead of the default dynamic controller. */
  fixedResyncRate?: string;
}

export const DEFAULT_VG = 'vg_lab';

export function resource(name: string, minor: number, sizeMiB: number, fixedResyncRate?: string): ResourceSpec {
  return { name, minor, port: 7789 + minor, vg: DEFAULT_VG, lv: `${name}_disk`, sizeMiB, ...(fixedResyncRate ? { fixedResyncRate } : {}) };
}

/**
 * DRBD 8.4 `.res`: protocol C, one `on <uname -n>` section per node with its
 * 10.99.0.N address. Short ping/connect intervals so the lab notices cuts
 * and reconnects in seconds instead of DRBD's default 10 s.
 */
export function renderRes84(spec: ResourceSpec, nodes: readonly LabNode[]): string {
  const disk = spec.fixedResyncRate ? `  disk {\n    c-plan-ahead 0;\n    resync-rate ${spec.fixedResyncRate};\n  }\n` : '';
  const hosts = nodes
    .map(
      (n) =>
        `  on ${n.name} {\n    device /dev/drbd${spec.minor};\n    disk /dev/${spec.vg}/${spec.lv};\n    address ${n.address}:${spec.port};\n    meta-disk internal;\n  }\n`,
    )
    .join('');
  return `resource ${spec.name} {\n  net {\n    protocol C;\n    ping-int 3;\n    ping-timeout 10;\n    connect-int 3;\n    timeout 20;\n  }\n${disk}${hosts}}\n`;
}

export async function loadModules(nodes: readonly LabNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.execOk(['modprobe', '-a', 'dm-mod', 'drbd'])));
}

/** PV + VG on the node's first ubd disk. */
export async function createVg(node: LabNode, vg = DEFAULT_VG, pv = '/dev/ubda'): Promise<void> {
  await node.execOk(['pvcreate', '-y', pv]);
  await node.execOk(['vgcreate', '-y', vg, pv]);
}

export async function createLv(node: LabNode, spec: ResourceSpec): Promise<void> {
  await node.execOk(['lvcreate', '-y', '-L', `${spec.sizeMiB}m`, '-n', spec.lv, spec.vg]);
}

/** Writes the .res on every node, then create-md and up; does not wait for the connection. */
export async function defineResource(nodes: readonly LabNode[], spec: ResourceSpec): Promise<string> {
  const text = renderRes84(spec, nodes);
  await Promise.all(
    nodes.map(async (n) => {
      await n.writeFile(`/etc/drbd.d/${spec.name}.res`, text);
      await n.execOk(['drbdadm', 'create-md', '--force', spec.name]);
      await n.execOk(['drbdadm', 'up', spec.name]);
    }),
  );
  return text;
}

/** The /proc/drbd line block of one minor (8.4 layout: " 0: cs:… ro:… ds:…"). */
export function procDeviceBlock(text: string, minor: number): string | null {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^\\s*${minor}: `).test(l));
  if (start < 0) return null;
  const block = [lines[start] as string];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*\d+: /.test(line)) break;
    block.push(line);
  }
  return block.join('\n');
}

export interface ProcWord {
  cs: string;
  ro: string;
  ds: string;
}

export function procWords(text: string, minor: number): ProcWord | null {
  const block = procDeviceBlock(text, minor);
  const m = block?.match(/cs:(\S+) ro:(\S+) ds:(\S+)/);
  return m ? { cs: m[1] as string, ro: m[2] as string, ds: m[3] as string } : null;
}

/** Polls the raw /proc/drbd of a node until the test passes; returns the last text. */
export async function waitForProc(
  node: LabNode,
  minor: number,
  test: (words: ProcWord) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await node.execOk(['cat', '/proc/drbd'])).stdout;
    const words = procWords(last, minor);
    if (words && test(words)) return last;
    await sleep(250);
  }
  throw new Error(`lab: ${node.name} minor ${minor} never reached ${what} within ${timeoutMs} ms; last /proc/drbd:\n${last}`);
}

export const connected = (w: ProcWord): boolean => w.cs === 'Connected';
export const upToDateBoth = (w: ProcWord): boolean => w.cs === 'Connected' && w.ds === 'UpToDate/UpToDate';
export const waitingForPeer = (w: ProcWord): boolean => w.cs === 'WFConnection';

/** Milliseconds since `since`, as seconds with one decimal, for log lines. */
export const secondsSince = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;
