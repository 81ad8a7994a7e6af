import { describe, expect, it } from 'vitest';
import { ConfigError, SafetyError } from '../../../../src/errors.js';
import { SAFETY_RULES, assertSafe, checkResourceSafety, type SafetyRule } from '../../../../src/drbd/config/safety.js';
import type { ResourceDefinitionInput } from '../../../../src/drbd/config/schema.js';
import { CONNECTIONS_9, LAB_84, MESH_9 } from './definitions.js';

type Loose = Record<string, unknown>;

/** Test definitions are built loosely; the schema inside checkResourceSafety is what checks them. */
const def = (x: Loose): ResourceDefinitionInput => x as unknown as ResourceDefinitionInput;
/** LAB_84 with sections replaced (not merged) where given. */
const lab = (over: Loose): ResourceDefinitionInput => def({ ...LAB_84, ...over });
const rules = (input: ResourceDefinitionInput): SafetyRule[] => checkResourceSafety(input).map((f) => f.rule);

const SAFE_DUAL_NET = { allowTwoPrimaries: true, afterSb0pri: 'discard-zero-changes', afterSb1pri: 'discard-secondary', afterSb2pri: 'disconnect' } as const;

describe('checkResourceSafety', () => {
  it('finds nothing wrong with the lab definition, the mesh or the connections example', () => {
    expect(checkResourceSafety(LAB_84)).toEqual([]);
    expect(checkResourceSafety(MESH_9)).toEqual([]);
    expect(checkResourceSafety(CONNECTIONS_9)).toEqual([]);
  });

  describe('dual-primary-requires-protocol-c', () => {
    it('fires for protocol A, B or unset on a dual-primary link', () => {
      for (const protocol of ['A', 'B'] as const) expect(rules(lab({ protocol }))).toEqual(['dual-primary-requires-protocol-c']);
      const [finding] = checkResourceSafety(lab({ protocol: undefined }));
      expect(finding).toMatchObject({ rule: 'dual-primary-requires-protocol-c', severity: 'error', path: 'protocol', fix: "set protocol: 'C'" });
      expect(finding?.message).toContain('protocol not set (a common section could change it)');
    });

    it('looks at the link: a connection overriding the protocol counts, single-primary does not care', () => {
      const nine = def({ ...MESH_9, connectionMesh: { hosts: ['hv-a.example.net', 'hv-b.example.net'], protocol: 'A' } });
      const [finding] = checkResourceSafety(nine);
      expect(finding).toMatchObject({ rule: 'dual-primary-requires-protocol-c', path: 'connectionMesh.protocol or protocol' });
      expect(rules(lab({ protocol: 'A', net: { ...LAB_84.net, allowTwoPrimaries: false }, startup: {} }))).toEqual([]);
    });
  });

  describe('dual-primary-requires-fencing', () => {
    it('fires when fencing is not resource-and-stonith', () => {
      for (const fencing of [undefined, 'dont-care', 'resource-only'] as const) {
        const [finding] = checkResourceSafety(lab({ disk: { ...LAB_84.disk, fencing } }));
        expect(finding?.rule).toBe('dual-primary-requires-fencing');
        expect(finding?.path).toBe('disk.fencing');
        expect(finding?.message).toContain(`fencing is ${fencing ?? 'not set (dont-care)'}`);
      }
    });

    it('fires when the fence-peer handler is missing, and says so', () => {
      const [finding, ...rest] = checkResourceSafety(lab({ handlers: {} }));
      expect(rest).toEqual([]);
      expect(finding).toMatchObject({ rule: 'dual-primary-requires-fencing', path: 'handlers.fencePeer' });
      expect(finding?.message).toContain('resource-and-stonith but there is no fence-peer handler');
      expect(finding?.fix).toContain('/usr/lib/drbd/crm-fence-peer.sh');
    });

    it('accepts fencing set on the DRBD 9 connection itself', () => {
      const meshFencing = { ...MESH_9, disk: { cPlanAhead: 20 }, connectionMesh: { hosts: ['hv-a.example.net', 'hv-b.example.net'], fencing: 'resource-and-stonith' } };
      expect(rules(def(meshFencing))).toEqual([]);
      expect(checkResourceSafety(def({ ...meshFencing, connectionMesh: { hosts: ['hv-a.example.net', 'hv-b.example.net'] } }))[0]?.fix).toContain('crm-fence-peer.9.sh');
    });
  });

  describe('dual-primary-requires-after-sb', () => {
    it('fires when any of the three policies is left to the default, naming the missing ones', () => {
      const [finding] = checkResourceSafety(lab({ net: { allowTwoPrimaries: true, afterSb1pri: 'discard-secondary' } }));
      expect(finding).toMatchObject({ rule: 'dual-primary-requires-after-sb', path: 'net.afterSb0pri, net.afterSb2pri' });
      expect(finding?.message).toContain('without after-sb-0pri, after-sb-2pri');
    });

    it('counts policies set per connection (DRBD 9)', () => {
      const perConnection = def({
        ...CONNECTIONS_9,
        disk: { fencing: 'resource-and-stonith' },
        handlers: { fencePeer: '/usr/lib/drbd/crm-fence-peer.9.sh' },
        connections: [
          { hosts: [{ host: 'store1' }, { host: 'store2' }], protocol: 'C', net: { ...SAFE_DUAL_NET } },
          { hosts: [{ host: 'store1' }, { host: 'client3' }], protocol: 'C', net: { allowTwoPrimaries: true } },
        ],
      });
      const findings = checkResourceSafety(perConnection);
      expect(findings.map((f) => [f.rule, f.path])).toEqual([
        ['dual-primary-requires-after-sb', 'connections[1].net.afterSb0pri or net.afterSb0pri, connections[1].net.afterSb1pri or net.afterSb1pri, connections[1].net.afterSb2pri or net.afterSb2pri'],
      ]);
      expect(findings[0]?.message).toContain('on store1 - client3');
    });
  });

  describe('after-sb-discards-silently', () => {
    it('fires for violently-as0p (1pri and 2pri) and rr-conflict violently, also without dual-primary', () => {
      expect(rules(lab({ net: { ...SAFE_DUAL_NET, afterSb2pri: 'violently-as0p' } }))).toEqual(['after-sb-discards-silently']);
      expect(rules(lab({ net: { afterSb1pri: 'violently-as0p' }, startup: {} }))).toEqual(['after-sb-discards-silently']);
      const [finding] = checkResourceSafety(lab({ net: { rrConflict: 'violently' }, startup: {} }));
      expect(finding).toMatchObject({ rule: 'after-sb-discards-silently', path: 'net.rrConflict' });
    });

    it('does not fire for the policies that stop or call a handler', () => {
      expect(rules(lab({ net: { ...SAFE_DUAL_NET, afterSb2pri: 'disconnect', rrConflict: 'disconnect' } }))).toEqual([]);
    });
  });

  describe('call-pri-lost-requires-handler', () => {
    it('fires for call-pri-lost-after-sb without pri-lost-after-sb, and rr-conflict call-pri-lost without pri-lost', () => {
      const net = { ...SAFE_DUAL_NET, afterSb2pri: 'call-pri-lost-after-sb', rrConflict: 'call-pri-lost' } as const;
      expect(checkResourceSafety(lab({ net })).map((f) => [f.rule, f.path])).toEqual([
        ['call-pri-lost-requires-handler', 'handlers.priLostAfterSb'],
        ['call-pri-lost-requires-handler', 'handlers.priLost'],
      ]);
      expect(rules(lab({ net, handlers: { ...LAB_84.handlers, priLostAfterSb: '/usr/lib/drbd/notify-pri-lost-after-sb.sh', priLost: '/sbin/reboot' } }))).toEqual([]);
    });
  });

  describe('fencing-requires-fence-peer-handler', () => {
    it('fires for fencing without a handler on a single-primary resource', () => {
      const single = { net: {}, handlers: {}, startup: {} };
      expect(rules(lab({ ...single, disk: { fencing: 'resource-and-stonith' } }))).toEqual(['fencing-requires-fence-peer-handler']);
      expect(checkResourceSafety(lab({ ...single, disk: { fencing: 'resource-only' } }))[0]?.message).toContain('the peer is never outdated');
      expect(rules(lab({ ...single, disk: { fencing: 'dont-care' } }))).toEqual([]);
      expect(rules(lab({ ...single, disk: { fencing: 'resource-only' }, handlers: { fencePeer: '/x' } }))).toEqual([]);
    });
  });

  describe('warnings', () => {
    it('shared-secret-requires-cram-hmac-alg', () => {
      const [finding] = checkResourceSafety(lab({ net: { ...SAFE_DUAL_NET, sharedSecret: 's' } }));
      expect(finding).toMatchObject({ rule: 'shared-secret-requires-cram-hmac-alg', severity: 'warning', path: 'net.cramHmacAlg' });
    });

    it('write-ordering-disabled, for the resource and for one volume', () => {
      const off = { diskFlushes: false, diskDrain: false };
      expect(checkResourceSafety(lab({ disk: { ...LAB_84.disk, ...off } })).map((f) => [f.rule, f.severity, f.path])).toEqual([
        ['write-ordering-disabled', 'warning', 'disk.diskDrain'],
        ['write-ordering-disabled', 'warning', 'disk.diskDrain'],
      ]);
      expect(rules(lab({ disk: { ...LAB_84.disk, ...off, diskBarrier: true } }))).toEqual([]);
      const nodes = (LAB_84.nodes as Loose[]).map((n, i) => (i === 0 ? { ...n, volumes: [{ ...(n.volumes as object[])[0], diskOptions: off }] } : n));
      expect(checkResourceSafety(lab({ nodes })).map((f) => f.path)).toEqual(['nodes[0].volumes[0].diskOptions.diskDrain']);
    });
  });

  it('refuses an invalid definition as a ConfigError', () => {
    expect(() => checkResourceSafety({ ...LAB_84, name: '' })).toThrow(ConfigError);
  });
});

