#!/usr/bin/env node
// Builds the addon against the headers of the Node that runs us, never downloaded ones.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const candidates = [
  process.env.npm_config_nodedir,
  dirname(dirname(process.execPath)),
  '/usr',
  '/usr/local',
].filter(Boolean);
const nodedir = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
if (!nodedir) {
  console.error(
    'hastor: Node headers not found (looked for include/node/node_api.h under ' +
      candidates.join(', ') +
      '). Install them (Debian: libnode-dev or nodejs headers) or set npm_config_nodedir.',
  );
  process.exit(1);
}
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
