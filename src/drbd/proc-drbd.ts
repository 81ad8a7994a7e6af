/**
 * `/proc/drbd` → the status model.
 *
 * DRBD 8.0–8.4 list every minor: one `ResourceStatus` per configured minor
 * (`name: null`, the file does not name resources) with one device (volume
 * null) and one connection (peer node id and name null) holding one peer
 * device; `cs:Unconfigured` minors go to `unconfiguredMinors`. DRBD 9 prints
 * only the version and transports (resources empty), except for resources in
 * drbd8 compatibility mode, which it lists in the 8.4 format.
 *
 * Counters are split the way DRBD 9 reports them: disk and local counters on
 * the device, network counters (ns/nr/pe/ua) and out-of-sync on the peer
 * device. KiB counts become bytes here; `wo:` becomes drbdsetup's word
 * (none/drain/flush/barrier).
 */
import { splitLegacyConnectionState } from './states.js';
import type { DrbdStatus, DrbdVersionInfo, ParseWarning, ResourceStatus } from './status-model.js';
import {
  BLANK_RE,
  DEVICE_START_RE,
  congestedFromFlags,
  deviceFromBlock,
  fail,
  feedDeviceLine,
  newDeviceBlock,
  parseDeviceLine,
  peerDeviceFromBlock,
  requireComplete,
  splitLines,
  suspendedFromFlags,
} from './proc-drbd-lines.js';
import type { DeviceBlock, Line } from './proc-drbd-lines.js';

const SOURCE = '/proc/drbd';

/** `version: 8.4.11 (api:1/proto:86-101)`; 8.0 prints a single protocol (`proto:86`). */
const VERSION_RE = /^version: (\S+) \(api:(\d{1,9})\/proto:(\d{1,9})(?:-(\d{1,9}))?\)[ \t]*$/;
/** Out-of-tree builds: `GIT-hash: <hash> build by <who>, <when>` (or other build text). */
const GIT_HASH_RE = /^GIT-hash: ?([0-9a-fA-F]{7,64})(?:[ \t]+(.*?))?[ \t]*$/;
/** In-tree module builds (8.4 in mainline): `srcversion: <hex>`, padded with spaces. */
const SRCVERSION_RE = /^srcversion: ?([0-9A-Fa-f]{1,64})[ \t]*$/;
/** In-tree DRBD built into the kernel image. */
const BUILT_IN_RE = /^built-in[ \t]*$/;
/** DRBD 9: `Transports (api:17): tcp (9.0.32-1) rdma (9.0.32-1)`. */
const TRANSPORTS_RE = /^Transports \(api:(\d{1,9})\):(.*)$/;
const TRANSPORT_ITEM_RE = /^ ([A-Za-z0-9_-]+) \(([^()\s]*)\)/;

interface Header {
  version: DrbdVersionInfo;
  /** Index of the first line after the header. */
  next: number;
}

function parseTransports(line: Line, list: string): string[] {
  const names: string[] = [];
  let rest = list.trimEnd();
  while (rest !== '') {
    const m = TRANSPORT_ITEM_RE.exec(rest);
    if (!m) fail(SOURCE, 'malformed transport list (expected " name (version)" items)', line);
    names.push(m[1] as string);
    rest = rest.slice(m[0].length);
  }
  return names;
}

