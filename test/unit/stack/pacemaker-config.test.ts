import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../src/errors.js';
import { parseResourceDefinition, renderResource } from '../../../src/drbd/config/index.js';
import { parseClusterFile } from '../../../src/stack/cluster-file.js';
import {
  CRM_FENCE_HANDLERS,
  checkDrbdForPacemaker,
  drbdFactsOf,
  generateStackPacemakerConfig,
  withPacemakerFencing,
} from '../../../src/stack/pacemaker-config.js';
import { CONNECTIONS_9, MESH_9 } from '../drbd/config/definitions.js';
import { GUESTS_FILE, SERVICE_FILE } from './pacemaker-cluster.js';
import { R0, R0_SAFE } from './two-nodes.js';

const parse = (file: unknown) => parseClusterFile(JSON.stringify(file), 'cluster.json');

function refusal(fn: () => unknown): SafetyError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SafetyError) return error;
    throw error;
  }
  throw new Error('expected a SafetyError');
}

describe('the cluster file\'s pacemaker section', () => {
  it('is optional: a file without it parses as before and has no pacemaker field', () => {
    const { pacemaker: _p, ...old } = SERVICE_FILE;
    const file = parse(old);
    expect(file.pacemaker).toBeUndefined();
    expect(Object.keys(file)).toEqual(['path', 'nodes', 'guests', 'resources']);
  });

  it('is kept when given', () => {
    expect(parse(SERVICE_FILE).pacemaker?.service?.id).toBe('db');
    expect(parse(GUESTS_FILE).pacemaker?.guests?.vg).toBe('vg_shared');
  });

  it('bad ids, agents, addresses and VG names are listed with their paths', () => {
    const bad = structuredClone(SERVICE_FILE) as Record<string, any>;
    bad.pacemaker.fencing.devices[0].id = 'fence node1';
    bad.pacemaker.fencing.devices[1].agent = 'rm -rf';
    bad.pacemaker.service.ip.address = '10.99.0';
    bad.pacemaker.service.agent = 'mysql';
    bad.pacemaker.topology = 'cluster';
    let issues: readonly string[] = [];
    try {
      parse(bad);
    } catch (error) {
      if (error instanceof ConfigError) issues = error.issues;
    }
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^pacemaker\.fencing\.devices\[0\]\.id: "fence node1" is not a Pacemaker id/),
        expect.stringMatching(/^pacemaker\.fencing\.devices\[1\]\.agent: a fence agent name/),
        expect.stringMatching(/^pacemaker\.service\.ip\.address: an IPv4 or IPv6 address/),
        expect.stringMatching(/^pacemaker\.service\.agent: an agent such as/),
        expect.stringMatching(/^pacemaker\.topology: /),
      ]),
    );
    const vg = structuredClone(GUESTS_FILE) as Record<string, any>;
    vg.pacemaker.guests.vg = '-bad';
    expect(() => parse(vg)).toThrow(/pacemaker\.guests\.vg: a VG name/);
  });
});

describe('the DRBD side', () => {
  it('drbdFactsOf: fencing, allow-two-primaries and protocol, the weakest link deciding', () => {
    expect(drbdFactsOf(parseResourceDefinition(R0_SAFE))).toEqual({ fencing: 'resource-and-stonith', allowTwoPrimaries: false, protocol: 'C', fencePeerHandler: true });
    expect(drbdFactsOf(parseResourceDefinition(R0))).toEqual({ fencing: undefined, allowTwoPrimaries: false, protocol: 'C', fencePeerHandler: false });
    expect(drbdFactsOf(parseResourceDefinition(MESH_9))).toMatchObject({ fencing: 'resource-and-stonith', allowTwoPrimaries: true, protocol: 'C' });
    const weakMesh = parseResourceDefinition({ ...MESH_9, connectionMesh: { hosts: ['hv-a.example.net', 'hv-b.example.net'], fencing: 'resource-only', protocol: 'A' } });
    expect(drbdFactsOf(weakMesh)).toMatchObject({ fencing: 'resource-only', protocol: 'A' });
  });

  it('the crm handlers by generation: 8.4 unfences after resync, 9 has unfence-peer', () => {
    expect(CRM_FENCE_HANDLERS['8.4']).toEqual({ fencePeer: '/usr/lib/drbd/crm-fence-peer.sh', afterResyncTarget: '/usr/lib/drbd/crm-unfence-peer.sh' });
    expect(CRM_FENCE_HANDLERS['9']).toEqual({ fencePeer: '/usr/lib/drbd/crm-fence-peer.9.sh', unfencePeer: '/usr/lib/drbd/crm-unfence-peer.9.sh' });
  });

  it('checkDrbdForPacemaker accepts the right handlers and refuses missing or wrong-generation ones', () => {
    expect(() => checkDrbdForPacemaker(parseResourceDefinition(R0_SAFE))).not.toThrow();
    expect(() => checkDrbdForPacemaker(parseResourceDefinition(MESH_9))).not.toThrow();
    const none = refusal(() => checkDrbdForPacemaker(parseResourceDefinition(R0)));
    expect(none.rule).toBe('drbd-crm-fence-handlers');
    expect(none.message).toContain('handlers.fencePeer unset');
    const nine84 = refusal(() => checkDrbdForPacemaker(parseResourceDefinition({ ...MESH_9, handlers: CRM_FENCE_HANDLERS['8.4'] })));
    expect(nine84.message).toMatch(/DRBD 9 resource vm-disks has handlers.fencePeer "\/usr\/lib\/drbd\/crm-fence-peer.sh"/);
    expect(nine84.message).toContain('handlers.unfencePeer: /usr/lib/drbd/crm-unfence-peer.9.sh');
  });

  it('withPacemakerFencing sets resource-and-stonith and the handlers; DRBD 9 renders fencing in net', () => {
    const r0 = withPacemakerFencing(parseResourceDefinition(R0));
    expect(r0.disk.fencing).toBe('resource-and-stonith');
    expect(r0.handlers).toMatchObject(CRM_FENCE_HANDLERS['8.4']);
    expect(() => checkDrbdForPacemaker(r0)).not.toThrow();
    const nine = withPacemakerFencing(parseResourceDefinition({ ...CONNECTIONS_9, disk: {}, handlers: {} }));
    expect(nine.handlers).toMatchObject(CRM_FENCE_HANDLERS['9']);
    const res = renderResource(nine);
    expect(res).toMatch(/net \{[^}]*fencing resource-and-stonith;/);
    expect(res).toContain('unfence-peer /usr/lib/drbd/crm-unfence-peer.9.sh;');
    expect(renderResource(r0)).toMatch(/disk \{[^}]*fencing resource-and-stonith;/);
  });
});

