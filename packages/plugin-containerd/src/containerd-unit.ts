import { renderUnitFile } from '@flexnode/sdk';
import { Paths } from './paths.js';

/**
 * containerd.service as upstream's tool writes it, after containerd's own unit: Type=notify (containerd
 * signals readiness), Delegate=yes (containerd manages the cgroups of its shims), KillMode=process (a restart
 * of containerd must not kill the running containers' shims), OOMScoreAdjust=-999 (the OOM killer takes pods
 * before the runtime), no accounting limits (they cost kernel time; pods are limited by their own cgroups).
 * ExecStartPre loads overlay, ignoring failure ("-"): on kernels with overlay built in there is no module.
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