function parseHeader(lines: Line[]): Header {
  let i = 0;
  while (i < lines.length && BLANK_RE.test((lines[i] as Line).text)) i++;
  const first = lines[i];
  if (first === undefined) fail(SOURCE, 'empty input (no "version:" line)');
  const v = VERSION_RE.exec(first.text);
  if (!v) fail(SOURCE, 'expected the "version: X (api:N/proto:A-B)" line first', first);
  const protocolMin = Number(v[3]);
  const protocolMax = v[4] === undefined ? protocolMin : Number(v[4]);
  if (protocolMax < protocolMin) fail(SOURCE, 'protocol range is reversed', first);
  const version: DrbdVersionInfo = {
    version: v[1] as string,
    api: v[2] as string,
    protocolMin,
    protocolMax,
    gitHash: null,
    srcVersion: null,
    buildInfo: null,
    transports: [],
  };
  let sawBuildTag = false;
  let sawTransports = false;
  for (i++; i < lines.length; i++) {
    const line = lines[i] as Line;
    const git = GIT_HASH_RE.exec(line.text);
    const src = git ? null : SRCVERSION_RE.exec(line.text);
    const builtIn = git || src ? false : BUILT_IN_RE.test(line.text);
    if (git || src || builtIn) {
      if (sawBuildTag) fail(SOURCE, 'second build tag line', line);
      sawBuildTag = true;
      if (git) {
        version.gitHash = git[1] as string;
        const rest = git[2] ?? '';
        version.buildInfo = rest === '' ? null : rest.replace(/^build by /, '');
      } else if (src) {
        version.srcVersion = src[1] as string;
      } else {
        version.buildInfo = 'built-in';
      }
      continue;
    }
    const transports = TRANSPORTS_RE.exec(line.text);
    if (transports) {
      if (sawTransports) fail(SOURCE, 'second "Transports" line', line);
      sawTransports = true;
      version.transports = parseTransports(line, transports[2] as string);
      continue;
    }
    break;
  }
  return { version, next: i };
}

/** Leading number of `9.0.32-1`, `8.4.11`. */
function majorVersion(version: string): number {
  const m = /^(\d+)/.exec(version);
  return m ? Number(m[1]) : 0;
}

function toResource(block: DeviceBlock, congestionReported: boolean): ResourceStatus {
  const { header } = block;
  const c = requireComplete(SOURCE, block);
  const split = splitLegacyConnectionState(header.stateWord);
  if (split === null) fail(SOURCE, `unknown connection state "${header.stateWord}"`, block.headerLine);

  const device = deviceFromBlock(block, c);
  const peerDevice = peerDeviceFromBlock(block, c, split.replicationState);
  return {
    name: null,
    role: header.role,
    suspended: suspendedFromFlags(header.ioFlags),
    devices: [device],
    connections: [
      {
        peerNodeId: null,
        name: null,
        connectionState: split.connectionState,
        peerRole: header.peerRole,
        protocol: header.protocol,
        congested: congestionReported ? congestedFromFlags(header.ioFlags) : null,
        peerDevices: [peerDevice],
      },
    ],
  };
}

/**
 * Parses the whole text of /proc/drbd (DRBD 8.0–8.4 and 9). Pure; throws
 * ParseError (with line number and excerpt) on anything it does not
 * recognise: truncation, unknown state words, malformed numbers. Unknown
 * `key: value` fields after the resync progress and unknown counters are
 * kept (`sync.extra`, `counters.extra`) and listed in `warnings` instead.
 */
export function parseProcDrbd(text: string): DrbdStatus {
  const lines = splitLines(text);
  const { version, next } = parseHeader(lines);
  // DRBD 9 prints '-' where 8.x printed the congestion reason.
  const congestionReported = majorVersion(version.version) < 9;
  const resources: ResourceStatus[] = [];
  const unconfiguredMinors: number[] = [];
  const seenMinors = new Set<number>();
  const warnings: ParseWarning[] = [];
  let block: DeviceBlock | null = null;

  const finish = (): void => {
    if (block !== null) {
      resources.push(toResource(block, congestionReported));
      for (const warning of block.warnings) warnings.push(warning);
    }
    block = null;
  };

  for (let i = next; i < lines.length; i++) {
    const line = lines[i] as Line;
    if (BLANK_RE.test(line.text)) continue;
    if (DEVICE_START_RE.test(line.text)) {
      finish();
      const parsed = parseDeviceLine(SOURCE, line);
      if (seenMinors.has(parsed.minor)) fail(SOURCE, `minor ${parsed.minor} listed twice`, line);
      seenMinors.add(parsed.minor);
      if (parsed.kind === 'unconfigured') unconfiguredMinors.push(parsed.minor);
      else block = newDeviceBlock(parsed, line);
      continue;
    }
    if (block === null) {
      fail(SOURCE, i === next ? 'unexpected line after the header' : 'detail line without a configured device', line);
    }
    if (!feedDeviceLine(SOURCE, block, line)) fail(SOURCE, 'unrecognised line in a device block', line);
  }
  finish();
  return { source: 'proc', version, resources, unconfiguredMinors, ...(warnings.length === 0 ? {} : { warnings }) };
}
