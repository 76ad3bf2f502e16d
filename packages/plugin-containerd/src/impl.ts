// The operations of plugin-containerd's steps (steps.ts), loaded on first use: lib/lazy/impl.js in the bundle.
export { runcBinaryOps } from './runc-binary.js';
export { containerdBinariesOps } from './containerd-binaries.js';
export { containerdPackagesOps } from './containerd-packages.js';
export { containerdConfigOps } from './containerd-config.js';
export { containerdServiceOps } from './containerd-service.js';
export { containerdArtifact, runcArtifact } from './components.js';
