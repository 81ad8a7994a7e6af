/**
 * A node whose Pacemaker is a CIB in memory: `cibadmin -Q` prints it,
 * `cibadmin --patch --xml-pipe` applies a v2 patchset the way Pacemaker 2.1
 * does (the source version must be the CIB's, else exit 103 and nothing
 * changes; deletions first, creations by position; epoch + 1 on success),
 * crm_mon and crm_verify answer what the test sets. Records every call.
 */
import { CommandError } from '../../../src/errors.js';
import { childNamed, elementXml, parseXml, type XmlElement } from '../../../src/pacemaker/xml.js';
import type { ExecOptions, Executor } from '../../../src/sys/executor.js';
import type { RunResult } from '../../../src/sys/local-exec.js';
import { fixture } from './fixtures.js';

export interface Mutable {
  name: string;
  attributes: Record<string, string>;
  children: Mutable[];
  text: string;
}

const mutable = (e: XmlElement): Mutable => ({ name: e.name, attributes: { ...e.attributes }, children: e.children.map(mutable), text: e.text });

/** crm_mon of a settled two-node cluster: a DC with quorum, both online, nothing pending. */
export function crmMonSettled(extra: { resources?: string; failures?: string; dc?: boolean } = {}): string {
  const node = (n: number) =>
    `<node name="node${n}" id="${n}" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="3.16.1" shutdown="false" expected_up="true" is_dc="${n === 1}" resources_running="0" type="member"/>`;
  return `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <summary>
    <stack type="corosync"/>
    ${extra.dc === false ? '<current_dc present="false"/>' : '<current_dc present="true" version="2.1.5" name="node1" id="1" with_quorum="true" mixed_version="false"/>'}
    <last_update time="Mon Dec  7 15:38:01 2026"/>
    <last_change time="" user="" client="" origin=""/>
    <nodes_configured number="2"/>
    <resources_configured number="0" disabled="0" blocked="0"/>
    <cluster_options stonith-enabled="true" symmetric-cluster="true" no-quorum-policy="stop" maintenance-mode="false" stop-all-resources="false" stonith-timeout-ms="60000" priority-fencing-delay-ms="0"/>
  </summary>
  <nodes>${node(1)}${node(2)}</nodes>
  <resources>${extra.resources ?? ''}</resources>
  ${extra.failures === undefined ? '' : `<failures>${extra.failures}</failures>`}
  <status code="0" message="OK"/>
</pacemaker-result>
`;
}

/** The CIB of `cibadmin --empty` with the two nodes Pacemaker adds when they join. */
export const EMPTY_CIB = fixture('cib-empty.xml').replace('<nodes/>', '<nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>');

export interface Call {
  argv: string[];
  root: boolean;
  input?: string;
  env?: Record<string, string>;
}

const OLD = { stdout: '', stderr: 'Call failed: Update was older than existing configuration\n', exitCode: 103 };

/** A new nvpair element. */
export const nvpair = (id: string, name: string, value: string): Mutable => ({ name: 'nvpair', attributes: { id, name, value }, children: [], text: '' });

/** The element at a patch path (`/cib/configuration/resources/clone[@id='c']`). */
export function find(root: Mutable, path: string): Mutable | undefined {
  const steps = path.split('/').filter((s) => s !== '');
  let here: Mutable | undefined = root.name === steps[0] ? root : undefined;
  for (const step of steps.slice(1)) {
    const m = /^([\w-]+)(?:\[@id='([^']+)'\])?$/.exec(step);
    if (here === undefined || m === null) return undefined;
    here = here.children.find((c) => c.name === m[1] && (m[2] === undefined || c.attributes.id === m[2]));
  }
  return here;
}

export class FakeCib implements Executor {
  readonly calls: Call[] = [];
  crmMon = crmMonSettled();
  verify: RunResult = { stdout: '', stderr: '', exitCode: 0 };
  /** Runs when a patch arrives, before it is applied (a concurrent change). */
  beforePatch: (() => void) | null = null;
  private root: Mutable;

  constructor(
    cib: string = EMPTY_CIB,
    readonly node = 'node1',
  ) {
    this.root = mutable(parseXml(cib, 'test CIB'));
  }