describe('generateStackPacemakerConfig', () => {
  it('topology A from the file: the filesystem on r0\'s device, the service, the IP', () => {
    const { topology, resource, config } = generateStackPacemakerConfig(parse(SERVICE_FILE));
    expect([topology, resource]).toEqual(['service', 'r0']);
    expect(config.primitives.find((p) => p.id === 'fs-r0')?.params).toEqual({ device: '/dev/drbd0', directory: '/srv/db', fstype: 'ext4' });
    expect(config.groups[0]?.members).toEqual(['fs-r0', 'ip-db', 'db']);
  });

  it('topology B from the file, or chosen over the file\'s topology', () => {
    const b = generateStackPacemakerConfig(parse(GUESTS_FILE));
    expect(b.topology).toBe('guests');
    expect(b.config.clones.find((c) => c.id === 'drbd-r0-clone')?.meta['promoted-max']).toBe('2');
    const both = structuredClone(GUESTS_FILE) as Record<string, any>;
    both.pacemaker.service = SERVICE_FILE.pacemaker.service;
    expect(generateStackPacemakerConfig(parse(both), { topology: 'service' }).topology).toBe('service');
  });

  it('refuses stonith-enabled=false from the file\'s properties', () => {
    const f = structuredClone(SERVICE_FILE) as Record<string, any>;
    f.pacemaker.properties = { 'stonith-enabled': 'false' };
    expect(refusal(() => generateStackPacemakerConfig(parse(f))).rule).toBe('stonith-disabled');
  });

  it('refuses a file with no fence device, or one leaving a node unfenced', () => {
    const none = structuredClone(SERVICE_FILE) as Record<string, any>;
    none.pacemaker.fencing.devices = [];
    expect(refusal(() => generateStackPacemakerConfig(parse(none))).rule).toBe('no-stonith-device');
    const one = structuredClone(SERVICE_FILE) as Record<string, any>;
    one.pacemaker.fencing.devices.pop();
    expect(refusal(() => generateStackPacemakerConfig(parse(one))).message).toContain('node node2');
  });

  it('refuses DRBD fencing resource-only (with the right handlers) and a resource without the crm handlers', () => {
    const only = structuredClone(SERVICE_FILE) as Record<string, any>;
    only.resources.r0.disk.fencing = 'resource-only';
    expect(refusal(() => generateStackPacemakerConfig(parse(only))).rule).toBe('drbd-fencing-resource-only');
    const bare = structuredClone(SERVICE_FILE) as Record<string, any>;
    const { name: _n, ...r0 } = R0;
    bare.resources.r0 = r0;
    expect(refusal(() => generateStackPacemakerConfig(parse(bare))).rule).toBe('drbd-crm-fence-handlers');
  });

  it('refuses the guests topology on a DRBD resource without allow-two-primaries', () => {
    const f = structuredClone(GUESTS_FILE) as Record<string, any>;
    f.resources.r0.net.allowTwoPrimaries = false;
    expect(refusal(() => generateStackPacemakerConfig(parse(f))).rule).toBe('dual-primary-requires-drbd-fencing');
  });

  it('a missing section or part is a ConfigError that says what to add', () => {
    const { pacemaker: _p, ...old } = SERVICE_FILE;
    expect(() => generateStackPacemakerConfig(parse(old))).toThrow(/has no "pacemaker" section/);
    expect(() => generateStackPacemakerConfig(parse(SERVICE_FILE), { topology: 'guests' })).toThrow(/the guests topology needs guests/);
    const wrong = structuredClone(SERVICE_FILE) as Record<string, any>;
    wrong.pacemaker.resource = 'r9';
    expect(() => generateStackPacemakerConfig(parse(wrong))).toThrow(/r9 is not a resource of the file/);
  });
});
