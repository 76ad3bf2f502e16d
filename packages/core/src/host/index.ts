/** The real Host: what steps use to change the machine, journaled, root-prefixed, dry-run aware. */
export { createRealHost, type RealHost, type RealHostOptions } from './real-host.js';
export { describePlannedChange, formatMode, formatSize, type PlannedChange } from './plan.js';
export { RootPaths } from '@flexnode/sdk';
export { artifactUrl } from './downloads.js';
export { checkEntries as checkArchiveEntries } from './unpack.js';
export { redactWith, which } from './exec.js';
export type { DownloadSettings } from './context.js';
