/**
 * fast-check arbitraries for valid resource definitions, built from the
 * option tables so every typed option gets exercised with in-range values.
 */
import fc from 'fast-check';
import {
  DISK_OPTIONS,
  HANDLERS,
  NET_OPTIONS,
  RESOURCE_OPTIONS,
  STARTUP_OPTIONS,
  availableOn,
  type DrbdTarget,
  type OptionSpec,
  type SectionTable,
} from '../../../../src/drbd/config/options.js';
import type { ResourceDefinitionInput } from '../../../../src/drbd/config/schema.js';

/** Printable text including the characters that need quoting and escaping. */
const text = (max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...'abcXYZ019 _-./:"\\\'$&<>#;{}[]'.split('')), minLength: 1, maxLength: max });

function valueOf(spec: OptionSpec, target: DrbdTarget): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...spec.values[target]);
    case 'number': {
      const { min, max } = spec.range[target];
      return fc.integer({ min, max });
    }
    case 'count':
      return fc.oneof(fc.constantFrom(...spec.symbols), fc.integer(spec.range));
    case 'string':
      return text(Math.min(spec.maxLength, 40));
  }
}

/** Random subset of a table's options; `skip` leaves out options with cross-field rules. */
function section(table: SectionTable, target: DrbdTarget, skip: readonly string[] = []): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(table).filter(([key, spec]) => availableOn(spec, target) && !skip.includes(key));
  return fc.record(Object.fromEntries(entries.map(([key, spec]) => [key, valueOf(spec, target)])), { requiredKeys: [] });
}

const HOSTS = ['alpha', 'beta.example.net', 'gamma_3', 'net', '1234', 'd-4'];
const DISKS = ['/dev/vg0/r0', '/dev/mapper/vg-lv', '/dev/disk/by-path/pci-0000:00:1f.2-ata-1', '/dev/sdb1', '/dev/vg+x/lv.1'];

export function arbitraryDefinition(): fc.Arbitrary<ResourceDefinitionInput> {
  return fc.constantFrom<DrbdTarget>('8.4', '9').chain((target) => {
    const nodeCount = target === '8.4' ? fc.constant(2) : fc.integer({ min: 1, max: 4 });
    return fc
      .record({
        name: fc.stringMatching(/^[A-Za-z0-9_.+][A-Za-z0-9_.+-]{0,20}$/).filter((n) => n !== 'all' && !/^\.+$/.test(n)),
        protocol: fc.option(fc.constantFrom('A', 'B', 'C'), { nil: undefined }),
        hosts: nodeCount.chain((n) => fc.shuffledSubarray(HOSTS, { minLength: n, maxLength: n })),
        ipv6: fc.boolean(),
        volumeNumbers: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 3 }),
        volumeShapes: fc.array(
          fc.record({
            minor: fc.integer({ min: 0, max: 1048575 }),
            withDevice: fc.boolean(),
            disk: target === '9' ? fc.constantFrom(...DISKS, 'none') : fc.constantFrom(...DISKS),
            meta: fc.oneof(fc.constant('internal' as const), fc.record({ device: fc.constantFrom(...DISKS), index: fc.option(fc.nat(7), { nil: undefined }) })),
            diskOptions: fc.option(section(DISK_OPTIONS, target, ['fencing']), { nil: undefined }),
          }),
          { minLength: 3, maxLength: 3 },
        ),
        net: section(NET_OPTIONS, target, ['afterSb0pri']),
        disk: section(DISK_OPTIONS, target),
        options: section(RESOURCE_OPTIONS, target),
        startup: section(STARTUP_OPTIONS, target, ['becomePrimaryOn']),
        handlers: section(HANDLERS, target),
        extra: fc.option(fc.dictionary(fc.constantFrom('x-one', 'x-two', 'y-flag'), fc.oneof(fc.constant(true as const), text(12)), { maxKeys: 2 }), {
          nil: undefined,
        }),
        meshNet: fc.option(section(NET_OPTIONS, target, ['afterSb0pri']), { nil: undefined }),
      })
      .map((r): ResourceDefinitionInput => {
        const minorsUsed = new Set<number>();
        const volumes = r.volumeNumbers.map((volume, i) => {
          const shape = r.volumeShapes[i] as (typeof r.volumeShapes)[number];
          let minor = shape.minor;
          while (minorsUsed.has(minor)) minor = (minor + 1) % 1048576;
          minorsUsed.add(minor);
          return {
            volume,
            minor,
            ...(shape.withDevice && { device: `/dev/drbd${minor}` }),
            disk: shape.disk,
            ...(shape.disk !== 'none' && { metaDisk: shape.meta }),
            ...(shape.diskOptions && { diskOptions: shape.diskOptions }),
          };
        });
        const nodes = r.hosts.map((name, i) => ({
          name,
          ...(target === '9' && { nodeId: i }),
          address: r.ipv6 ? `ipv6 [fd00::${i + 1}]:${7000 + i}` : `ipv4 10.0.0.${i + 1}:${7000 + i}`,
          volumes,
        }));
        return {
          name: r.name,
          target,
          ...(r.protocol && { protocol: r.protocol }),
          nodes,
          net: r.net,
          disk: { ...r.disk, ...(r.extra && { extra: r.extra }) },
          options: r.options,
          startup: r.startup,
          handlers: r.handlers,
          ...(target === '9' && nodes.length >= 2 && r.meshNet && { connectionMesh: { hosts: r.hosts, net: r.meshNet } }),
        } as ResourceDefinitionInput;
      });
  });
}
