/** The LVM layer's public names (re-exported by src/index.ts). */
export * from './version.js';
export * from './names.js';
export * from './report.js';
export * from './report-log.js';
export * from './config-file.js';
export * from './stack-config.js';
export * from './locks.js';
export * from './lvm-shell.js';
export * from './executor-runner.js';
export * from './shared-vg.js';
export * from './lvmlockctl.js';