describe('assertSafe', () => {
  const unsafe = lab({ protocol: 'A', handlers: {} });

  it('throws a SafetyError naming the rule, why, and how to override', () => {
    let error: unknown;
    try {
      assertSafe(unsafe);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetyError);
    const e = error as SafetyError;
    expect(e.code).toBe('E_SAFETY');
    expect(e.rule).toBe('dual-primary-requires-protocol-c');
    expect(e.override).toBe("override: ['dual-primary-requires-protocol-c']");
    expect(e.message).toContain("Fix: set protocol: 'C' at protocol (1 more: dual-primary-requires-fencing)");
    expect(e.message).toContain("to override on purpose: override: ['dual-primary-requires-protocol-c']");
  });

  it('lets overridden rules through, one by one, and returns every finding', () => {
    expect(() => assertSafe(unsafe, { override: ['dual-primary-requires-protocol-c'] })).toThrow(/rule dual-primary-requires-fencing/);
    const findings = assertSafe(unsafe, { override: ['dual-primary-requires-protocol-c', 'dual-primary-requires-fencing'] });
    expect(findings.map((f) => f.rule)).toEqual(['dual-primary-requires-protocol-c', 'dual-primary-requires-fencing']);
  });

  it('never throws for warnings', () => {
    expect(assertSafe(lab({ net: { ...SAFE_DUAL_NET, sharedSecret: 's' } })).map((f) => f.severity)).toEqual(['warning']);
  });

  it('refuses override ids that are not rules (a typo must not disable nothing silently)', () => {
    expect(() => assertSafe(LAB_84, { override: ['dual-primary-requires-protocol'] })).toThrow(ConfigError);
  });

  it('every rule id can fire', () => {
    const unsafe = [
      lab({ protocol: 'B', handlers: {}, net: { allowTwoPrimaries: true, afterSb2pri: 'violently-as0p', sharedSecret: 's' } }),
      lab({ net: { afterSb1pri: 'call-pri-lost-after-sb' }, handlers: {}, startup: {}, disk: { fencing: 'resource-only', diskFlushes: false, diskDrain: false } }),
    ];
    const fired = new Set(unsafe.flatMap(rules));
    expect([...fired].sort()).toEqual([...SAFETY_RULES].sort());
  });
});
