export { default as plugin } from './plugin.js';
export { kubeSysctl, KUBERNETES_SYSCTLS, SYSCTL_FILE, renderSysctlFile } from './os/sysctl.js';
export { kubeKernelModules, KUBERNETES_MODULES, MODULES_FILE } from './os/kernel-modules.js';
