import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/errors.js';
import { renderResource } from '../../../../src/drbd/config/render.js';
import { parseResourceDefinition, type ResourceDefinitionInput } from '../../../../src/drbd/config/schema.js';
import { CONNECTIONS_9, LAB_84, MESH_9 } from './definitions.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/drbdadm-config/${name}`, import.meta.url), 'utf8');

// Expected text written by hand against drbd.conf-8.4(5) / drbd.conf-9.0(5); the
// same text, fed to drbdadm 9.22 (and its drbdadm-84), is accepted (see the lab test and fixtures).
const LAB_84_TEXT = `resource r0 {
    protocol C;
    net {
        allow-two-primaries yes;
        after-sb-0pri discard-zero-changes;
        after-sb-1pri discard-secondary;
        after-sb-2pri disconnect;
        cram-hmac-alg sha1;
        shared-secret "hastor lab secret";
        max-buffers 8192;
        verify-alg crc32c;
    }
    disk {
        on-io-error detach;
        fencing resource-and-stonith;
        resync-rate 204800;
        c-plan-ahead 0;
        al-extents 3389;
        size 10G;
    }
    startup {
        wfc-timeout 30;
        degr-wfc-timeout 15;
        become-primary-on both;
    }
    handlers {
        fence-peer /usr/lib/drbd/crm-fence-peer.sh;
        split-brain "/usr/lib/drbd/notify-split-brain.sh root";
        after-resync-target /usr/lib/drbd/crm-unfence-peer.sh;
    }
    on node1 {
        device /dev/drbd0 minor 0;
        disk /dev/vg0/r0;
        address ipv4 10.99.0.1:7789;
        meta-disk internal;
    }
    on node2 {
        device /dev/drbd0 minor 0;
        disk /dev/vg0/r0;
        address ipv4 10.99.0.2:7789;
        meta-disk internal;
    }
}
`;

const MESH_9_TEXT = `resource vm-disks {
    options {
        on-no-data-accessible suspend-io;
        auto-promote no;
        quorum off;
    }
    net {
        protocol C;
        fencing resource-and-stonith;
        allow-two-primaries yes;
        after-sb-0pri discard-zero-changes;
        after-sb-1pri discard-secondary;
        after-sb-2pri disconnect;
        ping-timeout 10;
    }
    disk {
        disk-flushes no;
        c-plan-ahead 20;
        c-fill-target 2048;
        c-max-rate 716800;
        c-min-rate 4096;
    }
    startup {
        wfc-timeout 0;
        stacked-timeouts;
    }
    handlers {
        fence-peer /usr/lib/drbd/crm-fence-peer.9.sh;
        unfence-peer /usr/lib/drbd/crm-unfence-peer.9.sh;
    }
    on hv-a.example.net {
        node-id 0;
        address ipv6 [fd00:99::1]:7000;
        volume 0 {
            device minor 100;
            disk /dev/vg_host/vm_disks_0;
            meta-disk internal;
        }
        volume 1 {
            device /dev/drbd101 minor 101;
            disk /dev/vg_host/vm_disks_1;
            meta-disk /dev/vg_host/drbd_md [1];
        }
    }
    on hv-b.example.net {
        node-id 1;
        address ipv6 [fd00:99::2]:7000;
        volume 0 {
            device minor 100;
            disk /dev/vg_host/vm_disks_0;
            meta-disk internal;
        }
        volume 1 {
            device /dev/drbd101 minor 101;
            disk /dev/vg_host/vm_disks_1;
            meta-disk /dev/vg_host/drbd_md [1];
        }
    }
    connection-mesh {
        hosts hv-a.example.net hv-b.example.net;
        net {
            max-buffers 36864;
            sndbuf-size 10485760;
        }
    }
}
`;

const CONNECTIONS_9_TEXT = `resource pvc-3f1c {
    options {
        quorum majority;
        on-no-quorum io-error;
    }
    net {
        rr-conflict retry-connect;
        cram-hmac-alg sha256;
        shared-secret "x\\"y\\\\z";
        verify-alg crc32c;
    }
    disk {
        discard-zeroes-if-aligned no;
    }
    handlers {
        quorum-lost "echo 'quorum & <lost>' > /dev/kmsg";
    }
    on store1 {
        node-id 0;
        address ipv4 192.168.122.11:7010;
        volume 0 {
            device minor 1000;
            disk /dev/vg_ssd/pvc-3f1c_00000;
            meta-disk internal;
            disk {
                rs-discard-granularity 65536;
            }
        }
    }
    on store2 {
        node-id 1;
        address ipv4 192.168.122.12:7010;
        volume 0 {
            device minor 1000;
            disk /dev/vg_ssd/pvc-3f1c_00000;
            meta-disk internal;
        }
    }
    on client3 {
        node-id 2;
        address ipv4 192.168.122.13:7010;
        volume 0 {
            device minor 1000;
            disk none;
        }
    }
    connection {
        path {
            host store1 address ipv4 10.10.0.11:7010;
            host store2 address ipv4 10.10.0.12:7010;
        }
        path {
            host store1 address ipv4 10.20.0.11:7010;
            host store2 address ipv4 10.20.0.12:7010;
        }
        net {
            protocol C;
            max-buffers 10000;
        }
        disk {
            c-max-rate 102400;
        }
        volume 0 {
            disk {
                resync-rate 51200;
            }
        }
    }
    connection {
        host store1;
        host client3 port 7011;
        net {
            protocol A;
        }
    }
    connection {
        host store2;
        host client3;
    }
}
`;

