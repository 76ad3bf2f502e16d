export { checkMirrorTarget } from './target.js';
export { planMirror, parseArches, hostArch, isSafeMirrorPath, ARCHES, type PlannedArtifact } from './plan.js';
export { syncMirror, type MirrorSyncOptions, type MirrorSyncReport, type SyncedFile, type SyncFailure, type SyncStatus } from './sync.js';
export { parseChecksumFile, withoutCredentials, type FetchSettings } from './fetch.js';
export { MANIFEST, readManifest, type Manifest, type ManifestEntry } from './manifest.js';
