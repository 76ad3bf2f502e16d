/**
 * `@flexnode/plugin-containerd`: runc and containerd for a flexnode node. The default export of
 * `./plugin` is the plugin; this entry re-exports its steps and helpers for tests and third parties.
 */
export { default as plugin } from './plugin.js';
export { runcBinary, containerdBinaries, containerdPackages, containerdConfig, containerdService } from './steps.js';
export { CONTAINERD_BINARIES_RECORD } from './containerd-binaries.js';
export { APT_PACKAGES } from './containerd-packages.js';
export { containerdConfigDocument, renderContainerdConfig, DEFAULT_PAUSE_IMAGE, CRI_PLUGIN, type ContainerdConfigDocument } from './containerd-config.js';
export { STARTED_RECORD } from './containerd-service.js';
export { containerdUnit } from './containerd-unit.js';
export { containerdArtifact, runcArtifact, containerdSpec, runcSpec } from './components.js';
export { CONTAINERD_VERSIONS, RUNC_VERSIONS, DEFAULT_CONTAINERD_VERSION, DEFAULT_RUNC_VERSION } from './versions.js';
export { Paths, UNIT } from './paths.js';
export { usesApt, whenApt, whenRelease } from './source.js';
