/** The lab's two nodes (scripted, replaying lab output) as a loaded cluster file with r0. */
import { parseResourceDefinition, type LoadedCluster, type ResourceDefinitionInput } from '../../../src/index.js';
import { R0, twoNodes, type TwoNodes } from '../stack/two-nodes.js';

export function loadedCluster(t: TwoNodes, definition: ResourceDefinitionInput = R0): LoadedCluster {
  const r0 = parseResourceDefinition(definition);
  return {
    cluster: t.cluster,
    guests: new Map(),
    resources: new Map([['r0', r0]]),
    file: {
      path: 'test-cluster.json',
      nodes: [
        { name: 'node1', local: true },
        { name: 'node2', ssh: { host: '10.99.0.2', user: 'hastor' } },
      ],
      guests: {},
      resources: { r0 },
    },
  };
}

export { twoNodes };