describe('renderResource', () => {
  it('writes DRBD 8.4 syntax: resource-level protocol, fencing in disk, the volume inline in each on section', () => {
    expect(renderResource(LAB_84)).toBe(LAB_84_TEXT);
  });

  it('writes DRBD 9 syntax: protocol and fencing in net, node-id, volume blocks, the mesh', () => {
    expect(renderResource(MESH_9)).toBe(MESH_9_TEXT);
  });

  it('writes DRBD 9 connections with paths, host port overrides, connection net/disk and per-volume options', () => {
    expect(renderResource(CONNECTIONS_9)).toBe(CONNECTIONS_9_TEXT);
  });

  it('is what the fixtures fed to drbdadm were made from', () => {
    expect(fixture('hastor-84-dual-primary.res')).toBe(renderResource(LAB_84));
    expect(fixture('hastor-9-mesh.res')).toBe(renderResource(MESH_9));
    expect(fixture('hastor-9-connections.res')).toBe(renderResource(CONNECTIONS_9));
  });

  it('describes the lab resource the way the lab kernel reported it (drbdsetup show on node1)', () => {
    const show = fixture('lab-8.4.11-drbdsetup-show.txt');
    const text = renderResource(LAB_84);
    const disk = /disk\s+"([^"]+)"/.exec(show)?.[1];
    const minor = /device\s+minor (\d+);/.exec(show)?.[1];
    const local = /_this_host \{\s+address\s+(\S+) (\S+);/.exec(show);
    const remote = /_remote_host \{\s+address\s+(\S+) (\S+);/.exec(show);
    expect(disk).toBe('/dev/vg0/r0');
    expect(text).toContain(`disk ${disk};`);
    expect(text).toContain(`minor ${minor};`);
    expect(text).toContain(`on node1 {\n        device /dev/drbd0 minor 0;\n        disk /dev/vg0/r0;\n        address ${local?.[1]} ${local?.[2]};`);
    expect(text).toContain(`address ${remote?.[1]} ${remote?.[2]};`);
    expect(show).toContain('meta-disk\t\t\tinternal;');
    expect(text).toContain('meta-disk internal;');
  });

  it('renders an 8.4 definition as DRBD 9 when it has what DRBD 9 needs', () => {
    const nodes = (LAB_84.nodes as object[]).map((n, i) => ({ ...n, nodeId: i }));
    const text = renderResource({ ...LAB_84, nodes } as ResourceDefinitionInput, { target: '9' });
    expect(text).toContain('    net {\n        protocol C;\n        fencing resource-and-stonith;\n        allow-two-primaries yes;');
    expect(text).not.toMatch(/^    protocol C;/m);
    expect(text).toContain('    on node1 {\n        node-id 0;\n        address ipv4 10.99.0.1:7789;\n        volume 0 {\n            device /dev/drbd0 minor 0;');
    expect(text).toContain('    connection-mesh {\n        hosts node1 node2;\n    }\n}\n');
  });

  it('refuses to render what the target cannot express, listing every problem', () => {
    let error: unknown;
    try {
      renderResource(MESH_9, { target: '8.4' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      'options.autoPromote: auto-promote is not a DRBD 8.4 option (only 9)',
      'options.quorum: quorum is not a DRBD 8.4 option (only 9)',
      'nodes[0].nodeId: node-id is DRBD 9 only',
      'nodes[1].nodeId: node-id is DRBD 9 only',
      'connectionMesh: connection-mesh is DRBD 9 only',
    ]);
  });

  it('quotes names drbdadm would misread and writes several 8.4 volumes as volume blocks', () => {
    const text = renderResource({
      name: 'data+logs',
      target: '8.4',
      handlers: { localIoError: 'logger "io error on $DRBD_RESOURCE"' },
      nodes: ['net', '1234'].map((name, i) => ({
        name,
        address: `10.0.0.${i + 1}:7790`,
        volumes: [
          { volume: 1, minor: 11, disk: '/dev/disk/by-id/wwn-0x5000:part2', metaDisk: 'internal' },
          { volume: 0, minor: 10, disk: '/dev/vg/data', metaDisk: { device: '/dev/vg/md' }, diskOptions: { onIoError: 'pass_on' } },
        ],
      })),
    });
    expect(text).toBe(
      [
        'resource "data+logs" {',
        '    handlers {',
        '        local-io-error "logger \\"io error on $DRBD_RESOURCE\\"";',
        '    }',
        ...['"net"', '"1234"'].flatMap((host, i) => [
          `    on ${host} {`,
          '        volume 0 {',
          '            device minor 10;',
          '            disk /dev/vg/data;',
          '            meta-disk /dev/vg/md;',
          '            disk {',
          '                on-io-error pass_on;',
          '            }',
          '        }',
          '        volume 1 {',
          '            device minor 11;',
          '            disk "/dev/disk/by-id/wwn-0x5000:part2";',
          '            meta-disk internal;',
          '        }',
          `        address ipv4 10.0.0.${i + 1}:7790;`,
          '    }',
        ]),
        '}',
        '',
      ].join('\n'),
    );
  });

  it('puts a header comment first and renders the normalized definition the same way', () => {
    const text = renderResource(parseResourceDefinition(LAB_84), { header: 'managed by hastor\n\ndo not edit' });
    expect(text.split('\n').slice(0, 4)).toEqual(['# managed by hastor', '#', '# do not edit', 'resource r0 {']);
    expect(text.slice(text.indexOf('resource'))).toBe(LAB_84_TEXT);
  });
});