  get text(): string {
    return `${elementXml(this.root)}\n`;
  }

  set text(cib: string) {
    this.root = mutable(parseXml(cib, 'test CIB'));
  }

  get configuration(): XmlElement {
    return childNamed(this.root, 'configuration') as XmlElement;
  }

  /** Edits the CIB as Pacemaker would for another client's write (config changes bump the epoch). */
  edit(change: (cib: Mutable) => void, bump: 'epoch' | 'num_updates' = 'epoch'): void {
    change(this.root);
    if (bump === 'epoch') this.root.attributes = { ...this.root.attributes, epoch: String(Number(this.root.attributes.epoch) + 1), num_updates: '0' };
    else this.root.attributes = { ...this.root.attributes, num_updates: String(Number(this.root.attributes.num_updates ?? 0) + 1) };
  }

  /** Adds `xml` to a configuration section as another tool would. */
  add(section: string, xml: string): void {
    this.edit((cib) => find(cib, `/cib/configuration/${section}`)!.children.push(mutable(parseXml(xml, 'test element'))));
  }

  get commands(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }

  get patches(): string[] {
    return this.calls.filter((c) => c.argv[1] === '--patch').map((c) => c.input ?? '');
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<RunResult> {
    this.calls.push({ argv: [...argv], root: options.root ?? false, ...(options.input === undefined ? {} : { input: options.input }), ...(options.env === undefined ? {} : { env: options.env }) });
    const command = argv.join(' ');
    let reply: RunResult;
    if (command === 'crm_mon -1 --output-as=xml') reply = { stdout: this.crmMon, stderr: '', exitCode: 0 };
    else if (command === 'cibadmin -Q') reply = { stdout: this.text, stderr: '', exitCode: 0 };
    else if (command === 'cibadmin --patch --xml-pipe') {
      this.beforePatch?.();
      reply = this.patch(options.input ?? '');
    } else if (command === 'crm_verify --live-check -V') reply = this.verify;
    else throw new Error(`${this.node}: unscripted command: ${command}`);
    if (!(options.okExitCodes ?? [0]).includes(reply.exitCode)) {
      throw new CommandError(`${this.node}: ${command}: exited with ${reply.exitCode}: ${reply.stderr.trim()}`, { argv, exitCode: reply.exitCode, stderr: reply.stderr, node: this.node });
    }
    return reply;
  }

  private patch(input: string): RunResult {
    const diff = parseXml(input, 'patch');
    const source = childNamed(childNamed(diff, 'version') as XmlElement, 'source') as XmlElement;
    for (const a of ['admin_epoch', 'epoch', 'num_updates']) if ((this.root.attributes[a] ?? '0') !== source.attributes[a]) return OLD;
    const copy = mutable(this.root);
    const creates: { parent: Mutable; position: number; element: Mutable }[] = [];
    for (const change of diff.children.filter((c) => c.name === 'change')) {
      const path = change.attributes.path as string;
      const target = find(copy, path);
      if (change.attributes.operation === 'delete') {
        if (target === undefined) continue;
        const parent = find(copy, path.slice(0, path.lastIndexOf('/'))) as Mutable;
        parent.children = parent.children.filter((c) => c !== target);
      } else if (change.attributes.operation === 'create') {
        if (target === undefined) return { stdout: '', stderr: `no ${path}`, exitCode: 1 };
        creates.push({ parent: target, position: Number(change.attributes.position), element: mutable(change.children[0] as XmlElement) });
      } else return { stdout: '', stderr: `unsupported ${change.attributes.operation}`, exitCode: 1 };
    }
    for (const c of creates.sort((a, b) => a.position - b.position)) c.parent.children.splice(Math.min(c.position, c.parent.children.length), 0, c.element);
    copy.attributes = { ...copy.attributes, epoch: String(Number(copy.attributes.epoch) + 1), num_updates: '0' };
    this.root = copy;
    return { stdout: '', stderr: '', exitCode: 0 };
  }

  async readFile(): Promise<string> {
    throw new Error('not used');
  }

  async writeFile(): Promise<void> {
    throw new Error('not used');
  }
}
