import { describe, expect, it } from 'vitest';
import { buildGuestsOnSharedLvm, buildServiceOnDrbd } from '../../../src/pacemaker/generate/build.js';
import { CIB_VALIDATE_WITH, renderCib } from '../../../src/pacemaker/generate/render-cib.js';
import { crmQuote, renderCrmScript } from '../../../src/pacemaker/generate/render-crm.js';
import { renderPcsCommands, renderPcsScript } from '../../../src/pacemaker/generate/render-pcs.js';
import { xmlEscape } from '../../../src/pacemaker/generate/xml-escape.js';
import { GUESTS, SERVICE } from './generate-inputs.js';

/** Tags balance and attributes are quoted: a minimal well-formedness check (no XML parser in the dependencies). */
function elements(xml: string): { name: string; attrs: Record<string, string> }[] {
  const out: { name: string; attrs: Record<string, string> }[] = [];
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
    expect(xml.slice(last, m.index).trim(), `text between tags at ${m.index}`).toBe('');
    last = re.lastIndex;
    const [, close, name, attrText, selfClose] = m as unknown as [string, string, string, string, string];
    if (close) {
      expect(stack.pop()).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:.-]+)="([^"]*)"/g)) attrs[a[1] as string] = a[2] as string;
    out.push({ name, attrs });
    if (!selfClose) stack.push(name);
  }
  expect(xml.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  return out;
}

