/**
 * Two Primaries are only safe when whatever sits on the DRBD device
 * coordinates its writers across nodes: a shared/clustered VG (lvmlockd,
 * clvmd) or a cluster file system (GFS2, OCFS2). hastor's DRBD layer cannot
 * see that; the caller passes a check for the layer above (the LVM layer
 * provides one for shared VGs).
 */
import type { ResourceDefinition } from '../drbd/config/index.js';
import type { Cluster } from './cluster.js';

export interface UpperLayerVerdict {
  /** True when every user of the device coordinates writes across nodes. */
  clusterAware: boolean;
  /** What was found, for messages ("VG vg_shared on /dev/drbd0 is shared (lvmlockd, dlm)"). */
  detail: string;
}

export type UpperLayerCheck = (resource: ResourceDefinition, cluster: Cluster) => Promise<UpperLayerVerdict>;
