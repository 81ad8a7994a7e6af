import { describe, expect, it } from 'vitest';
import { SafetyError } from '../../../src/errors.js';
import { buildGuestsOnSharedLvm, buildServiceOnDrbd } from '../../../src/pacemaker/generate/build.js';
import { assertPacemakerConfigSafe, checkPacemakerConfig, fencedHosts, type DrbdFacts } from '../../../src/pacemaker/generate/check.js';
import type { PacemakerConfig } from '../../../src/pacemaker/generate/spec.js';
import { GUESTS, SAFE_DUAL, SAFE_SINGLE, SERVICE } from './generate-inputs.js';

const service = (): PacemakerConfig => structuredClone(buildServiceOnDrbd(SERVICE));
const guests = (): PacemakerConfig => structuredClone(buildGuestsOnSharedLvm(GUESTS));
const rules = (config: PacemakerConfig, r0: DrbdFacts | undefined): string[] =>
  checkPacemakerConfig(config, r0 === undefined ? {} : { drbd: { r0 } }).map((f) => f.rule);

describe('checkPacemakerConfig', () => {
  it('accepts both generated topologies with safe DRBD facts', () => {
    expect(checkPacemakerConfig(service(), { drbd: { r0: SAFE_SINGLE } })).toEqual([]);
    expect(checkPacemakerConfig(guests(), { drbd: { r0: SAFE_DUAL } })).toEqual([]);
    expect(assertPacemakerConfigSafe(service(), { drbd: { r0: SAFE_SINGLE } })).toEqual(service());
  });

  it('stonith-disabled: stonith-enabled=false (any of Pacemaker\'s false words)', () => {
    for (const word of ['false', 'no', 'FALSE', '0', 'off']) {
      const c = service();
      c.properties['stonith-enabled'] = word;
      expect(rules(c, SAFE_SINGLE)).toEqual(['stonith-disabled']);
    }
  });

  it('no-stonith-device: no primitive of class stonith', () => {
    const c = service();
    c.primitives = c.primitives.filter((p) => p.class !== 'stonith');
    expect(rules(c, SAFE_SINGLE)).toEqual(['no-stonith-device']);
  });

  it('node-not-fenced: a node in no pcmk_host_list or pcmk_host_map', () => {
    const c = service();
    c.primitives = c.primitives.filter((p) => p.id !== 'fence-node2');
    const findings = checkPacemakerConfig(c, { drbd: { r0: SAFE_SINGLE } });
    expect(findings.map((f) => [f.rule, f.id])).toEqual([['node-not-fenced', 'node2']]);
    // One device with a host map covering both is enough.
    const dev = c.primitives.find((p) => p.id === 'fence-node1');
    delete dev!.params.pcmk_host_list;
    dev!.params.pcmk_host_map = 'node1:vm-a;node2:vm-b';
    expect(rules(c, SAFE_SINGLE)).toEqual([]);
  });

  it('fencedHosts reads pcmk_host_list (spaces, commas) and pcmk_host_map keys', () => {
    const dev = service().primitives[0]!;
    dev.params = { pcmk_host_list: 'a b,c', pcmk_host_map: 'd:1;e=2' };
    expect(fencedHosts(dev)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('drbd-fencing-resource-only: the policy that lost writes in the lab', () => {
    const findings = checkPacemakerConfig(service(), { drbd: { r0: { ...SAFE_SINGLE, fencing: 'resource-only' } } });
    expect(findings.map((f) => f.rule)).toEqual(['drbd-fencing-resource-only']);
    expect(findings[0]?.message).toMatch(/lost|split/);
    expect(findings[0]?.fix).toMatch(/resource-and-stonith/);
  });

  it('drbd-fencing-required: dont-care, unset, no fence-peer handler, or unknown DRBD resource', () => {
    expect(rules(service(), { ...SAFE_SINGLE, fencing: 'dont-care' })).toEqual(['drbd-fencing-required']);
    expect(rules(service(), { ...SAFE_SINGLE, fencing: undefined })).toEqual(['drbd-fencing-required']);
    expect(rules(service(), { ...SAFE_SINGLE, fencePeerHandler: false })).toEqual(['drbd-fencing-required']);
    expect(rules(service(), undefined)).toEqual(['drbd-fencing-required']);
  });

  it('dual-primary-requires-drbd-fencing: promoted-max=2 needs resource-and-stonith, allow-two-primaries and protocol C', () => {
    expect(rules(guests(), SAFE_SINGLE)).toEqual(['dual-primary-requires-drbd-fencing']);
    expect(rules(guests(), { ...SAFE_DUAL, protocol: 'A' })).toEqual(['dual-primary-requires-drbd-fencing']);
    expect(rules(guests(), { ...SAFE_DUAL, fencing: 'resource-only' })).toEqual(['drbd-fencing-resource-only', 'dual-primary-requires-drbd-fencing']);
    const f = checkPacemakerConfig(guests(), { drbd: { r0: { ...SAFE_DUAL, allowTwoPrimaries: false, protocol: 'B' } } });
    expect(f[0]?.message).toContain('lacks allow-two-primaries, protocol C');
  });

  it('lvmlockd-after-dlm: lvmlockd not ordered after the dlm clone', () => {
    const c = guests();
    c.constraints.orders = c.constraints.orders.filter((o) => o.first !== 'dlm-clone');
    expect(rules(c, SAFE_DUAL)).toEqual(['lvmlockd-after-dlm']);
    // An Optional order does not count.
    const o = guests();
    o.constraints.orders[0]!.kind = 'Optional';
    expect(rules(o, SAFE_DUAL)).toEqual(['lvmlockd-after-dlm']);
  });

  it('lvm-activate-after-lvmlockd: LVM-activate not ordered after lvmlockd, or lvmlockd missing', () => {
    const c = guests();
    c.constraints.orders = c.constraints.orders.filter((o) => o.first !== 'lvmlockd-clone');
    expect(rules(c, SAFE_DUAL)).toEqual(['lvm-activate-after-lvmlockd']);
    // Reversed: lvmlockd after LVM-activate.
    const r = guests();
    const order = r.constraints.orders.find((o) => o.first === 'lvmlockd-clone')!;
    [order.first, order.then] = [order.then, order.first];
    expect(rules(r, SAFE_DUAL)).toContain('lvm-activate-after-lvmlockd');
  });

  it('lvm-activate-after-drbd-promote: the VG on DRBD activated without the Promoted role', () => {
    const c = guests();
    c.constraints.colocations = c.constraints.colocations.filter((x) => x.withRscRole !== 'Promoted');
    expect(rules(c, SAFE_DUAL)).toEqual(['lvm-activate-after-drbd-promote']);
    const o = guests();
    o.constraints.orders.find((x) => x.firstAction === 'promote')!.firstAction = 'start';
    expect(rules(o, SAFE_DUAL)).toEqual(['lvm-activate-after-drbd-promote']);
  });

  it('filesystem-with-promoted: a Filesystem on /dev/drbd* not with the Promoted role, or started before the promotion', () => {
    const noRole = service();
    delete noRole.constraints.colocations[0]!.withRscRole;
    expect(rules(noRole, SAFE_SINGLE)).toEqual(['filesystem-with-promoted']);
    const startOnly = service();
    startOnly.constraints.orders[0]!.firstAction = 'start';
    expect(rules(startOnly, SAFE_SINGLE)).toEqual(['filesystem-with-promoted']);
    const none = service();
    none.constraints = { locations: [], colocations: [], orders: [] };
    const f = checkPacemakerConfig(none, { drbd: { r0: SAFE_SINGLE } });
    expect(f.map((x) => [x.rule, x.id])).toEqual([['filesystem-with-promoted', 'fs-r0']]);
    expect(f[0]?.fix).toContain('drbd-r0-clone');
  });

  it('state-file-on-shared-filesystem: a pid file or socket under the DRBD filesystem (the dead node leaves it there)', () => {
    const c = service();
    const fs = c.primitives.find((p) => p.type === 'Filesystem')!;
    const svc = c.primitives.find((p) => p.class !== 'stonith' && !['Filesystem', 'drbd', 'IPaddr2'].includes(p.type))!;
    svc.params = { ...svc.params, pid: `${fs.params.directory}/mysql/mysqld.pid` };
    const f = checkPacemakerConfig(c, { drbd: { r0: SAFE_SINGLE } });
    expect(f.map((x) => [x.rule, x.id])).toEqual([['state-file-on-shared-filesystem', svc.id]]);
    expect(f[0]?.message).toContain(`${fs.params.directory}/mysql/mysqld.pid`);
    // Node-local state, or a directory that merely shares the prefix, is fine.
    svc.params = { ...svc.params, pid: '/run/mysqld/mysqld.pid', socket: `${fs.params.directory}-old/mysqld.sock` };
    expect(rules(c, SAFE_SINGLE)).toEqual([]);
    svc.params = { ...svc.params, socket: `${fs.params.directory}/mysqld.sock` };
    expect(rules(c, SAFE_SINGLE)).toEqual(['state-file-on-shared-filesystem']);
  });

  it('constraints on the primitive itself (no group) and chained through other resources count too', () => {
    const c = service();
    c.groups = [];
    c.constraints.colocations = [
      { id: 'c1', rsc: 'fs-r0', withRsc: 'drbd-r0-clone', withRscRole: 'Promoted', score: 'INFINITY' },
      { id: 'c2', rsc: 'db', withRsc: 'fs-r0', score: 'INFINITY' },
    ];
    c.constraints.orders = [{ id: 'o1', first: 'drbd-r0-clone', firstAction: 'promote', then: 'fs-r0', thenAction: 'start' }];
    expect(rules(c, SAFE_SINGLE)).toEqual([]);
  });

  it('assertPacemakerConfigSafe throws a SafetyError naming the first rule and how many more', () => {
    const c = service();
    c.properties['stonith-enabled'] = 'false';
    c.primitives = c.primitives.filter((p) => p.class !== 'stonith');
    let error: unknown;
    try {
      assertPacemakerConfigSafe(c, { drbd: { r0: SAFE_SINGLE } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetyError);
    expect((error as SafetyError).rule).toBe('stonith-disabled');
    expect((error as SafetyError).message).toMatch(/Fix: set the property stonith-enabled=true .*\(1 more: no-stonith-device\)/);
  });
});
