// The operations of plugin-kube's steps (steps.ts) and services (services.ts), loaded on first use: lib/lazy/impl.js
// in the bundle. One module for all of them: `status` loads every step, and each lazy file costs start-up time.
export { preflightOps } from './preflight/step.js';
export { versionSkewOps } from './skew/step.js';
export { networkOps } from './network/step.js';
export { kernelModulesOps } from './os/kernel-modules.js';
export { sysctlOps } from './os/sysctl.js';
export { swapOps } from './os/swap.js';
export { packagesOps } from './os/packages.js';
export { binariesArtifacts, binariesOps } from './binaries/step.js';
export { credentialsOps } from './cluster/credentials-step.js';
export { nodeBootstrapOps } from './bootstrap/step.js';
export { podCidrOps } from './network/pod-cidr-step.js';
export { kubeletOps } from './kubelet/step.js';
export { nodeOps } from './network/node-step.js';
export { proxyArtifacts, proxyOps } from './proxy/step.js';
export { podCidrs } from './network/pod-cidr-service.js';
export { nodeMaintenance } from './maintenance/service.js';
