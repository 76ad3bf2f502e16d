import { proxyEnvironment, renderEnvironmentFile, renderUnitFile, type FlexnodeConfig } from '@flexnode/sdk';
import { Paths } from './paths.js';

/**
 * containerd.service as upstream's tool writes it, after containerd's own unit: Type=notify (containerd
 * signals readiness), Delegate=yes (containerd manages the cgroups of its shims), KillMode=process (a restart
 * of containerd must not kill the running containers' shims), OOMScoreAdjust=-999 (the OOM killer takes pods
 * before the runtime), no accounting limits (they cost kernel time; pods are limited by their own cgroups).
 * ExecStartPre loads overlay, ignoring failure ("-"): on kernels with overlay built in there is no module.
 * EnvironmentFile: the config's proxy, which containerd needs to pull images (the pause image first) at a site
 * where only the proxy reaches the registries.
 */
export function containerdUnit(): string {
  return renderUnitFile({
    comment: 'Written by flexnode (step containerd.service).',
    sections: {
      Unit: [
        ['Description', 'containerd container runtime'],
        ['Documentation', 'https://containerd.io'],
        ['After', 'network.target local-fs.target'],
      ],
      Service: [
        ['ExecStartPre', { command: ['/sbin/modprobe', 'overlay'], ignoreFailure: true }],
        ['EnvironmentFile', Paths.environmentFile],
        ['ExecStart', { command: [`${Paths.binDir}/containerd`] }],
        ['Type', 'notify'],
        ['Delegate', 'yes'],
        ['KillMode', 'process'],
        ['Restart', 'always'],
        ['RestartSec', 5],
        ['LimitNPROC', 'infinity'],
        ['LimitCORE', 'infinity'],
        ['LimitNOFILE', 'infinity'],
        ['TasksMax', 'infinity'],
        ['OOMScoreAdjust', -999],
      ],
      Install: [['WantedBy', 'multi-user.target']],
    },
  });
}

/**
 * containerd's proxy environment file (0600: a proxy URL may hold a password). Written even when empty, so a proxy
 * removed from the config is removed from containerd too.
 */
export function containerdEnvironmentFile(config: FlexnodeConfig): string {
  return renderEnvironmentFile(proxyEnvironment(config.proxy), 'Written by flexnode (step containerd.service): the proxy environment of containerd.service.');
}