describe('renderCib', () => {
  it('topology A: a well-formed CIB with the clone, group, constraints and properties', () => {
    const xml = renderCib(buildServiceOnDrbd(SERVICE));
    const els = elements(xml);
    expect(els[0]).toEqual({ name: 'cib', attrs: { 'validate-with': CIB_VALIDATE_WITH, admin_epoch: '0', epoch: '1', num_updates: '0' } });
    expect(CIB_VALIDATE_WITH).toBe('pacemaker-3.9');
    expect(els.filter((e) => e.name === 'primitive').map((e) => `${e.attrs.id} ${e.attrs.class}:${e.attrs.provider ?? ''}:${e.attrs.type}`)).toEqual([
      'fence-node1 stonith::fence_virsh',
      'fence-node2 stonith::fence_virsh',
      'drbd-r0 ocf:linbit:drbd',
      'fs-r0 ocf:heartbeat:Filesystem',
      'ip-db ocf:heartbeat:IPaddr2',
      'db ocf:heartbeat:mysql',
    ]);
    expect(xml).toContain('<clone id="drbd-r0-clone">');
    expect(xml).toMatch(/<clone id="drbd-r0-clone">\n\s+<meta_attributes id="drbd-r0-clone-meta_attributes">[\s\S]*<primitive id="drbd-r0"[\s\S]*<\/clone>/);
    expect(xml).toMatch(/<group id="g-db">\n\s+<primitive id="fs-r0"[\s\S]*<primitive id="ip-db"[\s\S]*<primitive id="db"[\s\S]*<\/group>/);
    expect(xml).toContain('<nvpair id="drbd-r0-clone-meta_attributes-promoted-max" name="promoted-max" value="1"/>');
    expect(xml).toContain('<op id="drbd-r0-monitor-interval-10s" name="monitor" interval="10s" timeout="20s" role="Promoted"/>');
    expect(xml).toContain('<nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="true"/>');
    expect(xml).toContain('<nvpair id="cib-bootstrap-options-priority-fencing-delay" name="priority-fencing-delay" value="10s"/>');
    expect(xml).toContain(
      '<rsc_colocation id="col-g-db-with-drbd-r0-clone-promoted" rsc="g-db" with-rsc="drbd-r0-clone" with-rsc-role="Promoted" score="INFINITY"/>',
    );
    expect(xml).toContain(
      '<rsc_order id="order-drbd-r0-clone-promote-then-g-db" first="drbd-r0-clone" first-action="promote" then="g-db" then-action="start" kind="Mandatory"/>',
    );
    expect(xml).toContain('<nodes/>');
    const ids = els.map((e) => e.attrs.id).filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('topology B: four clones, the guest on its own, seven constraints', () => {
    const els = elements(renderCib(buildGuestsOnSharedLvm(GUESTS)));
    expect(els.filter((e) => e.name === 'clone').map((e) => e.attrs.id)).toEqual(['dlm-clone', 'lvmlockd-clone', 'drbd-r0-clone', 'lvm-vg_shared-clone']);
    expect(els.filter((e) => e.name === 'rsc_order')).toHaveLength(4);
    expect(els.filter((e) => e.name === 'rsc_colocation')).toHaveLength(4);
    expect(els.find((e) => e.attrs.id === 'vm1-meta_attributes-allow-migrate')?.attrs.value).toBe('true');
  });

  it('escapes what it writes into attributes', () => {
    expect(xmlEscape(`a&b<c>"d"'e'`)).toBe('a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;');
    const config = buildServiceOnDrbd({ ...SERVICE, service: { id: 'db', agent: 'ocf:heartbeat:mysql', params: { additional_parameters: `--x="<y & 'z'>"` } } });
    const xml = renderCib(config);
    elements(xml);
    expect(xml).toContain('value="--x=&quot;&lt;y &amp; &apos;z&apos;&gt;&quot;"');
  });

  it('the same spec gives the same document', () => {
    expect(renderCib(buildServiceOnDrbd(SERVICE))).toBe(renderCib(buildServiceOnDrbd(SERVICE)));
  });
});

describe('renderCrmScript', () => {
  it('topology A as crm configure statements, then commit', () => {
    const script = renderCrmScript(buildServiceOnDrbd(SERVICE));
    const statements = script.replace(/ \\\n\s+/g, ' ').trim().split('\n');
    expect(statements[0]).toBe('configure');
    expect(statements.at(-1)).toBe('commit');
    expect(statements).toContain(
      'primitive drbd-r0 ocf:linbit:drbd params drbd_resource=r0 op monitor interval=10s timeout=20s role=Promoted op monitor interval=20s timeout=20s role=Unpromoted op start interval=0s timeout=240s op stop interval=0s timeout=100s op promote interval=0s timeout=90s op demote interval=0s timeout=90s op notify interval=0s timeout=90s',
    );
    expect(statements).toContain('group g-db fs-r0 ip-db db');
    expect(statements).toContain('clone drbd-r0-clone drbd-r0 meta promotable=true promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true priority=1');
    expect(statements).toContain('colocation col-g-db-with-drbd-r0-clone-promoted INFINITY: g-db drbd-r0-clone:Promoted');
    expect(statements).toContain('order order-drbd-r0-clone-promote-then-g-db Mandatory: drbd-r0-clone:promote g-db:start');
    expect(statements).toContain('property cib-bootstrap-options: stonith-enabled=true priority-fencing-delay=10s');
    expect(statements).toContain(
      'primitive fence-node1 stonith:fence_virsh params ip=10.99.0.254 username=fence password=secret plug=node1 pcmk_host_list=node1 op monitor interval=60s',
    );
  });

  it('topology B: the order chain in crm syntax', () => {
    const script = renderCrmScript(buildGuestsOnSharedLvm(GUESTS));
    expect(script).toContain('order order-dlm-clone-then-lvmlockd-clone Mandatory: dlm-clone:start lvmlockd-clone:start\n');
    expect(script).toContain('order order-drbd-r0-clone-promote-then-lvm-vg_shared-clone Mandatory: drbd-r0-clone:promote lvm-vg_shared-clone:start\n');
    expect(script).toContain('colocation col-lvm-vg_shared-clone-with-drbd-r0-clone-promoted INFINITY: lvm-vg_shared-clone drbd-r0-clone:Promoted\n');
  });

  it('quotes values crmsh would split', () => {
    expect(crmQuote('/dev/drbd0')).toBe('/dev/drbd0');
    expect(crmQuote('a b')).toBe('"a b"');
    expect(crmQuote('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(crmQuote('')).toBe('""');
  });
});

describe('renderPcsCommands', () => {
  it('topology A as pcs 0.11 argv arrays', () => {
    const argv = renderPcsCommands(buildServiceOnDrbd(SERVICE), { cibFile: '/tmp/cib.xml' });
    expect(argv[0]).toEqual(['pcs', '-f', '/tmp/cib.xml', 'property', 'set', 'stonith-enabled=true', 'priority-fencing-delay=10s']);
    const plain = renderPcsCommands(buildServiceOnDrbd(SERVICE));
    expect(plain).toContainEqual([
      'pcs', 'stonith', 'create', 'fence-node1', 'fence_virsh',
      'ip=10.99.0.254', 'username=fence', 'password=secret', 'plug=node1', 'pcmk_host_list=node1',
      'op', 'monitor', 'interval=60s',
    ]);
    const drbd = plain.find((a) => a[3] === 'drbd-r0');
    expect(drbd?.slice(0, 6)).toEqual(['pcs', 'resource', 'create', 'drbd-r0', 'ocf:linbit:drbd', 'drbd_resource=r0']);
    expect(drbd?.slice(drbd.indexOf('promotable'))).toEqual([
      'promotable', 'drbd-r0-clone', 'promoted-max=1', 'promoted-node-max=1', 'clone-max=2', 'clone-node-max=1', 'notify=true', 'priority=1',
    ]);
    expect(plain.find((a) => a[3] === 'fs-r0')?.slice(-2)).toEqual(['--group', 'g-db']);
    expect(plain).toContainEqual(['pcs', 'constraint', 'colocation', 'add', 'g-db', 'with', 'Promoted', 'drbd-r0-clone', 'INFINITY', 'id=col-g-db-with-drbd-r0-clone-promoted']);
    expect(plain).toContainEqual([
      'pcs', 'constraint', 'order', 'promote', 'drbd-r0-clone', 'then', 'start', 'g-db', 'kind=Mandatory', 'id=order-drbd-r0-clone-promote-then-g-db',
    ]);
  });

  it('topology B: clones created with their resource, the guest with meta', () => {
    const argv = renderPcsCommands(buildGuestsOnSharedLvm(GUESTS));
    expect(argv.find((a) => a[3] === 'dlm')?.slice(-5)).toEqual(['clone', 'dlm-clone', 'interleave=true', 'clone-max=2', 'clone-node-max=1']);
    const vm = argv.find((a) => a[3] === 'vm1');
    expect(vm?.slice(vm.indexOf('meta'))).toEqual(['meta', 'allow-migrate=true']);
  });

  it('shell lines quote what the shell would otherwise read', () => {
    const config = buildServiceOnDrbd({ ...SERVICE, service: { id: 'db', agent: 'ocf:heartbeat:mysql', params: { additional_parameters: "--a 'b' $c" } } });
    const line = renderPcsScript(config).split('\n').find((l) => l.startsWith('pcs resource create db '));
    expect(line).toContain(`'additional_parameters=--a '\\''b'\\'' $c'`);
  });
});
