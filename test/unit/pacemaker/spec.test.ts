import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { buildServiceOnDrbd } from '../../../src/pacemaker/generate/build.js';
import { agentName, isValidPacemakerId, parseAgentName, validatePacemakerConfig } from '../../../src/pacemaker/generate/spec.js';
import { SERVICE } from './generate-inputs.js';

const issuesOf = (input: unknown): string[] => {
  try {
    validatePacemakerConfig(input);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('Pacemaker names', () => {
  it('ids are XML NCNames of at most 100 characters', () => {
    for (const ok of ['r0', 'drbd-r0-clone', '_x', 'lvm-vg_shared', 'a.b']) expect(isValidPacemakerId(ok)).toBe(true);
    for (const bad of ['', '0r', '-x', 'a b', 'a:b', 'a"b', 'a<b', 'x'.repeat(101), 'é']) expect(isValidPacemakerId(bad)).toBe(false);
  });

  it('no id that passes can break XML, a crm line or a shell word', () => {
    fc.assert(fc.property(fc.string(), (s) => !isValidPacemakerId(s) || /^[A-Za-z0-9_.-]+$/.test(s)));
  });

  it('agents: ocf:provider:type, systemd:unit, stonith:agent', () => {
    expect(parseAgentName('ocf:heartbeat:mysql')).toEqual({ class: 'ocf', provider: 'heartbeat', type: 'mysql' });
    expect(parseAgentName('systemd:mariadb')).toEqual({ class: 'systemd', type: 'mariadb' });
    expect(agentName({ class: 'stonith', type: 'fence_virsh' })).toBe('stonith:fence_virsh');
    expect(() => parseAgentName('mysql')).toThrow(ConfigError);
    expect(() => parseAgentName('ocf:mysql')).toThrow(ConfigError);
  });
});

describe('validatePacemakerConfig', () => {
  const good = buildServiceOnDrbd(SERVICE);

  it('lists every problem with its path', () => {
    const bad = structuredClone(good);
    bad.primitives[0]!.params.pcmk_host_list = 'node1\nnode2';
    bad.constraints.colocations[0]!.score = 'always';
    bad.primitives[2]!.id = 'bad id';
    const issues = issuesOf(bad);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^primitives\[0\]\.params\.pcmk_host_list: no control characters/),
        expect.stringMatching(/^constraints\.colocations\[0\]\.score: a score/),
        expect.stringMatching(/^primitives\[2\]\.id: "bad id" is not a Pacemaker id/),
      ]),
    );
  });

  it('ids are unique and references name resources of the configuration', () => {
    const bad = structuredClone(good);
    bad.constraints.orders.push({ id: 'fs-r0', first: 'nothing', then: 'g-db' });
    bad.groups[0]!.members.push('ghost');
    const issues = issuesOf(bad);
    expect(issues).toContain('id fs-r0 is used by primitive fs-r0 and by constraint fs-r0; ids are unique in a CIB');
    expect(issues).toContain('order fs-r0 names nothing, which is not a resource of this configuration');
    expect(issues).toContain('group g-db: member ghost is not a primitive');
  });

  it('an ocf primitive needs a provider, others have none', () => {
    const bad = structuredClone(good);
    delete bad.primitives[2]!.provider;
    expect(issuesOf(bad)).toEqual([expect.stringMatching(/^primitives\[2\]\.provider: an ocf resource needs a provider/)]);
  });
});
