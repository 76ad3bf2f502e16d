import type { Host } from '@flexnode/sdk';

/**
 * Azure Arc is for machines outside Azure: Microsoft's installer (install_linux_azcmagent.sh, https://aka.ms/azcmagent)
 * refuses an Azure VM, which it detects by asking the instance metadata service at 169.254.169.254, unless
 * MSFT_ARC_TEST=true is in systemd's environment (https://aka.ms/azcmagent-testwarning). flexnode never probes that
 * address; it reads the same fact locally from DMI: every Azure VM carries this chassis asset tag ("MSFT AZURE VM"
 * in ASCII decimal), which is how cloud-init's Azure datasource (canonical/cloud-init
 * cloudinit/sources/azure/identity.py, ChassisAssetTag.AZURE_CLOUD) and Ubuntu Pro's cloud detection tell Azure.
 * sys_vendor "Microsoft Corporation" with product "Virtual Machine" alone is any Hyper-V guest (Azure Stack HCI,
 * an on-premises Hyper-V host: Arc's own targets), so it is not taken as proof.
 */
export const AZURE_CHASSIS_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';
export const DMI_ASSET_TAG = '/sys/class/dmi/id/chassis_asset_tag';
/** Microsoft's opt-out for testing Arc on an Azure VM, honoured the same way (logged, never silent). */
export const ARC_TEST_ENV = 'MSFT_ARC_TEST';

export interface AzureVmVerdict {
  azure: boolean;
  /** What was read, for messages. */
  evidence: string;
  /** True when the machine is an Azure VM and MSFT_ARC_TEST=true allows it anyway. */
  overridden: boolean;
}

/** Whether this machine is an Azure VM, from its DMI chassis asset tag (read through the Host). */
export async function azureVm(host: Host, env: NodeJS.ProcessEnv = process.env): Promise<AzureVmVerdict> {
  const tag = (await host.files.readText(DMI_ASSET_TAG).catch(() => undefined))?.trim();
  const azure = tag === AZURE_CHASSIS_ASSET_TAG;
  return {
    azure,
    evidence: tag === undefined ? `${DMI_ASSET_TAG} is not readable` : `${DMI_ASSET_TAG} is "${tag}"`,
    overridden: azure && env[ARC_TEST_ENV]?.toLowerCase() === 'true',
  };
}
