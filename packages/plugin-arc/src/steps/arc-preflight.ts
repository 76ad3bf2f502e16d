import { FlexnodeError, isFlexnodeError, missing, ok, type CheckResult, type FlexnodeConfig, type Host, type StepInstance } from '@flexnode/sdk';
import { agentPackageSource } from '../agent-source.js';
import { locateAgent } from '../azcmagent.js';
import { hostname } from 'node:os';
import { arcPluginConfig } from '../plugin-config.js';
import { machineNameFromHostname } from '../settings.js';
import { ARC_TEST_ENV, AZURE_CHASSIS_ASSET_TAG, azureVm } from '../azure-vm.js';
import { readOsRelease } from '../os-release.js';

/** The operations of `arc.preflight` (declared in steps.ts): read-only, it only gates the run. */
export function arcPreflightOps({ host, config }: { host: Host; config: FlexnodeConfig }, hostName: () => string = hostname): StepInstance {
  // The plugin's settings, checked as its first step loads: config validate names a bad one, and bootstrap refuses
  // it before anything changes. So is the host name the Arc machine is named after when machineName is not set.
  arcPluginConfig(config);
  if (config.azure.arc?.machineName === undefined) machineNameFromHostname(hostName());
  /** The problem that stops a bootstrap, or a note for the check's detail. */
  const inspect = async (): Promise<{ problem?: FlexnodeError; notes: string[] }> => {
    const notes: string[] = [];
    const vm = await azureVm(host);
    if (vm.azure && !vm.overridden) {
      return {
        notes,
        problem: new FlexnodeError(
          'ARC_AZURE_VM',
          `this machine is an Azure virtual machine (${vm.evidence}): Azure Arc and flexnode are for machines outside Azure, and Microsoft's agent refuses to run here`,
          {
            hint: `join Azure VMs with an AKS node pool instead; to test Arc on an Azure VM anyway (Microsoft: https://aka.ms/azcmagent-testwarning), set ${ARC_TEST_ENV}=true in flexnode's environment`,
          },
        ),
      };
    }
    notes.push(vm.overridden ? `an Azure VM (DMI asset tag ${AZURE_CHASSIS_ASSET_TAG}), allowed by ${ARC_TEST_ENV}=true: for testing only` : 'not an Azure VM');
    // The agent's source matters only while the agent is missing: an unsupported release fails here, before any
    // change. Without os-release (a sandbox --root) the release is unknown: arc.agent resolves it, or says why not.
    const os = await readOsRelease(host);
    if (!os) notes.push('release unknown (no /etc/os-release): the agent source is resolved when it is installed');
    else if (!(await locateAgent(host))) {
      try {
        const source = agentPackageSource(config, os, host.arch);
        notes.push(source.kind === 'apt' ? `agent from ${source.repository.url} ${source.repository.suite}` : `agent source: ${source.kind}`);
      } catch (error) {
        if (isFlexnodeError(error)) return { notes, problem: error };
        throw error;
      }
    }
    return { notes };
  };

  const check = async (): Promise<CheckResult> => {
    const { problem, notes } = await inspect();
    return problem ? missing(problem.message) : ok(notes.join('; '));
  };

  return {
    check,
    install: async () => {
      const { problem } = await inspect();
      if (problem) throw problem;
    },
    uninstall: async () => {
      // Nothing to undo: preflight changes nothing.
    },
  };
}
